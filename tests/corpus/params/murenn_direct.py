# Source: https://github.com/kymatio/murenn/issues/42 (MuReNNDirect)
# Confirmed: labelled "bug"; fixed by using nn.ModuleList instead of the Python list.
import torch


class MuReNNDirect(torch.nn.Module):
    def __init__(self, J, Q, in_channels):
        super().__init__()
        conv1d = []
        for j in range(J):
            conv1d_j = torch.nn.Conv1d(in_channels, Q, kernel_size=3, padding=1, bias=False)
            conv1d.append(conv1d_j)
        self.conv1d = conv1d  # expect: GL701

    def forward(self, x):
        bands = [conv(x) for conv in self.conv1d]
        return torch.cat(bands, dim=1)


def make():
    return MuReNNDirect(2, 3, 1), torch.randn(2, 1, 16)
