# Near-miss: a plain list of layers handed to nn.Sequential(*layers), as most MLP builders do.
import torch
import torch.nn as nn


class MLP(nn.Module):
    def __init__(self, sizes):
        super().__init__()
        layers = []
        for a, b in zip(sizes[:-1], sizes[1:]):
            layers.append(nn.Linear(a, b))
            layers.append(nn.ReLU())
        self.layers = layers[:-1]
        self.net = nn.Sequential(*self.layers)

    def forward(self, x):
        return self.net(x)


def make():
    return MLP([6, 8, 3]), torch.randn(4, 6)
