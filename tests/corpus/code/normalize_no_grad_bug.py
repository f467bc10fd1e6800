import torch
import torch.nn as nn
import torch.nn.functional as F


class FaceEmbedder(nn.Module):
    """ArcFace-style embedder; embeddings are L2-normalised before the margin head."""

    def __init__(self, backbone_dim=128, emb_dim=64, n_ids=1000, s=30.0):
        super().__init__()
        self.backbone = nn.Sequential(
            nn.Conv2d(3, 32, 3, 2, 1), nn.BatchNorm2d(32), nn.PReLU(32),
            nn.Conv2d(32, 64, 3, 2, 1), nn.BatchNorm2d(64), nn.PReLU(64),
            nn.AdaptiveAvgPool2d(1), nn.Flatten(),
            nn.Linear(64, backbone_dim),
        )
        self.neck = nn.Linear(backbone_dim, emb_dim)
        self.weight = nn.Parameter(torch.randn(n_ids, emb_dim) * 0.01)
        self.s = s

    def forward(self, x):
        emb = self.neck(self.backbone(x))
        with torch.no_grad():  # expect: GL502
            emb = F.normalize(emb, dim=1)
        cosine = F.linear(emb, F.normalize(self.weight, dim=1))
        return self.s * cosine


def build():
    return FaceEmbedder(backbone_dim=16, emb_dim=8, n_ids=10), (torch.randn(2, 3, 16, 16),)


def train(model, loader, epochs=20):
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9, weight_decay=5e-4)
    for epoch in range(epochs):
        for images, ids in loader:
            logits = model(images)
            loss = F.cross_entropy(logits, ids)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
