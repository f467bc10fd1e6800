import logging

import torch
from torch import nn

log = logging.getLogger(__name__)


class CharRNN(nn.Module):
    def __init__(self, vocab, hidden=256, layers=2):
        super().__init__()
        self.embed = nn.Embedding(vocab, hidden)
        self.rnn = nn.GRU(hidden, hidden, layers, batch_first=True)
        self.out = nn.Linear(hidden, vocab)

    def forward(self, x, h=None):
        y, h = self.rnn(self.embed(x), h)
        return self.out(y), h


class RNNTrainer:
    def __init__(self, model, lr=2e-3, clip=5.0, bptt=100):
        self.model = model
        self.clip = clip
        self.bptt = bptt
        self.optim = torch.optim.RMSprop(model.parameters(), lr=lr)
        self.loss_fn = nn.CrossEntropyLoss()

    def train_epoch(self, data):
        self.model.train()
        hidden = None
        for i in range(0, data.size(1) - 1, self.bptt):
            x = data[:, i:i + self.bptt]
            y = data[:, i + 1:i + 1 + self.bptt]
            if hidden is not None:
                hidden = hidden.detach()
            self.optim.zero_grad()
            logits, hidden = self.model(x, hidden)
            loss = self.loss_fn(logits.reshape(-1, logits.size(-1)), y.reshape(-1))
            nn.utils.clip_grad_norm_(self.model.parameters(), self.clip)  # expect: GL604
            loss.backward()
            self.optim.step()
            if i % (self.bptt * 50) == 0:
                log.info("step %d loss %.3f", i, loss.item())
