import torch
import torch.nn as nn
import torch.nn.functional as F


class KeywordSpotter(nn.Module):
    """Returns logits in training, probabilities at inference (for the C++ runtime)."""

    def __init__(self, n_mels=40, n_keywords=12):
        super().__init__()
        self.conv = nn.Sequential(
            nn.Conv2d(1, 64, (20, 8)), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(64, 64, (10, 4)), nn.ReLU(),
        )
        self.classifier = nn.LazyLinear(n_keywords)

    def forward(self, x):
        logits = self.classifier(self.conv(x.unsqueeze(1)).flatten(1))
        if self.training:
            return logits
        return F.softmax(logits, dim=-1)


def train(model, loader, epochs=20):
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = nn.CrossEntropyLoss()
    for epoch in range(epochs):
        model.train()
        for mel, label in loader:
            loss = loss_fn(model(mel), label)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()


@torch.no_grad()
def validate(model, loader):
    model.eval()
    nll = 0.0
    for mel, label in loader:
        probs = model(mel)
        nll += F.nll_loss(torch.log(probs + 1e-9), label, reduction="sum").item()
    return nll / len(loader.dataset)
