# Source: https://github.com/automan000/Convolutional_LSTM_PyTorch/issues/17 (the answer
# quoting Hzzone/Precipitation-Nowcasting nowcasting/models/convLSTM.py)
# Confirmed: "if you use declare an optimizer like Adam(model.parameters()), parameters will
# not be updated forever": the peephole weights are tensors with requires_grad.
import torch
import torch.nn as nn


class PeepholeCell(nn.Module):
    def __init__(self, channels=4, size=6):
        super().__init__()
        self.conv = nn.Conv2d(2 * channels, 4 * channels, 3, padding=1)
        self.Wci = torch.zeros(1, channels, size, size)  # expect: GL702
        self.Wci.requires_grad = True
        self.Wcf = torch.zeros(1, channels, size, size, requires_grad=True)  # expect: GL702

    def forward(self, x):
        h = torch.zeros_like(x)
        c = torch.ones_like(x)
        i, f, o, g = self.conv(torch.cat([x, h], 1)).chunk(4, 1)
        c = torch.sigmoid(f + c * self.Wcf) * c + torch.sigmoid(i + c * self.Wci) * torch.tanh(g)
        return torch.sigmoid(o) * torch.tanh(c)


def make():
    return PeepholeCell(), torch.randn(2, 4, 6, 6)
