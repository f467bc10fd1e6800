# Source: public GitHub code (code search, file id 10906988102): a policy network for a
# genetic-algorithm agent whose action probabilities are softmax(relu(fc2(x))).
# Confirmed by measurement: about half of the action scores are clamped to 0 at
# initialisation and pass no gradient; those actions share the weight exp(0).
import torch
import torch.nn as nn
import torch.nn.functional as F


class Net(nn.Module):
    def __init__(self, state_size=8, action_size=4, hidden_size=64):
        super().__init__()
        self.fc1 = nn.Linear(state_size, hidden_size, bias=False)
        self.fc2 = nn.Linear(hidden_size, action_size, bias=False)

    def forward(self, x):
        x = F.relu(self.fc1(x))
        x = F.softmax(F.relu(self.fc2(x)), dim=-1)  # expect: GL105
        return x


def make():
    return Net(), torch.randn(256, 8)
