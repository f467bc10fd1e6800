# Source: https://github.com/leaderj1001/Stand-Alone-Self-Attention/issues/2
# Confirmed: "You create these parameters every time you pass through forward so their
# previous values are lost"; the author agreed and moved them to __init__.
import torch
import torch.nn as nn


class AttentionConv(nn.Module):
    def __init__(self, in_channels, out_channels, kernel_size):
        super().__init__()
        self.out_channels = out_channels
        self.kernel_size = kernel_size
        self.key_conv = nn.Conv2d(in_channels, out_channels, 1, bias=False)
        self.query_conv = nn.Conv2d(in_channels, out_channels, 1, bias=False)

    def forward(self, x):
        rel_h = nn.Parameter(torch.randn(self.out_channels // 2, 1, 1), requires_grad=True)  # expect: GL703
        rel_w = nn.Parameter(torch.randn(self.out_channels // 2, 1, 1), requires_grad=True)  # expect: GL703
        q = self.query_conv(x)
        k = self.key_conv(x)
        k_h, k_w = k.split(self.out_channels // 2, dim=1)
        k = torch.cat((k_h + rel_h, k_w + rel_w), dim=1)
        return q * k


def make():
    return AttentionConv(3, 4, 3), torch.randn(2, 3, 5, 5)
