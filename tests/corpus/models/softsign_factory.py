# expect-model: GL101
import torch
import torch.nn as nn

INPUT_SHAPE = (128, 20)


def mlp(sizes, activation=nn.Softsign, output_activation=nn.Identity):
    layers = []
    for j in range(len(sizes) - 1):
        act = activation if j < len(sizes) - 2 else output_activation
        layers += [nn.Linear(sizes[j], sizes[j + 1]), act()]
    return nn.Sequential(*layers)


class ValueFunction(nn.Module):
    def __init__(self, obs_dim=20, hidden_sizes=(256,) * 14):
        super().__init__()
        self.v_net = mlp([obs_dim] + list(hidden_sizes) + [1])

    def forward(self, obs):
        return torch.squeeze(self.v_net(obs), -1)


def build():
    return ValueFunction()
