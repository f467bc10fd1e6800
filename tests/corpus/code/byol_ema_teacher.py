"""BYOL: online network + EMA target network."""
import copy

import torch
import torch.nn as nn
import torch.nn.functional as F


def mlp(dim, hidden=512, out=128):
    return nn.Sequential(nn.Linear(dim, hidden), nn.BatchNorm1d(hidden), nn.ReLU(inplace=True), nn.Linear(hidden, out))


class BYOL(nn.Module):
    def __init__(self, backbone: nn.Module, feat_dim=512, proj_dim=128, tau=0.996):
        super().__init__()
        self.online_encoder = backbone
        self.online_projector = mlp(feat_dim, out=proj_dim)
        self.predictor = mlp(proj_dim, out=proj_dim)
        self.target_encoder = copy.deepcopy(self.online_encoder)
        self.target_projector = copy.deepcopy(self.online_projector)
        for p in list(self.target_encoder.parameters()) + list(self.target_projector.parameters()):
            p.requires_grad = False
        self.tau = tau

    @torch.no_grad()
    def update_target(self):
        for online, target in ((self.online_encoder, self.target_encoder), (self.online_projector, self.target_projector)):
            for po, pt in zip(online.parameters(), target.parameters()):
                pt.data.mul_(self.tau).add_(po.data, alpha=1 - self.tau)

    @staticmethod
    def regression_loss(p, z):
        p = F.normalize(p, dim=-1)
        z = F.normalize(z, dim=-1)
        return 2 - 2 * (p * z).sum(dim=-1)

    def forward(self, view1, view2):
        p1 = self.predictor(self.online_projector(self.online_encoder(view1)))
        p2 = self.predictor(self.online_projector(self.online_encoder(view2)))
        with torch.no_grad():
            z1 = self.target_projector(self.target_encoder(view1))
            z2 = self.target_projector(self.target_encoder(view2))
        loss = self.regression_loss(p1, z2.detach()) + self.regression_loss(p2, z1.detach())
        return loss.mean()


def build():
    backbone = nn.Sequential(nn.Flatten(), nn.Linear(48, 32), nn.ReLU())
    model = BYOL(backbone, feat_dim=32, proj_dim=16)
    return model, (torch.randn(4, 3, 4, 4), torch.randn(4, 3, 4, 4))


def pretrain(model, loader, epochs=100, base_lr=0.2):
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.SGD(params, lr=base_lr, momentum=0.9, weight_decay=1.5e-6)
    for epoch in range(epochs):
        for (v1, v2), _ in loader:
            loss = model(v1, v2)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            model.update_target()
