"""A hand-written trainer that takes the loss class and the model apart
(criterion=nn.CrossEntropyLoss beside a module whose forward ends in softmax): the held-out
report kind "training wrapper receives the loss class and the model separately"."""
import torch
import torch.nn as nn


class TextClassifier(nn.Module):
    def __init__(self, vocab, dim=128, n_classes=4):
        super().__init__()
        self.embedding = nn.EmbeddingBag(vocab, dim)
        self.fc = nn.Linear(dim, n_classes)

    def forward(self, text, offsets):
        return torch.softmax(self.fc(self.embedding(text, offsets)), dim=1)


class Trainer:
    def __init__(self, model, criterion=nn.CrossEntropyLoss, lr=5.0):
        self.model = model
        self.criterion = criterion()
        self.optimizer = torch.optim.SGD(model.parameters(), lr=lr)

    def fit(self, loader):
        self.model.train()
        for label, text, offsets in loader:
            self.optimizer.zero_grad()
            predicted = self.model(text, offsets)
            loss = self.criterion(predicted, label)  # expect: GL401
            loss.backward()
            self.optimizer.step()
