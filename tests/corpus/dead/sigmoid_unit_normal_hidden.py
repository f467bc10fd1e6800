# Source: CS231n (Stanford), lecture 6: the same unit-Gaussian init saturates sigmoid units;
# a two-hidden-layer sigmoid MLP for MNIST whose hidden weights are drawn with
# `w.data.normal_(0, 1)`, as in many course solutions.
import torch
import torch.nn as nn


class SigmoidMLP(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(784, 256)
        self.fc2 = nn.Linear(256, 256)
        self.fc3 = nn.Linear(256, 10)
        self.fc1.weight.data.normal_(0, 1)  # expect: GL102
        self.fc2.weight.data.normal_(0, 1)  # expect: GL102
        self.sigmoid = nn.Sigmoid()

    def forward(self, x):
        x = self.sigmoid(self.fc1(x.view(-1, 784)))
        x = self.sigmoid(self.fc2(x))
        return self.fc3(x)


def make():
    return SigmoidMLP(), torch.randn(256, 784)
