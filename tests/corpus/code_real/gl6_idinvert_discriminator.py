"""In-domain GAN inversion: the encoder's optimiser is zeroed each step, the discriminator's
never. After Hsintien-Ng/idinvert_pytorch-reproduced issue #1 ("You're right. Sorry I forgot
to add it. I have fixed it.")."""
import torch
import torch.nn.functional as F


def training_loop_encoder(E, G, D, loader, lr=1e-4, d_lr=1e-4, epochs=10):
    optimizer_E = torch.optim.Adam(E.parameters(), lr=lr, betas=(0.9, 0.99))
    optimizer_D = torch.optim.Adam(D.parameters(), lr=d_lr, betas=(0.9, 0.99))
    for epoch in range(epochs):
        for x in loader:
            w = E(x)
            x_rec = G(w)
            # update the discriminator
            loss_real = F.softplus(-D(x)).mean()
            loss_fake = F.softplus(D(x_rec.detach())).mean()
            loss_d = loss_real + loss_fake
            loss_d.backward()
            optimizer_D.step()  # expect: GL601
            # update the encoder
            optimizer_E.zero_grad()
            loss_e = F.mse_loss(x_rec, x) + 0.1 * F.softplus(-D(x_rec)).mean()
            loss_e.backward()
            optimizer_E.step()
