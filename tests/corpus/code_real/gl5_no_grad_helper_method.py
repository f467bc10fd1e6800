"""Pooling done by a method of the class under torch.no_grad() (copied from inference code),
after the projection. Measured: the projection gets no gradient."""
import torch
import torch.nn as nn


class SetEncoder(nn.Module):
    def __init__(self, dim=16):
        super().__init__()
        self.proj = nn.Linear(dim, dim)
        self.out = nn.Linear(dim, 1)

    def pool(self, h):
        with torch.no_grad():  # expect: GL502
            weights = torch.softmax(h.sum(-1), dim=1)
            return (weights.unsqueeze(-1) * h).sum(1)

    def forward(self, x):
        h = torch.relu(self.proj(x))
        return self.out(self.pool(h))


def build():
    return SetEncoder(), (torch.randn(2, 5, 16),)
