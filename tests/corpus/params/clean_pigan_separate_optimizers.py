# Near-miss: pi-GAN's train.py (https://github.com/marcoamonteiro/pi-GAN/issues/8): the
# generator's loss reaches the discriminator, whose own optimiser steps it on its own loss.
import torch
import torch.nn as nn
import torch.nn.functional as F


class Generator(nn.Module):
    def __init__(self):
        super().__init__()
        self.mlp = nn.Sequential(nn.Linear(4, 16), nn.ReLU(), nn.Linear(16, 8))

    def forward(self, z):
        return self.mlp(z)


class Discriminator(nn.Module):
    def __init__(self):
        super().__init__()
        self.mlp = nn.Sequential(nn.Linear(8, 16), nn.LeakyReLU(0.2), nn.Linear(16, 1))

    def forward(self, x):
        return self.mlp(x)


class Pair(nn.Module):
    def __init__(self):
        super().__init__()
        self.generator = Generator()
        self.discriminator = Discriminator()

    def forward(self, z):
        return self.discriminator(self.generator(z))


def train(model: Pair, example):
    optimizer_G = torch.optim.Adam(model.generator.parameters(), lr=2e-5, betas=(0.0, 0.9))
    optimizer_D = torch.optim.Adam(model.discriminator.parameters(), lr=2e-4, betas=(0.0, 0.9))
    for real in [example]:
        z = torch.randn(real.size(0), 4)
        with torch.no_grad():
            gen_imgs = model.generator(z)
        d_loss = F.softplus(model.discriminator(gen_imgs)).mean()
        d_loss = d_loss + F.softplus(-model.discriminator(real)).mean()
        optimizer_D.zero_grad()
        d_loss.backward()
        optimizer_D.step()
        g_loss = F.softplus(-model.discriminator(model.generator(z))).mean()
        optimizer_G.zero_grad()
        g_loss.backward()
        optimizer_G.step()


def make():
    return Pair(), torch.randn(4, 8)
