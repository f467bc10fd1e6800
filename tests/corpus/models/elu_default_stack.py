# expect-model: GL203
import torch
import torch.nn as nn
import torch.nn.functional as F

INPUT_SHAPE = (128, 64)


class ELUNet(nn.Module):
    def __init__(self, sizes=(64,) + (256,) * 16 + (10,)):
        super().__init__()
        self.linears = nn.ModuleList(nn.Linear(a, b) for a, b in zip(sizes[:-1], sizes[1:]))

    def forward(self, x):
        *hidden, last = self.linears
        for lin in hidden:
            x = F.elu(lin(x))
        return last(x)


def build():
    return ELUNet()
