# expect-model: none
import torch
import torch.nn as nn

INPUT_SHAPE = (128, 64)


class HighwayLayer(nn.Module):
    def __init__(self, size, gate_bias=-2.0):
        super().__init__()
        self.H = nn.Linear(size, size)
        self.T = nn.Linear(size, size)
        self.T.bias.data.fill_(gate_bias)

    def forward(self, x):
        h = torch.relu(self.H(x))
        t = torch.sigmoid(self.T(x))
        return h * t + x * (1 - t)


class HighwayNet(nn.Module):
    def __init__(self, in_dim=64, size=128, n_layers=20, n_out=10):
        super().__init__()
        self.inp = nn.Linear(in_dim, size)
        self.highways = nn.ModuleList([HighwayLayer(size) for _ in range(n_layers)])
        self.out = nn.Linear(size, n_out)

    def forward(self, x):
        x = self.inp(x)
        for layer in self.highways:
            x = layer(x)
        return self.out(x)


def build():
    return HighwayNet()
