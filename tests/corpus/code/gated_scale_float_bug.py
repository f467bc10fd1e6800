import torch
import torch.nn as nn
import torch.nn.functional as F


class AdaptiveMix(nn.Module):
    """Mixes a local and a global branch with a data-dependent gate."""

    def __init__(self, dim=64):
        super().__init__()
        self.local = nn.Conv1d(dim, dim, 3, padding=1)
        self.global_fc = nn.Linear(dim, dim)
        self.gate = nn.Linear(dim, 1)
        self.temperature = nn.Linear(dim, 1)
        self.out = nn.Linear(dim, dim)

    def forward(self, x):
        # x: (batch, length, dim)
        loc = self.local(x.transpose(1, 2)).transpose(1, 2)
        glob = self.global_fc(x.mean(1, keepdim=True))
        g = float(torch.sigmoid(self.gate(x.mean(1))).mean())  # expect: GL503
        t = torch.tensor(F.softplus(self.temperature(x.mean(1))).mean() + 1.0)  # expect: GL503
        mixed = g * loc + (1 - g) * glob
        return self.out(mixed / t)


def build():
    return AdaptiveMix(dim=8), (torch.randn(2, 5, 8),)
