# expect-model: none
import torch
import torch.nn as nn

INPUT_SHAPE = (128, 64)


class DeepBNMLP(nn.Module):
    def __init__(self, in_dim=64, width=256, depth=20, out_dim=10):
        super().__init__()
        layers = []
        d = in_dim
        for _ in range(depth):
            layers += [nn.Linear(d, width, bias=False), nn.BatchNorm1d(width), nn.ReLU(inplace=True)]
            d = width
        self.body = nn.Sequential(*layers)
        self.head = nn.Linear(d, out_dim)
        for m in self.modules():
            if isinstance(m, nn.Linear):
                nn.init.kaiming_normal_(m.weight, nonlinearity="relu")

    def forward(self, x):
        return self.head(self.body(x))


def build():
    return DeepBNMLP()
