# expect-model: GL203
import torch
import torch.nn as nn

INPUT_SHAPE = (128, 32)


class MishMLP(nn.Module):
    def __init__(self, in_features=32, hidden_features=256, num_layers=40, out_features=5):
        super().__init__()
        blocks = [nn.Linear(in_features, hidden_features), nn.Mish()]
        for _ in range(num_layers - 1):
            blocks += [nn.Linear(hidden_features, hidden_features), nn.Mish()]
        self.body = nn.Sequential(*blocks)
        self.fc_out = nn.Linear(hidden_features, out_features)

    def forward(self, x):
        return self.fc_out(self.body(x))


def build():
    return MishMLP()
