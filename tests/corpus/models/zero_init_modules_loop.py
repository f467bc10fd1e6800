# expect-model: GL201
import torch
import torch.nn as nn

INPUT_SHAPE = (128, 30)


class ChurnPredictor(nn.Module):
    def __init__(self, n_features=30, hidden=(128, 64, 32)):
        super().__init__()
        layers = []
        prev = n_features
        for h in hidden:
            layers.append(nn.Linear(prev, h))
            layers.append(nn.ReLU())
            prev = h
        layers.append(nn.Linear(prev, 1))
        self.model = nn.Sequential(*layers)
        # start from a "neutral" network so the first predictions are all 0.5
        for m in self.modules():
            if isinstance(m, nn.Linear):
                nn.init.zeros_(m.weight)
                nn.init.zeros_(m.bias)

    def forward(self, x):
        return torch.sigmoid(self.model(x))


def build():
    return ChurnPredictor()
