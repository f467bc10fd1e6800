# Near-miss: https://github.com/wds-seu/MCKRL attention.py: the score MLP has a tanh hidden
# layer and a linear score; softmax receives the raw scores.
import torch
import torch.nn as nn


class Attention(nn.Module):
    def __init__(self, in_size=64, hidden_size=16):
        super(Attention, self).__init__()
        self.project = nn.Sequential(
            nn.Linear(in_size, hidden_size),
            nn.Tanh(),
            nn.Linear(hidden_size, 1, bias=False),
        )

    def forward(self, z):
        w = self.project(z)
        beta = torch.softmax(w, dim=1)
        return (beta * z).sum(1)


def make():
    return Attention(), torch.randn(64, 12, 64)
