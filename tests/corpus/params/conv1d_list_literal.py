# Source: https://github.com/pytorch/pytorch/issues/1053
# Confirmed: after .cuda() the Conv1d layers stayed on the CPU; the maintainer: "This is
# expected. Use nn.ModuleList".
import torch
import torch.nn as nn

WORD_VEC_SIZE = 32


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1d = [  # expect: GL701
            nn.Conv1d(WORD_VEC_SIZE, 1, 3),
            nn.Conv1d(WORD_VEC_SIZE, 1, 4),
            nn.Conv1d(WORD_VEC_SIZE, 1, 5),
        ]
        self.fc = nn.Linear(3, 2)

    def forward(self, x):
        pooled = [conv(x).amax(dim=-1) for conv in self.conv1d]
        return self.fc(torch.cat(pooled, dim=1))


def make():
    return Net(), torch.randn(2, WORD_VEC_SIZE, 12)
