# Source: https://github.com/ifzhang/FairMOT/issues/223
# Confirmed: the optimiser was built from model.parameters() while MotLoss holds the re-ID
# classifier; the maintainer then added the loss's parameters to the optimiser ("it can
# improve the performance of re-ID").
import torch
import torch.nn as nn
import torch.nn.functional as F


class MotLoss(nn.Module):
    def __init__(self, emb_dim=8, nID=12):
        super().__init__()
        self.classifier = nn.Linear(emb_dim, nID)
        self.emb_scale = 2.0

    def forward(self, embedding, ids):
        logits = self.classifier(self.emb_scale * F.normalize(embedding))
        return F.cross_entropy(logits, ids)


class DLASeg(nn.Module):
    def __init__(self):
        super().__init__()
        self.base = nn.Sequential(nn.Linear(16, 32), nn.ReLU())
        self.id_head = nn.Linear(32, 8)

    def forward(self, x):
        return self.id_head(self.base(x))


def train(model: DLASeg, example):
    optimizer = torch.optim.Adam(model.parameters(), 1e-4)  # expect: GL704
    loss_fn = MotLoss()
    ids = torch.arange(example.size(0)) % 12
    for batch in [example]:
        outputs = model(batch)
        loss = loss_fn(outputs, ids)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()


def make():
    return DLASeg(), torch.randn(4, 16)
