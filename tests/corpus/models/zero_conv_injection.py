# expect-model: none
import torch
import torch.nn as nn


def zero_module(module):
    """Zero out the parameters of a module and return it."""
    for p in module.parameters():
        p.detach().zero_()
    return module


class ConvBlock(nn.Module):
    def __init__(self, channels):
        super().__init__()
        self.conv = nn.Conv2d(channels, channels, 3, padding=1)
        self.norm = nn.GroupNorm(8, channels)

    def forward(self, x):
        return torch.relu(self.norm(self.conv(x)))


class ControlledDenoiser(nn.Module):
    """Trunk features are injected into every stage through zero-initialised 1x1 convs,
    so at the start the stages see exactly what they saw without the injection."""

    def __init__(self, in_channels=3, channels=32, n_stages=4):
        super().__init__()
        self.stem = nn.Conv2d(in_channels, channels, 3, padding=1)
        self.stages = nn.ModuleList([ConvBlock(channels) for _ in range(n_stages)])
        self.zero_convs = nn.ModuleList(
            [zero_module(nn.Conv2d(channels, channels, 1)) for _ in range(n_stages)]
        )
        self.out = nn.Conv2d(channels, in_channels, 3, padding=1)

    def forward(self, x):
        trunk = self.stem(x)
        h = trunk
        for stage, zero_conv in zip(self.stages, self.zero_convs):
            h = stage(h) + zero_conv(trunk)
        return self.out(h)


def build():
    return ControlledDenoiser(), torch.randn(8, 3, 32, 32)
