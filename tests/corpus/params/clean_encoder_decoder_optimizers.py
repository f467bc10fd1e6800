# Near-miss: one optimiser for the encoder and one for the decoder, both stepped on the loss
# (https://pythonhelpdesk.com/2024/02/25/training-encoder-and-decoder-separately-in-pytorch).
import torch
import torch.nn as nn
import torch.optim as optim


class Seq2Seq(nn.Module):
    def __init__(self):
        super().__init__()
        self.encoder = nn.GRU(8, 16, batch_first=True)
        self.decoder = nn.Linear(16, 8)

    def forward(self, x):
        out, _ = self.encoder(x)
        return self.decoder(out)


def train(model: Seq2Seq, example):
    encoder_optimizer = optim.Adam(model.encoder.parameters(), lr=1e-3)
    decoder_optimizer = optim.Adam(model.decoder.parameters(), lr=1e-3)
    for x in [example]:
        encoder_optimizer.zero_grad()
        decoder_optimizer.zero_grad()
        hidden, _ = model.encoder(x)
        loss = (model.decoder(hidden) - x).pow(2).mean()
        loss.backward()
        encoder_optimizer.step()
        decoder_optimizer.step()


def make():
    return Seq2Seq(), torch.randn(2, 5, 8)
