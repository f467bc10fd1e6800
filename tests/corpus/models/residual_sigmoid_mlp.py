# expect-model: none
import torch
import torch.nn as nn

INPUT_SHAPE = (128, 64)


class ResidualSigmoidBlock(nn.Module):
    def __init__(self, dim):
        super().__init__()
        self.fc = nn.Linear(dim, dim)

    def forward(self, x):
        return x + torch.sigmoid(self.fc(x))


class ResidualSigmoidNet(nn.Module):
    def __init__(self, in_dim=64, dim=128, n_blocks=10, out_dim=10):
        super().__init__()
        self.proj = nn.Linear(in_dim, dim)
        self.blocks = nn.Sequential(*[ResidualSigmoidBlock(dim) for _ in range(n_blocks)])
        self.out = nn.Linear(dim, out_dim)

    def forward(self, x):
        return self.out(self.blocks(self.proj(x)))


def build():
    return ResidualSigmoidNet()
