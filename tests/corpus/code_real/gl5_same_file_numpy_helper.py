"""Min-max scaling of an attention map done in numpy by a helper of the same file, then
torch.from_numpy. Measured: the attention convolution gets no gradient."""
import numpy as np
import torch
import torch.nn as nn


def minmax(t):
    arr = t.cpu().detach().numpy()  # expect: GL503
    arr = (arr - arr.min()) / (arr.max() - arr.min() + 1e-8)
    return torch.from_numpy(arr)


class SpatialAttention(nn.Module):
    def __init__(self, ch=16):
        super().__init__()
        self.att = nn.Conv2d(ch, 1, 7, padding=3)
        self.proj = nn.Conv2d(ch, ch, 1)

    def forward(self, x):
        a = minmax(torch.sigmoid(self.att(x)))
        return self.proj(x * a)


def build():
    return SpatialAttention(), (torch.randn(2, 16, 8, 8),)
