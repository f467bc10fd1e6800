import torch
import torch.nn as nn
import torch.nn.functional as F


class PatchEncoder(nn.Module):
    """ViT-style encoder; the positional mixing was wrapped in no_grad to save memory."""

    def __init__(self, img_size=32, patch=4, dim=64, depth=2, heads=4, n_classes=10):
        super().__init__()
        n_patches = (img_size // patch) ** 2
        self.patchify = nn.Conv2d(3, dim, patch, stride=patch)
        self.pos = nn.Parameter(torch.randn(1, n_patches, dim) * 0.02)
        layer = nn.TransformerEncoderLayer(dim, heads, dim * 2, batch_first=True)
        self.encoder = nn.TransformerEncoder(layer, depth)
        self.head = nn.Linear(dim, n_classes)

    def forward(self, images):
        h = self.patchify(images).flatten(2).transpose(1, 2)
        with torch.no_grad():  # expect: GL502
            h = h + self.pos[:, : h.size(1)]
            h = F.layer_norm(h, h.shape[-1:])
        h = self.encoder(h)
        return self.head(h.mean(1))


def build():
    return PatchEncoder(img_size=8, patch=4, dim=16, depth=1, heads=2), (torch.randn(2, 3, 8, 8),)


def train(model, loader, epochs=10):
    optimizer = torch.optim.AdamW(model.parameters(), lr=3e-4, weight_decay=0.05)
    for epoch in range(epochs):
        for images, labels in loader:
            loss = F.cross_entropy(model(images), labels)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
