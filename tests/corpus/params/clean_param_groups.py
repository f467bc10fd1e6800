# Near-miss: parameter groups with different learning rates (backbone slower than the head),
# covering the whole model between them.
import torch
import torch.nn as nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.base = nn.Linear(8, 8)
        self.classifier = nn.Linear(8, 3)

    def forward(self, x):
        return self.classifier(torch.relu(self.base(x)))


def make():
    return Net(), torch.randn(4, 8)


def optimiser(model):
    return torch.optim.SGD(
        [
            {"params": model.base.parameters()},
            {"params": model.classifier.parameters(), "lr": 1e-3},
        ],
        lr=1e-2,
        momentum=0.9,
    )
