"""Near-miss: an online linear classifier trained on detached features beside the
self-supervised loss that trains the encoder (vturrisi/solo-learn issue #135: ".detach() is not
done in-place, so only for self.classifier() the features are detached")."""
import torch
import torch.nn as nn


class BaseMethod(nn.Module):
    def __init__(self, dim=32, num_classes=10):
        super().__init__()
        self.backbone = nn.Sequential(nn.Linear(64, dim), nn.ReLU())
        self.projector = nn.Linear(dim, dim)
        self.classifier = nn.Linear(dim, num_classes)

    def forward(self, x):
        feats = self.backbone(x)
        logits = self.classifier(feats.detach())
        return {"logits": logits, "feats": feats, "z": self.projector(feats)}


def build():
    return BaseMethod(), (torch.randn(2, 64),)
