# Source: https://github.com/twitter/the-algorithm-ml/pull/136
# Confirmed: the PR swaps the Python list for nn.ModuleList "so all the layers in MLP are
# properly registered".
import torch


class Mlp(torch.nn.Module):
    def __init__(self, in_features, layer_sizes, batch_norm=True):
        super().__init__()
        input_size = in_features
        modules = []
        for layer_size in layer_sizes[:-1]:
            modules.append(torch.nn.Linear(input_size, layer_size, bias=True))
            if batch_norm:
                modules.append(torch.nn.BatchNorm1d(layer_size))
            modules.append(torch.nn.ReLU())
            input_size = layer_size
        modules.append(torch.nn.Linear(input_size, layer_sizes[-1], bias=True))
        self.layers = modules  # expect: GL701

    def forward(self, x):
        net = x
        for layer in self.layers:
            net = layer(net)
        return net


def make():
    return Mlp(6, [8, 4]), torch.randn(5, 6)
