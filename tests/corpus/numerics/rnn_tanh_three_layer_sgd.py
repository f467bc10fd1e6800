# Source: pytorch/examples word_language_model with --model RNN_TANH (PR #223: "Running RNN_TANH
# with defaults causes training to plateau at a loss of roughly 10"), three layers, trained by
# torch.optim.SGD at lr 5 with the clip left out.
import torch
import torch.nn as nn


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


def train(model, batches, optimizer):
    criterion = nn.CrossEntropyLoss()
    losses = []
    for data, targets in batches:
        optimizer.zero_grad()
        output, _ = model(data)
        loss = criterion(output.view(-1, output.size(-1)), targets.view(-1))
        loss.backward()
        optimizer.step()  # expect: GL607
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
    model = RNNModel("RNN_TANH", 50, 32, 64, 3)
    return model, batches, torch.optim.SGD(model.parameters(), lr=5)
