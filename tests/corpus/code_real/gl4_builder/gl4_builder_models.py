"""Model zoo of a project: classes and the functions that build them from a config."""
import torch.nn as nn


class TabularNet(nn.Module):
    def __init__(self, n_features, n_classes, hidden=64):
        super().__init__()
        self.body = nn.Sequential(nn.Linear(n_features, hidden), nn.ReLU(), nn.Dropout(0.1))
        self.head = nn.Linear(hidden, n_classes)
        self.softmax = nn.Softmax(dim=1)

    def forward(self, x):
        return self.softmax(self.head(self.body(x)))


class TabularLogits(nn.Module):
    def __init__(self, n_features, n_classes, hidden=64):
        super().__init__()
        self.body = nn.Sequential(nn.Linear(n_features, hidden), nn.ReLU())
        self.head = nn.Linear(hidden, n_classes)

    def forward(self, x):
        return self.head(self.body(x))


def build_model(cfg):
    model = TabularNet(cfg["n_features"], cfg["n_classes"], cfg.get("hidden", 64))
    return model


def build_logits_model(cfg):
    return TabularLogits(cfg["n_features"], cfg["n_classes"])
