"""A small classifier that will not learn: gradlint explains why.

    gradlint check examples/
"""

import torch
import torch.nn as nn
import torch.nn.functional as F


class DeepSigmoidNet(nn.Module):
    def __init__(self, in_features=784, hidden=256, depth=9, classes=10):
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
        return F.softmax(self.head(x), dim=-1)


def train(model, loader, epochs=1):
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    loss_fn = nn.CrossEntropyLoss()
    for _ in range(epochs):
        for inputs, labels in loader:
            loss = loss_fn(model(inputs), labels)
            loss.backward()
            optimizer.step()
