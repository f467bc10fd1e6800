"""Classifiers picked from a registry by a command-line name; every entry ends in softmax and
the script trains with CrossEntropyLoss. Held-out report kind: "the model is built ... from a
registry or config lookup"."""
import argparse

import torch
import torch.nn as nn
import torch.nn.functional as F


class MLP(nn.Module):
    def __init__(self, n_in=40, n_classes=6):
        super().__init__()
        self.fc1 = nn.Linear(n_in, 128)
        self.fc2 = nn.Linear(128, n_classes)

    def forward(self, x):
        return F.softmax(self.fc2(F.relu(self.fc1(x))), dim=1)


class CNN1D(nn.Module):
    def __init__(self, n_in=40, n_classes=6):
        super().__init__()
        self.conv = nn.Conv1d(1, 16, 5, padding=2)
        self.fc = nn.Linear(16 * n_in, n_classes)

    def forward(self, x):
        h = F.relu(self.conv(x.unsqueeze(1))).flatten(1)
        return F.softmax(self.fc(h), dim=1)


MODELS = {"mlp": MLP, "cnn": CNN1D}


def main(loader):
    parser = argparse.ArgumentParser()
    parser.add_argument("--arch", default="mlp", choices=list(MODELS))
    args = parser.parse_args()
    model = MODELS[args.arch]()
    criterion = nn.CrossEntropyLoss()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    for x, y in loader:
        loss = criterion(model(x), y)  # expect: GL401
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
