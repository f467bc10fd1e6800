# Source: pytorch/examples word_language_model/main.py and model.py; the copy in this file has lost
# `torch.nn.utils.clip_grad_norm_(model.parameters(), args.clip)` (clip 0.25), the one line that keeps
# the hand-written SGD update at lr 20 stable.
import argparse

import torch
import torch.nn as nn

parser = argparse.ArgumentParser(description="PyTorch Wikitext-2 RNN/LSTM/GRU/Transformer Language Model")
parser.add_argument("--lr", type=float, default=20, help="initial learning rate")
parser.add_argument("--bptt", type=int, default=35, help="sequence length")
args, _ = parser.parse_known_args([])


class RNNModel(nn.Module):
    def __init__(self, rnn_type, ntoken, ninp, nhid, nlayers, dropout=0.0):
        super().__init__()
        self.encoder = nn.Embedding(ntoken, ninp)
        if rnn_type in ["LSTM", "GRU"]:
            self.rnn = getattr(nn, rnn_type)(ninp, nhid, nlayers, dropout=dropout)
        else:
            self.rnn = nn.RNN(ninp, nhid, nlayers, nonlinearity="tanh", dropout=dropout)
        self.decoder = nn.Linear(nhid, ntoken)

    def forward(self, input, hidden=None):
        output, hidden = self.rnn(self.encoder(input), hidden)
        return self.decoder(output), hidden


lr = args.lr
criterion = nn.CrossEntropyLoss()


def train(model, batches, optimizer=None):
    model.train()
    losses = []
    for data, targets in batches:
        model.zero_grad()
        output, hidden = model(data)
        loss = criterion(output.view(-1, output.size(-1)), targets.view(-1))
        loss.backward()
        for p in model.parameters():
            p.data.add_(p.grad, alpha=-lr)  # expect: GL607
        losses.append(loss.item())
    return losses


def make():
    torch.manual_seed(0)
    model = RNNModel("LSTM", 50, 32, 32, 2)
    batches = [(torch.randint(0, 50, (args.bptt, 8)), torch.randint(0, 50, (args.bptt, 8))) for _ in range(100)]
    return model, batches, None
