# expect-model: GL101
import torch
import torch.nn as nn

INPUT_SHAPE = (128, 64)


class FunctionalSigmoidMLP(nn.Module):
    def __init__(self, d_in=64, d_hidden=256, n_hidden=6, d_out=8):
        super().__init__()
        self.layers = nn.ModuleList()
        d = d_in
        for _ in range(n_hidden):
            self.layers.append(nn.Linear(d, d_hidden))
            d = d_hidden
        self.head = nn.Linear(d, d_out)

    def forward(self, x):
        for layer in self.layers:
            x = torch.sigmoid(layer(x))
        return self.head(x)


def build():
    return FunctionalSigmoidMLP()
