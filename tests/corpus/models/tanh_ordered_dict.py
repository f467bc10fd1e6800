# expect-model: GL101
from collections import OrderedDict

import torch
import torch.nn as nn

INPUT_SHAPE = (256, 32)


class TanhRegressor(nn.Module):
    """16 tanh layers, named fc0..fc15 so checkpoints stay readable."""

    def __init__(self, n_in=32, n_hidden=128, n_layers=16, n_out=1):
        super().__init__()
        sizes = [n_in] + [n_hidden] * n_layers
        self.features = nn.Sequential(
            OrderedDict(
                [
                    item
                    for i in range(n_layers)
                    for item in ((f"fc{i}", nn.Linear(sizes[i], sizes[i + 1])), (f"tanh{i}", nn.Tanh()))
                ]
            )
        )
        self.out = nn.Linear(n_hidden, n_out)

    def forward(self, x):
        return self.out(self.features(x)).squeeze(-1)


def build():
    return TanhRegressor()
