# Source: https://github.com/pytorch/pytorch/issues/38639 (from the forum thread
# "is-it-mandatory-to-add-modules-to-modulelist-to-access-its-parameters")
# Confirmed: "as soon as you add any module to a python list the parameters of that module
# get invisible and hence can't be seen by the optimizer".
import torch
import torch.nn as nn


class Net(nn.Module):
    def __init__(self, sizes):
        super().__init__()
        self.linears = [nn.Linear(a, b) for a, b in zip(sizes[:-1], sizes[1:])]  # expect: GL701

    def forward(self, x):
        for linear in self.linears[:-1]:
            x = torch.relu(linear(x))
        return self.linears[-1](x)


def make():
    return Net([5, 8, 2]), torch.randn(4, 5)
