# expect-model: GL201
import torch
import torch.nn as nn

INPUT_SHAPE = (128, 16)


class PolicyNet(nn.Module):
    def __init__(self, obs_dim=16, hidden=64, n_actions=4):
        super().__init__()
        self.fc1 = nn.Linear(obs_dim, hidden)
        self.fc2 = nn.Linear(hidden, hidden)
        self.fc3 = nn.Linear(hidden, n_actions)
        self.reset_parameters()

    def reset_parameters(self):
        # the middle layer starts switched off; it is supposed to be learned from scratch
        nn.init.zeros_(self.fc2.weight)
        nn.init.zeros_(self.fc2.bias)

    def forward(self, x):
        x = torch.relu(self.fc1(x))
        x = torch.relu(self.fc2(x))
        return self.fc3(x)


def build():
    return PolicyNet()
