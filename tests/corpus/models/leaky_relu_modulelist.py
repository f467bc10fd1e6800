# expect-model: GL203
import torch
import torch.nn as nn

INPUT_SHAPE = (128, 32)


class Discriminator(nn.Module):
    def __init__(self, in_dim=32, hidden=256, n_layers=16):
        super().__init__()
        self.layers = nn.ModuleList([nn.Linear(in_dim, hidden)])
        self.layers.extend(nn.Linear(hidden, hidden) for _ in range(n_layers - 1))
        self.act = nn.LeakyReLU(0.2)
        self.final = nn.Linear(hidden, 1)

    def forward(self, x):
        for layer in self.layers:
            x = self.act(layer(x))
        return self.final(x)


def build():
    return Discriminator()
