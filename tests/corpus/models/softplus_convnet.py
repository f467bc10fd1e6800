# expect-model: GL301
import torch
import torch.nn as nn
import torch.nn.functional as F


class SmoothConvNet(nn.Module):
    """All-softplus convnet (smooth everywhere, for a Hessian-based analysis)."""

    def __init__(self, in_channels=3, width=24, depth=36, num_classes=10):
        super().__init__()
        self.stem = nn.Conv2d(in_channels, width, 3, padding=1)
        self.body = nn.ModuleList(nn.Conv2d(width, width, 3, padding=1) for _ in range(depth - 1))
        self.fc = nn.Linear(width, num_classes)
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_in", nonlinearity="relu")
                nn.init.zeros_(m.bias)

    def forward(self, x):
        x = F.softplus(self.stem(x))
        for conv in self.body:
            x = F.softplus(conv(x))
        x = F.adaptive_avg_pool2d(x, 1).flatten(1)
        return self.fc(x)


def build():
    return SmoothConvNet(), torch.randn(8, 3, 16, 16)
