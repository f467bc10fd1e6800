"""Mixture with a learned global gate turned into a Python float before it scales the branches.
Measured: the gate gets no gradient."""
import torch
import torch.nn as nn


class GatedMix(nn.Module):
    def __init__(self, dim=32):
        super().__init__()
        self.gate = nn.Linear(dim, 1)
        self.a = nn.Linear(dim, dim)
        self.b = nn.Linear(dim, dim)

    def forward(self, x):
        g = float(torch.sigmoid(self.gate(x)).mean())  # expect: GL503
        return g * self.a(x) + (1 - g) * self.b(x)


def build():
    return GatedMix(), (torch.randn(2, 32),)
