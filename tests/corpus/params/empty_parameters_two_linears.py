# Source: https://www.engineermaxxing.com/micro/lessons/pytorch-internals.html
# Confirmed: `print(list(model.parameters()))` prints `[]`; the optimiser sees nothing.
import torch
import torch.nn as nn


class MyModel(nn.Module):
    def __init__(self):
        super().__init__()
        self.layers = [nn.Linear(64, 32), nn.Linear(32, 10)]  # expect: GL701
        self.scale = nn.Parameter(torch.ones(10))

    def forward(self, x):
        for layer in self.layers:
            x = layer(x)
        return x * self.scale


def make():
    return MyModel(), torch.randn(2, 64)
