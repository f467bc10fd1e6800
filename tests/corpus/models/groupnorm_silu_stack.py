# expect-model: none
import torch
import torch.nn as nn


def Normalize(in_channels, num_groups=8):
    return nn.GroupNorm(num_groups=num_groups, num_channels=in_channels, eps=1e-6, affine=True)


class ConvNormAct(nn.Module):
    def __init__(self, in_channels, out_channels):
        super().__init__()
        self.conv = nn.Conv2d(in_channels, out_channels, kernel_size=3, stride=1, padding=1)
        self.norm = Normalize(out_channels)

    def forward(self, x):
        h = self.conv(x)
        h = self.norm(h)
        return h * torch.sigmoid(h)  # swish


class Encoder(nn.Module):
    """A diffusion-style encoder trunk without the residual connections: 24 convs deep."""

    def __init__(self, in_channels=3, ch=32, num_layers=24, z_channels=4):
        super().__init__()
        self.layers = nn.Sequential(
            ConvNormAct(in_channels, ch), *[ConvNormAct(ch, ch) for _ in range(num_layers - 1)]
        )
        self.conv_out = nn.Conv2d(ch, z_channels, kernel_size=3, padding=1)

    def forward(self, x):
        return self.conv_out(self.layers(x))


def build():
    return Encoder(), torch.randn(8, 3, 16, 16)
