# Near-miss: pytorch/examples word_language_model/main.py as it is: an LSTM trained by the
# hand-written SGD update at lr 20, with clip_grad_norm_ at 0.25 (the healthy anchor).
import argparse

import torch
import torch.nn as nn

parser = argparse.ArgumentParser(description="PyTorch Wikitext-2 RNN/LSTM Language Model")
parser.add_argument("--lr", type=float, default=20, help="initial learning rate")
parser.add_argument("--clip", type=float, default=0.25, help="gradient clipping")
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
        # clip_grad_norm helps prevent the exploding gradient problem in RNNs / LSTMs.
        torch.nn.utils.clip_grad_norm_(model.parameters(), args.clip)
        for p in model.parameters():
            p.data.add_(p.grad, alpha=-lr)
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
    return RNNModel("LSTM", 50, 32, 64, 2), batches, None
