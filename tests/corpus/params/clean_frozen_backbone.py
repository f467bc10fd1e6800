# Near-miss: fine-tuning a head over a frozen backbone (the transfer-learning tutorial);
# the frozen weights are registered parameters that get no gradient on purpose.
import torch
import torch.nn as nn


class Finetune(nn.Module):
    def __init__(self):
        super().__init__()
        self.backbone = nn.Sequential(nn.Conv2d(3, 8, 3), nn.ReLU(), nn.AdaptiveAvgPool2d(1))
        for p in self.backbone.parameters():
            p.requires_grad = False
        self.fc = nn.Linear(8, 2)

    def forward(self, x):
        return self.fc(self.backbone(x).flatten(1))


def make():
    return Finetune(), torch.randn(2, 3, 8, 8)


def optimiser(model):
    return torch.optim.SGD(filter(lambda p: p.requires_grad, model.parameters()), lr=0.1)
