# Near-miss: sinusoidal position table as a plain tensor (never learned) and a causal mask
# registered as a buffer, as in the annotated transformer.
import math

import torch
import torch.nn as nn


class PositionalAttention(nn.Module):
    def __init__(self, d_model=8, max_len=32):
        super().__init__()
        pe = torch.zeros(max_len, d_model)
        position = torch.arange(0, max_len).unsqueeze(1).float()
        div_term = torch.exp(torch.arange(0, d_model, 2).float() * -(math.log(10000.0) / d_model))
        pe[:, 0::2] = torch.sin(position * div_term)
        pe[:, 1::2] = torch.cos(position * div_term)
        self.pe = pe.unsqueeze(0)
        self.register_buffer("mask", torch.tril(torch.ones(max_len, max_len)))
        self.qkv = nn.Linear(d_model, 3 * d_model)

    def forward(self, x):
        n = x.size(1)
        q, k, v = self.qkv(x + self.pe[:, :n]).chunk(3, -1)
        att = (q @ k.transpose(-2, -1)) / math.sqrt(q.size(-1))
        att = att.masked_fill(self.mask[:n, :n] == 0, float("-inf"))
        return att.softmax(-1) @ v


def make():
    return PositionalAttention(), torch.randn(2, 5, 8)
