"""Near-miss: a sigmoid output fed to BCELoss (correct pairing; only the info-level GL404,
which is opt-in, would speak)."""
import torch
import torch.nn as nn


class SpamNet(nn.Module):
    def __init__(self, vocab=5000):
        super().__init__()
        self.fc = nn.Linear(vocab, 1)

    def forward(self, x):
        return torch.sigmoid(self.fc(x)).squeeze(-1)


def fit(model, loader):
    criterion = nn.BCEWithLogitsLoss()
    optimizer = torch.optim.Adam(model.parameters())
    for x, y in loader:
        logits = model.fc(x).squeeze(-1)
        loss = criterion(logits, y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
