# Near-miss: cvqluu/Angular-Penalty-Softmax-Losses-Pytorch#10: the asker feared the fc layer
# was re-created each step; the answer: it is built once, in __init__, and forward only
# normalises its weight in place.
import torch
import torch.nn as nn
import torch.nn.functional as F


class AngularPenaltySMLoss(nn.Module):
    def __init__(self, in_features, out_features, s=30.0, m=0.4):
        super().__init__()
        self.s, self.m = s, m
        self.fc = nn.Linear(in_features, out_features, bias=False)

    def forward(self, x):
        w = F.normalize(self.fc.weight, dim=1)
        wf = F.linear(F.normalize(x, dim=1), w)
        return self.s * (wf - self.m)


def make():
    return AngularPenaltySMLoss(6, 4), torch.randn(3, 6)
