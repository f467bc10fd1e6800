# expect-model: none
import torch
import torch.nn as nn
import torch.nn.functional as F

INPUT_SHAPE = (200, 8)


class DynamicsModel(nn.Module):
    """Five tanh layers: a common world-model size in model-based RL."""

    def __init__(self, state_dim=6, action_dim=2, hidden=200, n_layers=5):
        super().__init__()
        dims = [state_dim + action_dim] + [hidden] * n_layers
        self.layers = nn.ModuleList(nn.Linear(i, o) for i, o in zip(dims[:-1], dims[1:]))
        self.mean = nn.Linear(hidden, state_dim)

    def forward(self, x):
        for layer in self.layers:
            x = F.tanh(layer(x))
        return self.mean(x)


def build():
    return DynamicsModel()
