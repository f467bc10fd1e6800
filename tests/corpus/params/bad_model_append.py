# Source: https://runebook.dev/zh/docs/pytorch/generated/torch.nn.modulelist/torch.nn.ModuleList
# Confirmed: the page's MyBadModel registers no parameter of its Python list, so they are
# not updated in training.
import torch
import torch.nn as nn


class MyBadModel(nn.Module):
    def __init__(self, input_size, hidden_size, num_layers):
        super().__init__()
        self.layers = [nn.Linear(input_size, hidden_size)]  # expect: GL701
        for _ in range(num_layers - 1):
            self.layers.append(nn.Linear(hidden_size, hidden_size))
        self.head = nn.Linear(hidden_size, 1)

    def forward(self, x):
        for layer in self.layers:
            x = torch.relu(layer(x))
        return self.head(x)


def make():
    return MyBadModel(10, 20, 3), torch.randn(4, 10)
