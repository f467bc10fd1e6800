# expect-model: none
import math

import torch
import torch.nn as nn


class RetinaClassificationHead(nn.Module):
    def __init__(self, in_channels=64, num_anchors=9, num_classes=8, prior_probability=0.01):
        super().__init__()
        conv = []
        for _ in range(4):
            conv.append(nn.Conv2d(in_channels, in_channels, kernel_size=3, stride=1, padding=1))
            conv.append(nn.ReLU())
        self.conv = nn.Sequential(*conv)

        for layer in self.conv.modules():
            if isinstance(layer, nn.Conv2d):
                torch.nn.init.normal_(layer.weight, std=0.01)
                torch.nn.init.constant_(layer.bias, 0)

        self.cls_logits = nn.Conv2d(in_channels, num_anchors * num_classes, kernel_size=3, stride=1, padding=1)
        torch.nn.init.normal_(self.cls_logits.weight, std=0.01)
        torch.nn.init.constant_(self.cls_logits.bias, -math.log((1 - prior_probability) / prior_probability))
        self.num_classes = num_classes

    def forward(self, x):
        cls_logits = self.cls_logits(self.conv(x))
        N, _, H, W = cls_logits.shape
        return cls_logits.view(N, -1, self.num_classes, H, W).permute(0, 3, 4, 1, 2).reshape(N, -1, self.num_classes)


def build():
    return RetinaClassificationHead(), torch.randn(8, 64, 16, 16)
