# Source: https://github.com/shenweichen/DeepCTR-Torch/issues/93
# Confirmed: maintainers: "alpha should be nn.parameter.Parameter ... Otherwise this
# parameter will fix to init value in the training process" (fixed in v0.2.4).
import torch
import torch.nn as nn


class Dice(nn.Module):
    def __init__(self, emb_size, epsilon=1e-8, device="cpu"):
        super().__init__()
        self.bn = nn.BatchNorm1d(emb_size, eps=epsilon)
        self.sigmoid = nn.Sigmoid()
        self.alpha = torch.zeros((emb_size,)).to(device)  # expect: GL702

    def forward(self, x):
        x_p = self.sigmoid(self.bn(x))
        return self.alpha * (1 - x_p) * x + x_p * x


class CTRTower(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(6, 6)
        self.act = Dice(6)
        self.out = nn.Linear(6, 1)

    def forward(self, x):
        return self.out(self.act(self.fc(x)))


def make():
    model = CTRTower()
    with torch.no_grad():
        model.act.alpha.fill_(0.25)  # a nonzero slope, so that the loss depends on it
    return model, torch.randn(8, 6)
