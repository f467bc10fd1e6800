# expect-model: none
import torch
import torch.nn as nn

INPUT_SHAPE = (128, 4)


class TwoLayerTanh(nn.Module):
    def __init__(self, n_in=4, n_hidden=64, n_out=3):
        super().__init__()
        self.hidden1 = nn.Linear(n_in, n_hidden)
        self.hidden2 = nn.Linear(n_hidden, n_hidden)
        self.output = nn.Linear(n_hidden, n_out)

    def forward(self, x):
        x = torch.tanh(self.hidden1(x))
        x = torch.tanh(self.hidden2(x))
        return self.output(x)


def build():
    return TwoLayerTanh()
