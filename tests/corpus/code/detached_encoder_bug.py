"""Autoencoder + classifier head. The encoder output is cached for the t-SNE plot."""
import torch
import torch.nn as nn
import torch.nn.functional as F


class Encoder(nn.Module):
    def __init__(self, in_dim=784, latent=32):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(in_dim, 256), nn.ReLU(), nn.Linear(256, latent))

    def forward(self, x):
        return self.net(x)


class SemiSupervisedAE(nn.Module):
    def __init__(self, in_dim=784, latent=32, n_classes=10):
        super().__init__()
        self.encoder = Encoder(in_dim, latent)
        self.decoder = nn.Sequential(nn.Linear(latent, 256), nn.ReLU(), nn.Linear(256, in_dim))
        self.classifier = nn.Linear(latent, n_classes)
        self.last_latent = None

    def forward(self, x):
        x = x.flatten(1)
        z = self.encoder(x)
        z = z.detach()  # expect: GL501
        self.last_latent = z.cpu()
        recon = torch.sigmoid(self.decoder(z))
        logits = self.classifier(z)
        return recon, logits


def build():
    return SemiSupervisedAE(in_dim=64, latent=8), (torch.randn(4, 64),)


def train(model, loader, epochs=5):
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    for _ in range(epochs):
        for x, y in loader:
            recon, logits = model(x)
            loss = F.binary_cross_entropy(recon, x.flatten(1)) + F.cross_entropy(logits, y)  # expect: GL404
            opt.zero_grad()
            loss.backward()
            opt.step()
