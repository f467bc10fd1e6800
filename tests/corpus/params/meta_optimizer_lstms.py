# Source: https://github.com/ikostrikov/pytorch-meta-optimizer/issues/11
# Confirmed: "the current version will not train the LSTM weights at all"; the suggested fix
# (nn.Sequential over the cells) "worked" for another user.
import torch
import torch.nn as nn


class LayerNormLSTMCell(nn.Module):
    def __init__(self, num_inputs, num_hidden):
        super().__init__()
        self.fc_i2h = nn.Linear(num_inputs, 4 * num_hidden)
        self.fc_h2h = nn.Linear(num_hidden, 4 * num_hidden)
        self.ln = nn.LayerNorm(4 * num_hidden)

    def forward(self, x, state):
        hx, cx = state
        gates = self.ln(self.fc_i2h(x) + self.fc_h2h(hx))
        i, f, o, g = gates.chunk(4, 1)
        cx = torch.sigmoid(f) * cx + torch.sigmoid(i) * torch.tanh(g)
        hx = torch.sigmoid(o) * torch.tanh(cx)
        return hx, cx


class MetaOptimizer(nn.Module):
    def __init__(self, hidden_size, num_layers):
        super().__init__()
        self.hidden_size = hidden_size
        self.linear1 = nn.Linear(3, hidden_size)
        self.lstms = []  # expect: GL701
        for i in range(num_layers):
            self.lstms.append(LayerNormLSTMCell(hidden_size, hidden_size))
        self.linear2 = nn.Linear(hidden_size, 1)

    def forward(self, x):
        x = torch.tanh(self.linear1(x))
        for lstm in self.lstms:
            zeros = x.new_zeros(x.size(0), self.hidden_size)
            x, _ = lstm(x, (zeros, zeros))
        return self.linear2(x)


def make():
    return MetaOptimizer(8, 2), torch.randn(4, 3)
