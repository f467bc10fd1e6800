# Source: https://math.techqa.club/are-relu-a-very-bad-choice-as-last-layer-for-regression-4483706
# Confirmed: the thread works the gradient out, d(o)/d(a) = 0 for a negative pre-activation,
# so a single output unit that starts negative for every sample never learns; the network the
# question describes (a = Wx + b, o = ReLU(a), squared error on positive targets) as PyTorch.
import torch
import torch.nn as nn
import torch.nn.functional as F


class HousePriceNet(nn.Module):
    def __init__(self, features=13, hidden=64):
        super().__init__()
        self.hidden = nn.Linear(features, hidden)
        self.out = nn.Linear(hidden, 1)

    def forward(self, x):
        x = F.relu(self.hidden(x))
        return F.relu(self.out(x))  # expect: GL104


def make():
    return HousePriceNet(), torch.randn(256, 13)
