# expect-model: none
import torch
import torch.nn as nn

INPUT_SHAPE = (128, 64)


class XavierTanhNet(nn.Module):
    """16 tanh layers, initialised for tanh: Xavier with gain 5/3 and zero biases."""

    def __init__(self, n_in=64, n_hidden=256, n_layers=16, n_out=10):
        super().__init__()
        self.hidden = nn.ModuleList()
        for i in range(n_layers):
            self.hidden.append(nn.Linear(n_in if i == 0 else n_hidden, n_hidden))
        self.out = nn.Linear(n_hidden, n_out)
        gain = nn.init.calculate_gain("tanh")
        for layer in self.hidden:
            nn.init.xavier_normal_(layer.weight, gain=gain)
            nn.init.zeros_(layer.bias)

    def forward(self, x):
        for layer in self.hidden:
            x = torch.tanh(layer(x))
        return self.out(x)


def build():
    return XavierTanhNet()
