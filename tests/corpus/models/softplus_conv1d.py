# expect-model: GL301
import torch
import torch.nn as nn


class SignalNet(nn.Module):
    """1-D conv stack over a short signal; softplus keeps the outputs positive."""

    def __init__(self, channels=32, kernel=5, n_layers=40):
        super().__init__()
        layers = [nn.Conv1d(1, channels, kernel, padding=kernel // 2), nn.Softplus()]
        for _ in range(n_layers - 1):
            layers.append(nn.Conv1d(channels, channels, kernel, padding=kernel // 2))
            layers.append(nn.Softplus())
        self.net = nn.Sequential(*layers)
        self.readout = nn.Conv1d(channels, 1, 1)

    def forward(self, x):
        return self.readout(self.net(x))


def build():
    return SignalNet(), torch.randn(16, 1, 32)
