import torch
import torch.nn as nn


class MultiTaskNet(nn.Module):
    """Shared trunk; the depth head must not shape the trunk, so it reads detached features."""

    def __init__(self, n_classes=13):
        super().__init__()
        self.trunk = nn.Sequential(
            nn.Conv2d(3, 32, 3, padding=1), nn.BatchNorm2d(32), nn.ReLU(),
            nn.Conv2d(32, 64, 3, padding=1), nn.BatchNorm2d(64), nn.ReLU(),
        )
        self.seg_head = nn.Conv2d(64, n_classes, 1)
        self.depth_head = nn.Sequential(nn.Conv2d(64, 32, 3, padding=1), nn.ReLU(), nn.Conv2d(32, 1, 1))

    def forward(self, x):
        feats = self.trunk(x)
        seg = self.seg_head(feats)
        depth = self.depth_head(feats.detach())
        mask = (seg.argmax(1, keepdim=True) > 0).detach()
        depth = torch.where(mask, depth, torch.zeros_like(depth))
        return seg, depth


def build():
    return MultiTaskNet(n_classes=3), (torch.randn(2, 3, 8, 8),)
