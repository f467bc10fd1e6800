# Source: https://github.com/pytorch/pytorch/issues/666
# Confirmed: print(net) lists only `layer`; the layers of list_of_layers are not parameters
# (maintainer: "This behaviour is expected").
import torch
import torch.nn as nn


class net(nn.Module):
    def __init__(self, num_layers):
        super().__init__()
        self.layer = nn.Linear(1, 1)
        self.list_of_layers = [nn.Linear(1, 1) for i in range(num_layers)]  # expect: GL701

    def forward(self, x):
        x = self.layer(x)
        for layer in self.list_of_layers:
            x = layer(x)
        return x


def make():
    return net(4), torch.randn(8, 1)
