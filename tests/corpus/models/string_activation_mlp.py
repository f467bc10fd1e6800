# expect-model: GL101
import torch
import torch.nn as nn

INPUT_SHAPE = (128, 10)


def get_activation(name):
    if name == "relu":
        return nn.ReLU()
    elif name == "tanh":
        return nn.Tanh()
    elif name == "gelu":
        return nn.GELU()
    raise ValueError(f"unknown activation {name}")


class PINN(nn.Module):
    """Physics-informed net: tanh is the usual choice because the residual needs smooth derivatives."""

    def __init__(self, in_dim=10, width=64, depth=18, activation="tanh"):
        super().__init__()
        self.input_layer = nn.Linear(in_dim, width)
        self.hidden = nn.ModuleList([nn.Linear(width, width) for _ in range(depth - 1)])
        self.act = get_activation(activation)
        self.output_layer = nn.Linear(width, 1)

    def forward(self, x):
        h = self.act(self.input_layer(x))
        for layer in self.hidden:
            h = self.act(layer(h))
        return self.output_layer(h)


def build():
    return PINN()
