# Near-miss: public GitHub code (code search), a seq2seq attention whose score MLP has a ReLU
# hidden layer of 24 units and a linear output: ReLU inside the scorer, not on the scores.
import torch
import torch.nn as nn
import torch.nn.functional as F


class Attn(nn.Module):
    def __init__(self, h_dim=32):
        super(Attn, self).__init__()
        self.h_dim = h_dim
        self.main = nn.Sequential(
            nn.Linear(h_dim, 24),
            nn.ReLU(True),
            nn.Linear(24, 1),
        )

    def forward(self, encoder_outputs):
        b_size = encoder_outputs.size(0)
        attn_ene = self.main(encoder_outputs.view(-1, self.h_dim))
        return F.softmax(attn_ene.view(b_size, -1), dim=1).unsqueeze(2)


def make():
    return Attn(), torch.randn(64, 10, 32)
