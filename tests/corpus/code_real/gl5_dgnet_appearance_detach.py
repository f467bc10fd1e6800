"""Appearance encoder whose code is detached before the decoder in the id network (after
NVlabs/DG-Net issue #59, ft_netAB: "f = f.detach()", the reconstruction losses cannot reach
the appearance encoder). Measured: the appearance encoder gets no gradient."""
import torch
import torch.nn as nn


class AppearanceDecoder(nn.Module):
    def __init__(self, dim=32):
        super().__init__()
        self.appearance = nn.Sequential(nn.Linear(64, dim), nn.ReLU())
        self.structure = nn.Linear(64, dim)
        self.decoder = nn.Linear(2 * dim, 64)

    def forward(self, x_a, x_s):
        f = self.appearance(x_a)
        f = f.detach()  # expect: GL501
        s = self.structure(x_s)
        return self.decoder(torch.cat([f, s], dim=1))


def build():
    return AppearanceDecoder(), (torch.randn(2, 64), torch.randn(2, 64))
