# expect-model: GL101
"""MNIST-style classifier from an old tutorial: sigmoid everywhere, built in a loop."""
import torch
import torch.nn as nn
import torch.nn.functional as F

INPUT_SHAPE = (128, 784)


class DeepSigmoidNet(nn.Module):
    def __init__(self, in_features=784, hidden=256, depth=8, classes=10):
        super().__init__()
        layers = []
        width = in_features
        for _ in range(depth):
            layers += [nn.Linear(width, hidden), nn.Sigmoid()]
            width = hidden
        self.body = nn.Sequential(*layers)
        self.head = nn.Linear(hidden, classes)

    def forward(self, x):
        x = self.body(x.flatten(1))
        return F.log_softmax(self.head(x), dim=-1)


def build():
    return DeepSigmoidNet()
