# Source: the linear-probe-turned-finetune shape of facebookresearch/moco-v3 and DINO heads
# (`with torch.no_grad(): feats = self.backbone(x)`), with the backbone left trainable: nothing
# freezes it and `model.parameters()` hands it to the optimiser.
import torch
import torch.nn as nn


class Classifier(nn.Module):
    def __init__(self):
        super().__init__()
        self.backbone = nn.Sequential(nn.Linear(16, 32), nn.ReLU(), nn.Linear(32, 32))
        self.head = nn.Linear(32, 4)

    def forward(self, x):
        with torch.no_grad():  # expect: GL502
            feats = self.backbone(x)
        return self.head(feats)


LOST = ("backbone",)


def make():
    torch.manual_seed(0)
    return Classifier(), torch.randn(8, 16)
