# expect-model: none
import torch
import torch.nn as nn

INPUT_SHAPE = (128, 64)


class Swish(nn.Module):
    def forward(self, x):
        return x * torch.sigmoid(x)


class SwishMLP(nn.Module):
    def __init__(self, d_in=64, d_hidden=256, d_out=10):
        super().__init__()
        self.net = nn.Sequential(
            nn.Linear(d_in, d_hidden), Swish(),
            nn.Linear(d_hidden, d_hidden), Swish(),
            nn.Linear(d_hidden, d_hidden), Swish(),
            nn.Linear(d_hidden, d_out),
        )

    def forward(self, x):
        return self.net(x)


def build():
    return SwishMLP()
