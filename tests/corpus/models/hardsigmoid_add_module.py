# expect-model: GL101
import torch
import torch.nn as nn

INPUT_SHAPE = (128, 40)


class GatedScoreNet(nn.Module):
    def __init__(self, n_features=40, hidden=160, n_layers=8):
        super().__init__()
        self.net = nn.Sequential()
        dim = n_features
        for i in range(n_layers):
            self.net.add_module(f"linear_{i}", nn.Linear(dim, hidden))
            self.net.add_module(f"hsig_{i}", nn.Hardsigmoid())
            dim = hidden
        self.net.add_module("score", nn.Linear(dim, 1))

    def forward(self, x):
        return self.net(x)


def build():
    return GatedScoreNet()
