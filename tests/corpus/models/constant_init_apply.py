# expect-model: GL201
import torch
import torch.nn as nn
import torch.nn.functional as F

INPUT_SHAPE = (64, 50)


def init_weights(m):
    if type(m) == nn.Linear:
        nn.init.constant_(m.weight, 0.05)
        m.bias.data.fill_(0.01)


class TabularNet(nn.Module):
    def __init__(self, in_dim=50, hidden=100, out_dim=3):
        super().__init__()
        self.fc1 = nn.Linear(in_dim, hidden)
        self.fc2 = nn.Linear(hidden, hidden)
        self.fc3 = nn.Linear(hidden, out_dim)
        self.apply(init_weights)

    def forward(self, x):
        x = F.relu(self.fc1(x))
        x = F.relu(self.fc2(x))
        return self.fc3(x)


def build():
    return TabularNet()
