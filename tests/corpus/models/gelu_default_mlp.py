# expect-model: GL203
import torch
import torch.nn as nn

INPUT_SHAPE = (128, 64)


class Block(nn.Module):
    def __init__(self, d_in, d_out):
        super().__init__()
        self.proj = nn.Linear(d_in, d_out)
        self.act = nn.GELU()

    def forward(self, x):
        return self.act(self.proj(x))


class GELUTower(nn.Module):
    def __init__(self, d_in=64, d_model=256, n_blocks=14, d_out=10):
        super().__init__()
        self.blocks = nn.Sequential(
            Block(d_in, d_model), *[Block(d_model, d_model) for _ in range(n_blocks - 1)]
        )
        self.head = nn.Linear(d_model, d_out)

    def forward(self, x):
        return self.head(self.blocks(x))


def build():
    return GELUTower()
