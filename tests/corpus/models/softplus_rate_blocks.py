# expect-model: GL301
import torch
import torch.nn as nn

from blocks import LinearAct

INPUT_SHAPE = (128, 12)


class IntensityNet(nn.Module):
    """Event-rate model: every hidden layer is softplus so the rate stays smooth and positive."""

    def __init__(self, n_covariates=12, hidden=160, n_layers=40):
        super().__init__()
        dims = [n_covariates] + [hidden] * n_layers
        self.layers = nn.Sequential(
            *[LinearAct(a, b, activation=nn.Softplus) for a, b in zip(dims[:-1], dims[1:])]
        )
        self.rate = nn.Linear(hidden, 1)

    def forward(self, x):
        return nn.functional.softplus(self.rate(self.layers(x)))


def build():
    return IntensityNet()
