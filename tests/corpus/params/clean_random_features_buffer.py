# Near-miss: fixed random Fourier features registered as a buffer (Tancik et al. style).
import math

import torch
import torch.nn as nn


class FourierFeatures(nn.Module):
    def __init__(self, in_dim=2, n=16, scale=10.0):
        super().__init__()
        self.register_buffer("B", torch.randn(in_dim, n) * scale)
        self.mlp = nn.Sequential(nn.Linear(2 * n, 16), nn.ReLU(), nn.Linear(16, 3))

    def forward(self, x):
        proj = 2 * math.pi * x @ self.B
        return self.mlp(torch.cat([proj.sin(), proj.cos()], -1))


def make():
    return FourierFeatures(), torch.rand(5, 2)
