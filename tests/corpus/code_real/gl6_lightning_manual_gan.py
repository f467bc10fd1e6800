"""LightningModule with manual optimisation for a GAN: the generator's optimiser is zeroed in
each training_step, the discriminator's never (Lightning calls training_step once per batch
and, with automatic_optimization off, clears nothing itself)."""
import torch
import torch.nn.functional as F
import pytorch_lightning as pl


class GAN(pl.LightningModule):
    def __init__(self, generator, discriminator, latent_dim=100):
        super().__init__()
        self.automatic_optimization = False
        self.generator, self.discriminator = generator, discriminator
        self.latent_dim = latent_dim

    def training_step(self, batch, batch_idx):
        imgs, _ = batch
        opt_g, opt_d = self.optimizers()
        z = torch.randn(imgs.shape[0], self.latent_dim).type_as(imgs)
        fake = self.generator(z)
        opt_g.zero_grad()
        g_loss = F.binary_cross_entropy_with_logits(self.discriminator(fake), torch.ones(imgs.size(0), 1).type_as(imgs))
        self.manual_backward(g_loss)
        opt_g.step()
        real_loss = F.binary_cross_entropy_with_logits(self.discriminator(imgs), torch.ones(imgs.size(0), 1).type_as(imgs))
        fake_loss = F.binary_cross_entropy_with_logits(self.discriminator(fake.detach()), torch.zeros(imgs.size(0), 1).type_as(imgs))
        self.manual_backward((real_loss + fake_loss) / 2)
        opt_d.step()  # expect: GL601

    def configure_optimizers(self):
        opt_g = torch.optim.Adam(self.generator.parameters(), lr=2e-4, betas=(0.5, 0.999))
        opt_d = torch.optim.Adam(self.discriminator.parameters(), lr=2e-4, betas=(0.5, 0.999))
        return [opt_g, opt_d]
