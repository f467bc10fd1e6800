# expect-model: none
import torch
import torch.nn as nn

INPUT_SHAPE = (128, 64)


class NormalizedTanhMLP(nn.Module):
    """The same depth as a plain 16-layer tanh MLP, with LayerNorm before every tanh."""

    def __init__(self, d_in=64, d_hidden=256, depth=16, d_out=10):
        super().__init__()
        layers = []
        d = d_in
        for _ in range(depth):
            layers += [nn.Linear(d, d_hidden), nn.LayerNorm(d_hidden), nn.Tanh()]
            d = d_hidden
        self.body = nn.Sequential(*layers)
        self.head = nn.Linear(d, d_out)

    def forward(self, x):
        return self.head(self.body(x))


def build():
    return NormalizedTanhMLP()
