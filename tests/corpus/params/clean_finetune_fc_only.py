# Near-miss: the PyTorch finetuning tutorial (https://github.com/pytorch/tutorials/pull/1455):
# only model.fc is in the optimiser, the backbone is frozen by requires_grad = False first.
import torch
import torch.nn as nn


class ResNetish(nn.Module):
    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(nn.Linear(16, 32), nn.ReLU())
        self.fc = nn.Linear(32, 4)

    def forward(self, x):
        return self.fc(self.features(x))


def train(model: ResNetish, example):
    for param in model.parameters():
        param.requires_grad = False
    model.fc = nn.Linear(32, 4)
    optimizer = torch.optim.SGD(model.fc.parameters(), lr=1e-3, momentum=0.9)
    for x in [example]:
        optimizer.zero_grad()
        loss = model(x).pow(2).mean()
        loss.backward()
        optimizer.step()


def make():
    return ResNetish(), torch.randn(4, 16)
