# Near-miss: a lazy layer, and a projection built once on first use (before the optimiser,
# after a dry run), as torch.nn.LazyLinear documents.
import torch
import torch.nn as nn


class Adaptive(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.LazyLinear(8)
        self.proj = None

    def forward(self, x):
        if self.proj is None:
            self.proj = nn.Linear(8, 4)
        return self.proj(torch.relu(self.fc(x)))


def make():
    model = Adaptive()
    model(torch.randn(1, 5))  # the dry run that materialises the lazy and cached layers
    return model, torch.randn(3, 5)
