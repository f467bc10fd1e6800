# Source: public GitHub code (code search, file id 57449196085), the NeuralDbg benchmark's
# "dead_bias" bug: `nn.init.constant_(m.bias, -10.0)` on every layer with a bias, injected into
# its MLP configurations to reproduce dead ReLUs. The MLP with the bug applied at construction.
import torch
import torch.nn as nn


class MLP(nn.Module):
    def __init__(self, d_in=32, width=128, depth=3, classes=10):
        super().__init__()
        layers = []
        previous = d_in
        for _ in range(depth):
            layers += [nn.Linear(previous, width), nn.ReLU()]
            previous = width
        self.body = nn.Sequential(*layers)
        self.head = nn.Linear(previous, classes)
        for m in self.modules():
            if isinstance(m, nn.Linear):
                nn.init.constant_(m.bias, -10.0)  # expect: GL103

    def forward(self, x):
        return self.head(self.body(x))


def make():
    return MLP(), torch.randn(256, 32)
