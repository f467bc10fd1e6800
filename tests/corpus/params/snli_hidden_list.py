# Source: https://github.com/pytorch/pytorch/issues/715
# Confirmed: the maintainer answers that modules in a list are not registered ("that is
# expected"); the reporter's classifier was the only parameter listed.
import torch
import torch.nn as nn


class SNLINet(nn.Module):
    def __init__(self, options):
        super().__init__()
        self.hids = []  # expect: GL701
        for li in range(options["n_layers"]):
            self.hids.append([nn.Linear(options["n_hid"], options["n_hid"]), nn.Tanh()])
        self.classifier = nn.Linear(options["n_hid"], 3)

    def forward(self, x):
        for linear, act in self.hids:
            x = act(linear(x))
        return self.classifier(x)


def make():
    return SNLINet({"n_layers": 2, "n_hid": 16}), torch.randn(4, 16)
