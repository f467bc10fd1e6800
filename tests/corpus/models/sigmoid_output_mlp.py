# expect-model: none
import torch
import torch.nn as nn

INPUT_SHAPE = (256, 40)


class ClickThroughModel(nn.Module):
    def __init__(self, n_features=40, hidden=(256, 128, 64)):
        super().__init__()
        layers = []
        d = n_features
        for h in hidden:
            layers += [nn.Linear(d, h), nn.ReLU(), nn.Dropout(0.2)]
            d = h
        self.mlp = nn.Sequential(*layers)
        self.out = nn.Linear(d, 1)

    def forward(self, x):
        return torch.sigmoid(self.out(self.mlp(x)))


def build():
    return ClickThroughModel()
