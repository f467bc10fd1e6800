# expect-model: GL101
import torch
import torch.nn as nn

INPUT_SHAPE = (128, 96)


class TanhAutoencoder(nn.Module):
    def __init__(self, dim=96, widths=(128, 128, 96, 64, 64, 48, 32, 16)):
        super().__init__()
        enc = []
        d = dim
        for w in widths:
            enc.append(nn.Linear(d, w))
            d = w
        dec = []
        for w in list(reversed(widths[:-1])) + [dim]:
            dec.append(nn.Linear(d, w))
            d = w
        self.encoder = nn.ModuleList(enc)
        self.decoder = nn.ModuleList(dec)

    def encode(self, x):
        for layer in self.encoder:
            x = layer(x).tanh()
        return x

    def forward(self, x):
        z = self.encode(x)
        for layer in self.decoder[:-1]:
            z = layer(z).tanh()
        return self.decoder[-1](z)


def build():
    return TanhAutoencoder()
