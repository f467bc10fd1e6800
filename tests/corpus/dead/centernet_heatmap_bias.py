# Near-miss: https://github.com/xingyizhou/CenterNet src/lib/models/networks/msra_resnet.py,
# the heatmap head: a ReLU hidden conv, then a conv whose bias is filled with -2.19 so the
# focal loss's sigmoid starts at p = 0.1. The negative bias is on the logits, not before a ReLU.
import torch
import torch.nn as nn


class HeatmapHead(nn.Module):
    def __init__(self, inplanes=64, head_conv=64, classes=80):
        super().__init__()
        self.hm = nn.Sequential(
            nn.Conv2d(inplanes, head_conv, kernel_size=3, padding=1, bias=True),
            nn.ReLU(inplace=True),
            nn.Conv2d(head_conv, classes, kernel_size=1, stride=1, padding=0, bias=True),
        )
        self.hm[-1].bias.data.fill_(-2.19)

    def forward(self, x):
        return self.hm(x)


def make():
    return HeatmapHead(), torch.randn(8, 64, 32, 32)
