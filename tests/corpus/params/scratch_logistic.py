# Source: https://openillumi.com/?p=120695 ("PyTorch Training Failure? Master
# torch.nn.Parameter")
# Confirmed: the page's point: a plain tensor attribute, even with requires_grad, is not
# returned by model.parameters() and is never updated by the optimizer.
import math

import torch
import torch.nn as nn


class Mnist_Logistic(nn.Module):
    def __init__(self):
        super().__init__()
        self.weights = torch.randn(784, 10) / math.sqrt(784)  # expect: GL702
        self.weights.requires_grad_()
        self.bias = torch.zeros(10, requires_grad=True)  # expect: GL702

    def forward(self, xb):
        return xb @ self.weights + self.bias


def make():
    return Mnist_Logistic(), torch.randn(4, 784)
