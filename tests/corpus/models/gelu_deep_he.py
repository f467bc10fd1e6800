# expect-model: none
import torch
import torch.nn as nn

INPUT_SHAPE = (128, 64)


class DeepGELU(nn.Module):
    def __init__(self, d_in=64, d=256, n=64, d_out=10):
        super().__init__()
        self.fcs = nn.ModuleList([nn.Linear(d_in, d)] + [nn.Linear(d, d) for _ in range(n - 1)])
        self.proj = nn.Linear(d, d_out)
        self.apply(self._init)

    @staticmethod
    def _init(m):
        if isinstance(m, nn.Linear):
            nn.init.kaiming_uniform_(m.weight, nonlinearity="relu")
            nn.init.zeros_(m.bias)

    def forward(self, x):
        for fc in self.fcs:
            x = nn.functional.gelu(fc(x))
        return self.proj(x)


def build():
    return DeepGELU()
