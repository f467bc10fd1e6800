# Source: https://github.com/line/open-universe/issues/5
# Confirmed: the maintainer replied "it looks like the parameters of the mpd are never
# optimized": params_disc lists loss_mrd twice and loss_mpd never.
import torch
import torch.nn as nn
import torch.nn.functional as F


class Discriminator(nn.Module):
    def __init__(self, width):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(16, width), nn.LeakyReLU(0.1), nn.Linear(width, 1))

    def forward(self, x):
        return self.net(x)


class UniverseGAN(nn.Module):
    def __init__(self):
        super().__init__()
        self.generator = nn.Sequential(nn.Linear(16, 32), nn.Tanh(), nn.Linear(32, 16))
        self.loss_mrd = Discriminator(24)
        self.loss_mpd = Discriminator(32)

    def forward(self, x):
        return self.generator(x)


def train(model: UniverseGAN, example):
    params_disc = list(model.loss_mrd.parameters()) + list(model.loss_mrd.parameters())
    opt_disc = torch.optim.AdamW(params_disc, lr=2e-4)  # expect: GL704
    opt_gen = torch.optim.AdamW(model.generator.parameters(), lr=2e-4)
    for real in [example]:
        fake = model.generator(real)
        opt_disc.zero_grad()
        loss_disc = (
            F.softplus(-model.loss_mrd(real)).mean()
            + F.softplus(model.loss_mrd(fake.detach())).mean()
            + F.softplus(-model.loss_mpd(real)).mean()
            + F.softplus(model.loss_mpd(fake.detach())).mean()
        )
        loss_disc.backward()
        opt_disc.step()
        opt_gen.zero_grad()
        loss_gen = F.softplus(-model.loss_mrd(fake)).mean() + F.softplus(-model.loss_mpd(fake)).mean()
        loss_gen.backward()
        opt_gen.step()


def make():
    return UniverseGAN(), torch.randn(4, 16)
