# Source: https://github.com/svishwa/crowdcount-mcnn src/models.py, MCNN's fuse layer: a 1x1
# convolution with ReLU (its Conv2d wrapper's relu=True) producing the one-channel density map.
# Confirmed by measurement: over 10 seeds the map is zero at every pixel of the batch in half of
# them (the positions of a deep conv stack look alike, and one channel decides), so no layer
# gets a gradient; the ReLU meant to keep the density non-negative kills it.
import torch
import torch.nn as nn


class Conv2d(nn.Module):
    def __init__(self, in_channels, out_channels, kernel_size, stride=1, relu=True, same_padding=False):
        super(Conv2d, self).__init__()
        padding = int((kernel_size - 1) / 2) if same_padding else 0
        self.conv = nn.Conv2d(in_channels, out_channels, kernel_size, stride, padding=padding)
        self.relu = nn.ReLU(inplace=True) if relu else None  # expect: GL104

    def forward(self, x):
        x = self.conv(x)
        if self.relu is not None:
            x = self.relu(x)
        return x


class MCNNColumn(nn.Module):
    def __init__(self):
        super(MCNNColumn, self).__init__()
        self.branch = nn.Sequential(
            Conv2d(1, 16, 9, same_padding=True),
            nn.MaxPool2d(2),
            Conv2d(16, 32, 7, same_padding=True),
            nn.MaxPool2d(2),
            Conv2d(32, 16, 7, same_padding=True),
            Conv2d(16, 8, 7, same_padding=True),
        )
        self.fuse = nn.Sequential(Conv2d(8, 1, 1, same_padding=True))

    def forward(self, im_data):
        return self.fuse(self.branch(im_data))


def make():
    return MCNNColumn(), torch.randn(4, 1, 64, 64)
