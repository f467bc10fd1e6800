# Near-miss: public GitHub code (code search, file id 3216617366), BCNet: every layer drawn with
# `weight.data.normal_(0, 1)` but followed by ReLU, which does not saturate (too large an init is
# an init-scale problem, not saturation).
import torch
import torch.nn as nn
import torch.nn.functional as F


class BCNet(nn.Module):
    def __init__(self, CPoint=20, measure=8, cmd=4, output_size=2):
        super(BCNet, self).__init__()
        self.cp_layer1 = nn.Linear(CPoint, 128)
        self.cp_layer1.weight.data.normal_(0, 1)
        self.cp_layer2 = nn.Linear(128, 64)
        self.cp_layer2.weight.data.normal_(0, 1)
        self.layer_out_1 = nn.Linear(64, 64)
        self.layer_out_1.weight.data.normal_(0, 1)
        self.layer_out_2 = nn.Linear(64, output_size)
        self.layer_out_2.weight.data.normal_(0, 1)

    def forward(self, contralPoint):
        cp = F.relu(self.cp_layer1(contralPoint))
        cp = F.relu(self.cp_layer2(cp))
        x = F.relu(self.layer_out_1(cp))
        x = self.layer_out_2(x)
        return x


def make():
    return BCNet(), torch.randn(256, 20)
