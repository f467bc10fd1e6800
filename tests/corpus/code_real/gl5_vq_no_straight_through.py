"""Vector quantiser without the straight-through trick and without an EMA update: the codebook
output is detached and nothing writes the codebook back, so the encoder loses its gradient.
(Contrast: gl5_ok_ema_codebook.py.) Measured: encoder gets no gradient."""
import torch
import torch.nn as nn


class VQAutoencoder(nn.Module):
    def __init__(self, num_codes=16, dim=8):
        super().__init__()
        self.encoder = nn.Linear(12, dim)
        self.codebook = nn.Embedding(num_codes, dim)
        self.decoder = nn.Linear(dim, 12)

    def forward(self, x):
        z = self.encoder(x)
        idx = torch.cdist(z, self.codebook.weight).argmin(dim=-1)
        q = self.codebook(idx)
        q = (q + z).detach()  # expect: GL501
        return self.decoder(q)


def build():
    return VQAutoencoder(), (torch.randn(4, 12),)
