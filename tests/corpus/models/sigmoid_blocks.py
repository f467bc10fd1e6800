# expect-model: GL101
import torch
import torch.nn as nn

from blocks import LinearAct

INPUT_SHAPE = (128, 100)


class StackedLinearAct(nn.Module):
    def __init__(self, in_dim=100, hidden=128, n_blocks=9, out_dim=10):
        super().__init__()
        self.blocks = nn.ModuleList(
            [LinearAct(in_dim if i == 0 else hidden, hidden) for i in range(n_blocks)]
        )
        self.out = nn.Linear(hidden, out_dim)

    def forward(self, x):
        for block in self.blocks:
            x = block(x)
        return self.out(x)


def build():
    return StackedLinearAct()
