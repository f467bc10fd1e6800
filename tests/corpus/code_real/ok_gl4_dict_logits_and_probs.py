"""Near-miss: the model returns a dict with both logits and probabilities; the loss reads
output['logits'] and only the metrics read output['probs']."""
import torch
import torch.nn as nn


class Classifier(nn.Module):
    def __init__(self, dim=64, n_classes=5):
        super().__init__()
        self.body = nn.Sequential(nn.Linear(dim, dim), nn.ReLU())
        self.fc = nn.Linear(dim, n_classes)

    def forward(self, x):
        logits = self.fc(self.body(x))
        return {"logits": logits, "probs": torch.softmax(logits, dim=-1)}


def train(model, loader, optimizer):
    criterion = nn.CrossEntropyLoss()
    for x, y in loader:
        out = model(x)
        loss = criterion(out["logits"], y)
        acc = (out["probs"].argmax(-1) == y).float().mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
