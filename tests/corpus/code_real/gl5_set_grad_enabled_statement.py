"""Mask head that switches grad mode off with a bare torch.set_grad_enabled(False) before its
post-processing (and never on again: the caller's grad mode stays off too). Held-out report
kind: "a bare call torch.set_grad_enabled(False) rather than a with block". Measured: conv lost."""
import torch
import torch.nn as nn
import torch.nn.functional as F


class MaskHead(nn.Module):
    def __init__(self, in_ch=16):
        super().__init__()
        self.conv = nn.Conv2d(in_ch, 1, 3, padding=1)

    def forward(self, x):
        logits = self.conv(x)
        torch.set_grad_enabled(False)  # expect: GL502
        mask = F.interpolate(torch.sigmoid(logits), scale_factor=2, mode="bilinear")
        return mask


def build():
    return MaskHead(), (torch.randn(2, 16, 8, 8),)
