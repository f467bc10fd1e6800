"""Word language model (pytorch/examples word_language_model layout) whose init_weights fills
the embedding in place, and whose forward detaches the embedded input: the in-place
initialisation is no update outside autograd, the embedding is never trained.
Measured: encoder gets no gradient."""
import torch
import torch.nn as nn


class RNNModel(nn.Module):
    def __init__(self, ntoken=50, ninp=16, nhid=16):
        super().__init__()
        self.encoder = nn.Embedding(ntoken, ninp)
        self.rnn = nn.LSTM(ninp, nhid)
        self.decoder = nn.Linear(nhid, ntoken)
        self.init_weights()

    def init_weights(self):
        initrange = 0.1
        self.encoder.weight.data.uniform_(-initrange, initrange)
        self.decoder.weight.data.uniform_(-initrange, initrange)

    def forward(self, input):
        emb = self.encoder(input).detach()  # expect: GL501
        output, hidden = self.rnn(emb)
        return self.decoder(output)


def build():
    return RNNModel(), (torch.randint(0, 50, (5, 2)),)
