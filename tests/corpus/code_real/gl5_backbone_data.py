"""Re-identification head on backbone features read through .data (an old-PyTorch habit).
Measured: the backbone gets no gradient."""
import torch
import torch.nn as nn


class ReIDNet(nn.Module):
    def __init__(self, num_ids=100):
        super().__init__()
        self.base = nn.Sequential(nn.Conv2d(3, 64, 3, 2, 1), nn.BatchNorm2d(64), nn.ReLU(), nn.AdaptiveAvgPool2d(1))
        self.bottleneck = nn.BatchNorm1d(64)
        self.classifier = nn.Linear(64, num_ids, bias=False)

    def forward(self, x):
        f = self.base(x).data  # expect: GL501
        f = self.bottleneck(f.view(f.size(0), -1))
        return self.classifier(f)


def build():
    return ReIDNet(), (torch.randn(2, 3, 16, 8),)
