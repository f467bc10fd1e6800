"""Near-miss: the PyTorch-GAN loop with both optimisers zeroed by name."""
import torch
import torch.nn as nn


def train(generator, discriminator, dataloader, latent_dim=100):
    adversarial_loss = nn.BCEWithLogitsLoss()
    optimizer_G = torch.optim.Adam(generator.parameters(), lr=2e-4)
    optimizer_D = torch.optim.Adam(discriminator.parameters(), lr=2e-4)
    for imgs, _ in dataloader:
        valid, fake = torch.ones(imgs.size(0), 1), torch.zeros(imgs.size(0), 1)
        optimizer_G.zero_grad()
        gen_imgs = generator(torch.randn(imgs.shape[0], latent_dim))
        g_loss = adversarial_loss(discriminator(gen_imgs), valid)
        g_loss.backward()
        optimizer_G.step()
        optimizer_D.zero_grad()
        d_loss = (adversarial_loss(discriminator(imgs), valid) + adversarial_loss(discriminator(gen_imgs.detach()), fake)) / 2
        d_loss.backward()
        optimizer_D.step()
