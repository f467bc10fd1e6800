# Source: pytorch/examples word_language_model/main.py and model.py as in PR #223 ("Training any
# baseline model with default settings cause exploding loss ... running RNN_RELU with default
# arguments produces nan losses immediately"; maintainer: "I'd add gradient clipping. Exploding
# gradients are common in RNNs"): the hand-written SGD update at lr 20 with no clip.
import argparse

import torch
import torch.nn as nn

parser = argparse.ArgumentParser(description="PyTorch Wikitext-2 RNN/LSTM Language Model")
parser.add_argument("--model", type=str, default="RNN_RELU", help="type of recurrent net")
parser.add_argument("--lr", type=float, default=20, help="initial learning rate")
args, _ = parser.parse_known_args([])


class RNNModel(nn.Module):
    """Container module with an encoder, a recurrent module, and a decoder."""

    def __init__(self, rnn_type, ntoken, ninp, nhid, nlayers, dropout=0.0):
        super().__init__()
        self.encoder = nn.Embedding(ntoken, ninp)
        if rnn_type in ["LSTM", "GRU"]:
            self.rnn = getattr(nn, rnn_type)(ninp, nhid, nlayers, dropout=dropout)
        else:
            nonlinearity = {"RNN_TANH": "tanh", "RNN_RELU": "relu"}[rnn_type]
            self.rnn = nn.RNN(ninp, nhid, nlayers, nonlinearity=nonlinearity, dropout=dropout)
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
    seq = torch.arange(6000) % 7 * 3 + (torch.arange(6000) // 7) % 5  # a periodic text of 50 tokens
    bptt = 35
    batches = [
        (seq[i : i + bptt].view(bptt, 1).repeat(1, 8), seq[i + 1 : i + bptt + 1].view(bptt, 1).repeat(1, 8))
        for i in range(0, 60 * bptt, bptt)
    ]
    return RNNModel(args.model, 50, 32, 64, 2), batches, None
