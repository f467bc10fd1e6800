"""Features taken from a forward hook that stores output.detach(); forward returns the head on
the stored features, so the backbone is never trained. Held-out report kind: "the cut is inside
a forward hook whose stored result forward returns". Measured: backbone gets no gradient."""
import torch
import torch.nn as nn


class HookedClassifier(nn.Module):
    def __init__(self, num_classes=10):
        super().__init__()
        self.backbone = nn.Sequential(
            nn.Conv2d(3, 32, 3, padding=1), nn.ReLU(),
            nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(),
        )
        self.backbone[-1].register_forward_hook(self._save_features)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.head = nn.Linear(64, num_classes)

    def _save_features(self, module, inputs, output):
        self.features = output.detach()  # expect: GL501

    def forward(self, x):
        self.backbone(x)
        return self.head(self.pool(self.features).flatten(1))


def build():
    return HookedClassifier(), (torch.randn(2, 3, 8, 8),)
