import torch
import torch.nn as nn
import torch.nn.functional as F


class AttentionMIL(nn.Module):
    """Attention-based multiple-instance pooling over patch features (whole-slide images)."""

    def __init__(self, in_dim=512, hidden=128, n_classes=2):
        super().__init__()
        self.embed = nn.Sequential(nn.Linear(in_dim, hidden), nn.ReLU())
        self.attention_V = nn.Linear(hidden, 64)
        self.attention_U = nn.Linear(hidden, 64)
        self.attention_w = nn.Linear(64, 1)
        self.classifier = nn.Linear(hidden, n_classes)

    def forward(self, bag):
        h = self.embed(bag)  # (n_patches, hidden)
        a = self.attention_w(torch.tanh(self.attention_V(h)) * torch.sigmoid(self.attention_U(h)))
        # weights are only used for pooling; no need to backprop through them (saves memory)
        a = F.softmax(a.squeeze(-1), dim=0).detach()  # expect: GL501
        pooled = (a.unsqueeze(-1) * h).sum(0)
        return self.classifier(pooled), a


def build():
    return AttentionMIL(in_dim=16, hidden=8), (torch.randn(7, 16),)


def train(model, bags, epochs=20):
    optimizer = torch.optim.Adam(model.parameters(), lr=2e-4, weight_decay=1e-4)
    for epoch in range(epochs):
        for features, label in bags:
            logits, _ = model(features)
            loss = F.cross_entropy(logits.unsqueeze(0), label.view(1))
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
