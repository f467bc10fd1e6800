"""Near-miss: torch.set_grad_enabled(self.training) as a with block and as a call that turns
grad mode on; nothing is cut in training."""
import torch
import torch.nn as nn


class Encoder(nn.Module):
    def __init__(self, freeze_bn=False):
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3)
        self.fc = nn.Linear(8, 2)

    def forward(self, x):
        torch.set_grad_enabled(True)
        with torch.set_grad_enabled(self.training):
            h = self.conv(x).mean((2, 3))
        return self.fc(h)


def build():
    return Encoder(), (torch.randn(2, 3, 8, 8),)
