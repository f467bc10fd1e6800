# expect-model: GL203
import torch
import torch.nn as nn

INPUT_SHAPE = (128, 64)


class DeepMLP(nn.Module):
    def __init__(self, input_size=64, hidden_size=256, num_hidden=16, output_size=10):
        super().__init__()
        layers = [nn.Linear(input_size, hidden_size), nn.ReLU()]
        for _ in range(num_hidden - 1):
            layers.extend([nn.Linear(hidden_size, hidden_size), nn.ReLU()])
        layers.append(nn.Linear(hidden_size, output_size))
        self.mlp = nn.Sequential(*layers)

    def forward(self, x):
        return self.mlp(x)


def build():
    return DeepMLP()
