# expect-model: GL301
import torch
import torch.nn as nn

INPUT_SHAPE = (256, 8)


class LogDensity(nn.Module):
    def __init__(self, dim=8, width=256, n_hidden=48):
        super().__init__()
        self.first = nn.Linear(dim, width)
        self.hidden = nn.ModuleList()
        for _ in range(n_hidden - 1):
            self.hidden.append(nn.Linear(width, width))
        self.last = nn.Linear(width, 1)
        self.activation = nn.Softplus(beta=1.0)
        self._reset()

    def _reset(self):
        for lin in [self.first, *self.hidden, self.last]:
            nn.init.kaiming_uniform_(lin.weight, nonlinearity="relu")
            nn.init.zeros_(lin.bias)

    def forward(self, x):
        h = self.activation(self.first(x))
        for lin in self.hidden:
            h = self.activation(lin(h))
        return self.last(h)
 

def build():
    return LogDensity()
