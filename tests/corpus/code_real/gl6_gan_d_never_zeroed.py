"""A GAN loop that clears the generator's optimiser but never the discriminator's: the
discriminator's gradients pile up over every iteration. Held-out report kind: "several
optimisers are stepped and only some are zeroed"."""
import torch
import torch.nn as nn


def train(generator, discriminator, dataloader, latent_dim=100, n_epochs=200):
    adversarial_loss = nn.BCEWithLogitsLoss()
    optimizer_G = torch.optim.Adam(generator.parameters(), lr=2e-4, betas=(0.5, 0.999))
    optimizer_D = torch.optim.Adam(discriminator.parameters(), lr=2e-4, betas=(0.5, 0.999))
    for epoch in range(n_epochs):
        for i, (imgs, _) in enumerate(dataloader):
            valid = torch.ones(imgs.size(0), 1)
            fake = torch.zeros(imgs.size(0), 1)
            optimizer_G.zero_grad()
            z = torch.randn(imgs.shape[0], latent_dim)
            gen_imgs = generator(z)
            g_loss = adversarial_loss(discriminator(gen_imgs), valid)
            g_loss.backward()
            optimizer_G.step()
            real_loss = adversarial_loss(discriminator(imgs), valid)
            fake_loss = adversarial_loss(discriminator(gen_imgs.detach()), fake)
            d_loss = (real_loss + fake_loss) / 2
            d_loss.backward()
            optimizer_D.step()  # expect: GL601
