# Source: https://github.com/4uiiurz1/pytorch-adacos/issues/10
# Confirmed: mnist_train.py builds its optimiser from model.parameters() only; a second user
# confirmed "only backbone is learned and in classification layer just random weight stay".
import math

import torch
import torch.nn as nn
import torch.nn.functional as F


class AdaCos(nn.Module):
    def __init__(self, num_features, num_classes):
        super().__init__()
        self.s = math.sqrt(2) * math.log(num_classes - 1)
        self.W = nn.Parameter(torch.empty(num_classes, num_features))
        nn.init.xavier_uniform_(self.W)

    def forward(self, x, label=None):
        logits = F.linear(F.normalize(x), F.normalize(self.W))
        return self.s * logits


class Net(nn.Module):
    def __init__(self, num_features=8):
        super().__init__()
        self.features = nn.Sequential(nn.Linear(20, 32), nn.ReLU(), nn.Linear(32, num_features))

    def forward(self, x):
        return self.features(x)


def train(model: Net, example):
    metric_fc = AdaCos(num_features=8, num_classes=10)
    criterion = nn.CrossEntropyLoss()
    optimizer = torch.optim.SGD(  # expect: GL704
        filter(lambda p: p.requires_grad, model.parameters()), lr=0.1, momentum=0.9
    )
    target = torch.arange(example.size(0)) % 10
    for x in [example]:
        feature = model(x)
        output = metric_fc(feature, target)
        loss = criterion(output, target)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()


def make():
    return Net(), torch.randn(6, 20)
