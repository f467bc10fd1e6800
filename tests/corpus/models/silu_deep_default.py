# expect-model: GL203
import torch
import torch.nn as nn
import torch.nn.functional as F

INPUT_SHAPE = (96, 48)


class DeepSiLURegressor(nn.Module):
    def __init__(self, n_inputs=48, width=192, n_layers=40):
        super().__init__()
        self.inp = nn.Linear(n_inputs, width)
        self.hidden = nn.ModuleList([nn.Linear(width, width) for _ in range(n_layers - 1)])
        self.out = nn.Linear(width, 1)

    def forward(self, x):
        x = F.silu(self.inp(x))
        for h in self.hidden:
            x = F.silu(h(x))
        return self.out(x)


def build():
    return DeepSiLURegressor()
