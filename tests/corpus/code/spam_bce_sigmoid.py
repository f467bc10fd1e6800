import torch
import torch.nn as nn


class BagOfWords(nn.Module):
    def __init__(self, vocab, dim=64):
        super().__init__()
        self.emb = nn.EmbeddingBag(vocab, dim, mode="mean")
        self.fc = nn.Linear(dim, 1)
        self.act = nn.Sigmoid()

    def forward(self, tokens, offsets):
        return self.act(self.fc(self.emb(tokens, offsets))).view(-1)


model = BagOfWords(20000)
criterion = nn.BCELoss()
optimizer = torch.optim.SGD(model.parameters(), lr=0.5)


def run_epoch(loader):
    model.train()
    for tokens, offsets, label in loader:
        optimizer.zero_grad()
        prob = model(tokens, offsets)
        loss = criterion(prob, label)  # expect: GL404
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 0.1)
        optimizer.step()


def accuracy(loader):
    model.eval()
    hits = n = 0
    with torch.no_grad():
        for tokens, offsets, label in loader:
            hits += ((model(tokens, offsets) > 0.5).float() == label).sum().item()
            n += label.numel()
    return hits / n
