# expect-model: GL201
import torch
import torch.nn as nn

INPUT_SHAPE = (64, 24)


class SensorEncoder(nn.Module):
    def __init__(self, n_in=24, n_hidden=48, n_code=8):
        super().__init__()
        self.l1 = nn.Linear(n_in, n_hidden, bias=False)
        self.l2 = nn.Linear(n_hidden, n_hidden, bias=False)
        self.code = nn.Linear(n_hidden, n_code)
        with torch.no_grad():
            for lin in (self.l1, self.l2):
                nn.init.ones_(lin.weight)
                lin.weight.mul_(0.02)

    def forward(self, x):
        h = torch.tanh(self.l1(x))
        h = torch.tanh(self.l2(h))
        return self.code(h)


def build():
    return SensorEncoder()
