# Source: https://thecodeforge.io/ml-ai/pytorch-neural-network/ ("The forward() Layer Bug")
# Confirmed: "Loss drops, validation accuracy stuck at 10% random? Layers in forward() create
# new weights each batch - optimizer updates old ones."
import torch
import torch.nn as nn


class Classifier(nn.Module):
    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(nn.Linear(784, 128), nn.ReLU())

    def forward(self, x):
        h = self.features(x.flatten(1))
        head = nn.Linear(h.shape[1], 10)  # expect: GL703
        return head(h)


def make():
    return Classifier(), torch.randn(4, 1, 28, 28)
