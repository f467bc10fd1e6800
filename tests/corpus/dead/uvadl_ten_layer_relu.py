# Near-miss: https://github.com/Lightning-AI/tutorials/pull/76, UvA-DL "Activation Functions":
# a 10-layer ReLU network (hidden sizes 256 x5, 128 x5) whose dead neurons the notebook counts;
# wide layers keep almost every unit alive at initialisation.
import torch
import torch.nn as nn


class BaseNetwork(nn.Module):
    def __init__(self, input_size=784, num_classes=10, hidden_sizes=(256, 256, 256, 256, 256, 128, 128, 128, 128, 128)):
        super().__init__()
        layers = []
        layer_sizes = [input_size] + list(hidden_sizes)
        for layer_index in range(1, len(layer_sizes)):
            layers += [nn.Linear(layer_sizes[layer_index - 1], layer_sizes[layer_index]), nn.ReLU()]
        layers += [nn.Linear(layer_sizes[-1], num_classes)]
        self.layers = nn.Sequential(*layers)

    def forward(self, x):
        x = x.view(x.size(0), -1)
        return self.layers(x)


def make():
    return BaseNetwork(), torch.randn(256, 784)
