# Source: CS231n (Stanford), lecture 6 "Training Neural Networks I", weight initialisation:
# a 10-layer net of 500 tanh units with W = np.random.randn(fan_in, fan_out) * 1.0 —
# "almost all neurons completely saturated, either -1 and 1. Gradients will be all zero."
import torch
import torch.nn as nn


class TenLayerTanh(nn.Module):
    def __init__(self, width=500, depth=10):
        super().__init__()
        self.layers = nn.ModuleList([nn.Linear(width, width) for _ in range(depth)])
        for layer in self.layers:
            nn.init.normal_(layer.weight, mean=0.0, std=1.0)  # expect: GL102
            nn.init.zeros_(layer.bias)
        self.head = nn.Linear(width, 10)

    def forward(self, x):
        for layer in self.layers:
            x = torch.tanh(layer(x))
        return self.head(x)


def make():
    return TenLayerTanh(), torch.randn(256, 500)
