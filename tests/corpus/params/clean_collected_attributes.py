# Near-miss: named submodules also collected in a tuple for a loop (torchvision-style stages).
import torch
import torch.nn as nn


class Stages(nn.Module):
    def __init__(self):
        super().__init__()
        self.layer1 = nn.Conv2d(3, 8, 3, padding=1)
        self.layer2 = nn.Conv2d(8, 8, 3, padding=1)
        self.stages = (self.layer1, self.layer2)
        self.head = nn.Linear(8, 2)

    def forward(self, x):
        for stage in self.stages:
            x = torch.relu(stage(x))
        return self.head(x.mean((2, 3)))


def make():
    return Stages(), torch.randn(2, 3, 8, 8)
