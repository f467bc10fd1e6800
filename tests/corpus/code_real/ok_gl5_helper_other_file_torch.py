"""Near-miss: a helper of another file of the project that stays in torch (rescale)."""
import torch
import torch.nn as nn

from gl5_signal.gl5_signal_filters import rescale


class Scaled(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv1d(1, 4, 3, padding=1)

    def forward(self, x):
        return rescale(self.conv(x), 0.25)


def build():
    return Scaled(), (torch.randn(2, 1, 16),)
