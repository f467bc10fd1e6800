"""Near-miss: a trainer whose default loss class is NLLLoss, beside a model ending in
log_softmax (the pairing NLLLoss expects)."""
import torch
import torch.nn as nn
import torch.nn.functional as F


class Tagger(nn.Module):
    def __init__(self, vocab, tags, dim=64):
        super().__init__()
        self.emb = nn.Embedding(vocab, dim)
        self.lstm = nn.LSTM(dim, dim, batch_first=True)
        self.out = nn.Linear(dim, tags)

    def forward(self, x):
        h, _ = self.lstm(self.emb(x))
        return F.log_softmax(self.out(h), dim=-1)


class Trainer:
    def __init__(self, model, criterion=nn.NLLLoss, lr=0.1):
        self.model = model
        self.criterion = criterion()
        self.optimizer = torch.optim.SGD(model.parameters(), lr=lr)

    def fit(self, loader):
        for x, y in loader:
            self.optimizer.zero_grad()
            scores = self.model(x)
            loss = self.criterion(scores.view(-1, scores.size(-1)), y.view(-1))
            loss.backward()
            self.optimizer.step()
