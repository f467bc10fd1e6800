# Source: https://github.com/SimonThomine/RememberingNormality/issues/7
# Confirmed: the author: "You're right, I cant believe I missed this error" (fixed in
# 1d99145): keys and values stayed at their random initialisation.
import torch
import torch.nn as nn


class MemoryModule(nn.Module):
    def __init__(self, L=16, channel=8):
        super().__init__()
        self.keys = torch.randn(L, channel)  # expect: GL702
        self.values = torch.randn(L, channel)  # expect: GL702
        self.query = nn.Linear(channel, channel)

    def forward(self, x):
        attention = torch.softmax(torch.matmul(self.query(x), self.keys.T), dim=-1)
        return torch.matmul(attention, self.values)


def make():
    return MemoryModule(), torch.randn(4, 8)
