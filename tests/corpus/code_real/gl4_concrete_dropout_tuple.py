"""MNIST example whose model returns (probabilities, regularisation); F.cross_entropy on them.
After danielkelshaw/ConcreteDropout issue #11 (labelled bug, confirmed by the maintainer)."""
import torch
import torch.nn as nn
import torch.nn.functional as F


class Model(nn.Module):
    def __init__(self, weight_regulariser, dropout_regulariser):
        super().__init__()
        self.fc1 = nn.Linear(784, 400)
        self.fc2 = nn.Linear(400, 400)
        self.fc3 = nn.Linear(400, 10)
        self.wr, self.dr = weight_regulariser, dropout_regulariser

    def forward(self, x):
        regularisation = torch.zeros(1)
        x = F.relu(self.fc1(x.view(-1, 784)))
        x = F.relu(self.fc2(x))
        out = F.softmax(self.fc3(x), dim=1)
        return out, regularisation


def train(model, optimizer, loader):
    model.train()
    for data, target in loader:
        optimizer.zero_grad()
        output, regularisation = model(data)
        loss = F.cross_entropy(output, target) + regularisation  # expect: GL401
        loss.backward()
        optimizer.step()
