# Near-miss: an RNN's initial hidden state made in forward without requires_grad (the
# PyTorch char-RNN examples), and parameterless layers built on the fly.
import torch
import torch.nn as nn


class CharRNN(nn.Module):
    def __init__(self, n_in=5, hidden=8, n_out=3):
        super().__init__()
        self.hidden = hidden
        self.gru = nn.GRU(n_in, hidden, batch_first=True)
        self.fc = nn.Linear(hidden, n_out)

    def forward(self, x):
        h0 = torch.zeros(1, x.size(0), self.hidden)
        out, _ = self.gru(x, h0)
        out = nn.Dropout(0.1)(out[:, -1])
        return nn.LogSoftmax(dim=-1)(self.fc(out))


def make():
    return CharRNN(), torch.randn(2, 4, 5)
