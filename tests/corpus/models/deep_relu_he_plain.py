# expect-model: none
import torch
import torch.nn as nn

INPUT_SHAPE = (128, 64)


class PlainHeMLP(nn.Module):
    """20 ReLU layers, no normalisation, no skips, He init: deep but trainable from the start."""

    def __init__(self, in_features=64, hidden=256, depth=20, out_features=10):
        super().__init__()
        layers = []
        for i in range(depth):
            linear = nn.Linear(in_features if i == 0 else hidden, hidden)
            nn.init.kaiming_normal_(linear.weight, mode="fan_in", nonlinearity="relu")
            nn.init.zeros_(linear.bias)
            layers += [linear, nn.ReLU()]
        layers.append(nn.Linear(hidden, out_features))
        self.net = nn.Sequential(*layers)

    def forward(self, x):
        return self.net(x)


def build():
    return PlainHeMLP()
