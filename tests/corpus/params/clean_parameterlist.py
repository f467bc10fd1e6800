# Near-miss: per-layer learnable scales in nn.ParameterList (a distillation adapter).
import torch
import torch.nn as nn


class ScaledAdapter(nn.Module):
    def __init__(self, n_layers, dim):
        super().__init__()
        self.scales = nn.ParameterList([nn.Parameter(torch.ones(dim)) for _ in range(n_layers)])
        self.proj = nn.Linear(dim, dim)

    def forward(self, x):
        for scale in self.scales:
            x = self.proj(x) * scale
        return x


def make():
    return ScaledAdapter(3, 4), torch.randn(2, 4)
