# expect-model: GL301
import torch
import torch.nn as nn

INPUT_SHAPE = (128, 16)


class EnergyNet(nn.Module):
    """Smooth energy model: softplus keeps second derivatives nonzero."""

    def __init__(self, dim=16, hidden=128, depth=44):
        super().__init__()
        layers = []
        d = dim
        for _ in range(depth):
            layers += [nn.Linear(d, hidden), nn.Softplus()]
            d = hidden
        layers.append(nn.Linear(d, 1))
        self.energy = nn.Sequential(*layers)

    def forward(self, x):
        return self.energy(x)


def build():
    return EnergyNet()
