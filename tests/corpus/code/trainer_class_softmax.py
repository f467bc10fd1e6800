from dataclasses import dataclass

import torch
import torch.nn as nn


@dataclass
class Config:
    in_dim: int = 40
    hidden: int = 128
    n_classes: int = 6
    lr: float = 1e-3
    epochs: int = 30


class ActivityClassifier(nn.Module):
    """Human activity recognition from accelerometer windows."""

    def __init__(self, cfg: Config):
        super().__init__()
        self.conv = nn.Sequential(
            nn.Conv1d(3, 32, 5, padding=2), nn.ReLU(), nn.MaxPool1d(2),
            nn.Conv1d(32, 64, 5, padding=2), nn.ReLU(), nn.AdaptiveAvgPool1d(1),
        )
        self.fc = nn.Linear(64, cfg.n_classes)

    def forward(self, x):
        h = self.conv(x).squeeze(-1)
        out = self.fc(h)
        return out.softmax(dim=-1)


class Trainer:
    def __init__(self, cfg: Config, device="cpu"):
        self.cfg = cfg
        self.device = device
        self.model = ActivityClassifier(cfg).to(device)
        self.criterion = nn.CrossEntropyLoss()
        self.optimizer = torch.optim.Adam(self.model.parameters(), lr=cfg.lr)

    def step(self, x, y):
        self.model.train()
        self.optimizer.zero_grad()
        out = self.model(x.to(self.device))
        loss = self.criterion(out, y.to(self.device))  # expect: GL401
        loss.backward()
        self.optimizer.step()
        return loss.item()

    def fit(self, loader):
        for epoch in range(self.cfg.epochs):
            losses = [self.step(x, y) for x, y in loader]
            print(epoch, sum(losses) / len(losses))

    @torch.no_grad()
    def predict(self, x):
        self.model.eval()
        return self.model(x.to(self.device)).argmax(-1)
