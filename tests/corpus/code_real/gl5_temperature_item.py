"""Contrastive head with a learned log-temperature read with .item() in forward.
Measured: the temperature parameter gets no gradient."""
import math

import torch
import torch.nn as nn


class ContrastiveHead(nn.Module):
    def __init__(self, dim=32):
        super().__init__()
        self.proj = nn.Linear(dim, dim)
        self.log_tau = nn.Parameter(torch.tensor(math.log(0.07)))

    def forward(self, a, b):
        za = nn.functional.normalize(self.proj(a), dim=-1)
        zb = nn.functional.normalize(self.proj(b), dim=-1)
        tau = self.log_tau.exp().item()  # expect: GL503
        return za @ zb.t() / tau


def build():
    return ContrastiveHead(), (torch.randn(3, 32), torch.randn(3, 32))
