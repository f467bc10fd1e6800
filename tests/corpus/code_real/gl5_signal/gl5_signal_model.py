"""A 1-D denoiser that smooths its hidden signal with the project's numpy helper (another file).
The maintainers of ligerlac/torchlogix (PR #17): "you should not convert torch tensors to numpy
arrays and back as it breaks the computational graph". Measured: encoder gets no gradient."""
import torch
import torch.nn as nn

from gl5_signal.gl5_signal_filters import rescale, smooth


class Denoiser(nn.Module):
    def __init__(self, channels=8):
        super().__init__()
        self.encoder = nn.Conv1d(1, channels, 5, padding=2)
        self.decoder = nn.Conv1d(channels, 1, 5, padding=2)

    def forward(self, x):
        h = torch.relu(self.encoder(x))
        h = smooth(h)  # expect: GL503
        return self.decoder(rescale(h))


def build():
    return Denoiser(), (torch.randn(2, 1, 32),)
