# Near-miss: the work-around from pytorch/pytorch#715: each module registered with add_module
# and also kept in a list for iteration.
import torch
import torch.nn as nn


class SNLINet(nn.Module):
    def __init__(self, n_layers, n_hid):
        super().__init__()
        self.hids = []
        for li in range(n_layers):
            layer = nn.Linear(n_hid, n_hid)
            self.add_module("hid_%d" % li, layer)
            self.hids.append(layer)
        self.classifier = nn.Linear(n_hid, 3)

    def forward(self, x):
        for layer in self.hids:
            x = torch.tanh(layer(x))
        return self.classifier(x)


def make():
    return SNLINet(2, 16), torch.randn(4, 16)
