# Source: Lu, Shin, Su, Karniadakis, "Dying ReLU and Initialization: Theory and Numerical
# Examples" (arXiv:1903.06733), section 4: deep ReLU networks that narrow are born dead with a
# probability that grows with depth. A 22-layer regression MLP tapering from 784 inputs to
# width 2, on PyTorch's default init.
import torch
import torch.nn as nn

WIDTHS = (784, 512, 512, 256, 256, 128, 128, 64, 64, 32, 32, 16, 16, 8, 8, 4, 4, 4, 2, 2, 2, 2, 2)


class TaperingRegressor(nn.Module):
    def __init__(self, widths=WIDTHS):
        super().__init__()
        layers = []
        for a, b in zip(widths[:-1], widths[1:]):
            layers += [nn.Linear(a, b), nn.ReLU()]  # expect: GL103
        self.body = nn.Sequential(*layers)
        self.head = nn.Linear(widths[-1], 1)

    def forward(self, x):
        return self.head(self.body(x))


def make():
    return TaperingRegressor(), torch.randn(256, 784)
