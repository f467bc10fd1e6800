"""Self-supervised model whose online branch was pasted from the target branch's code: the
projection is normalised under torch.no_grad, so neither backbone nor projector learns (the
target branch is the only place no_grad belongs). Measured: both get no gradient."""
import torch
import torch.nn as nn


class OnlineNetwork(nn.Module):
    def __init__(self, dim=32, proj=16):
        super().__init__()
        self.backbone = nn.Sequential(nn.Linear(64, dim), nn.ReLU(), nn.Linear(dim, dim))
        self.projector = nn.Sequential(nn.Linear(dim, proj), nn.BatchNorm1d(proj))
        self.predictor = nn.Linear(proj, proj)

    def forward(self, view):
        feats = self.backbone(view)
        z = self.projector(feats)
        with torch.no_grad():  # expect: GL502
            z = nn.functional.normalize(z, dim=-1)
        return self.predictor(z)


def build():
    return OnlineNetwork(), (torch.randn(4, 64),)
