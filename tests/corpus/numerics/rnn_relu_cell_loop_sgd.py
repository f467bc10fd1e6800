# Source: the hand-written recurrence of pytorch/tutorials intermediate_source/char_rnn_*
# (a cell applied in a Python loop over the characters) with the ReLU recurrence of
# pytorch/examples word_language_model's RNN_RELU (PR #223: "produces nan losses immediately";
# maintainer: "I'd add gradient clipping"), trained by SGD at lr 5 with no clip.
import torch
import torch.nn as nn


class ElmanRNN(nn.Module):
    def __init__(self, ntoken=50, nhid=64):
        super().__init__()
        self.nhid = nhid
        self.embed = nn.Embedding(ntoken, nhid)
        self.i2h = nn.Linear(nhid, nhid)
        self.h2h = nn.Linear(nhid, nhid)
        self.h2o = nn.Linear(nhid, ntoken)

    def forward(self, input):
        hidden = torch.zeros(input.size(1), self.nhid)
        outputs = []
        for t in range(input.size(0)):
            hidden = torch.relu(self.i2h(self.embed(input[t])) + self.h2h(hidden))
            outputs.append(self.h2o(hidden))
        return torch.stack(outputs)


def train(model, batches, optimizer):
    losses = []
    for data, targets in batches:
        optimizer.zero_grad()
        output = model(data)
        loss = nn.functional.cross_entropy(output.view(-1, output.size(-1)), targets.reshape(-1))
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
    model = ElmanRNN()
    return model, batches, torch.optim.SGD(model.parameters(), lr=5)
