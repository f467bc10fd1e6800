# expect-model: GL203
import torch
import torch.nn as nn
import torch.nn.functional as F


class PlainNet20(nn.Module):
    """The 'plain' baseline from the ResNet paper, without batch norm."""

    def __init__(self, num_classes=10):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 16, 3, padding=1)
        self.stage1 = self._stage(16, 16, 6, stride=1)
        self.stage2 = self._stage(16, 32, 6, stride=2)
        self.stage3 = self._stage(32, 64, 6, stride=2)
        self.fc = nn.Linear(64, num_classes)

    @staticmethod
    def _stage(in_planes, planes, n, stride):
        layers = []
        for i in range(n):
            layers.append(nn.Conv2d(in_planes if i == 0 else planes, planes, 3, stride=stride if i == 0 else 1, padding=1))
            layers.append(nn.ReLU(inplace=True))
        return nn.Sequential(*layers)

    def forward(self, x):
        x = F.relu(self.conv1(x))
        x = self.stage3(self.stage2(self.stage1(x)))
        x = F.adaptive_avg_pool2d(x, 1).flatten(1)
        return self.fc(x)


def build():
    return PlainNet20(), torch.randn(8, 3, 32, 32)
