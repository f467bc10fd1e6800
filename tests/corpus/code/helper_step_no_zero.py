import torch
import torch.nn as nn


class Autoencoder(nn.Module):
    def __init__(self, d=784, k=32):
        super().__init__()
        self.enc = nn.Sequential(nn.Linear(d, 256), nn.ReLU(), nn.Linear(256, k))
        self.dec = nn.Sequential(nn.Linear(k, 256), nn.ReLU(), nn.Linear(256, d), nn.Sigmoid())

    def forward(self, x):
        return self.dec(self.enc(x))


def train_step(model, batch, optimizer, loss_fn):
    recon = model(batch)
    loss = loss_fn(recon, batch)
    loss.backward()
    optimizer.step()  # expect: GL601
    return loss.item()


def train(model, loader, epochs=10):
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = nn.MSELoss()
    for epoch in range(epochs):
        losses = []
        for batch, _ in loader:
            losses.append(train_step(model, batch.view(batch.size(0), -1), optimizer, loss_fn))
        print(f"epoch {epoch}: {sum(losses) / len(losses):.4f}")
