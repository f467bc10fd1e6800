"""Continual-learning model whose output head reads detached representations, so the encoder
never learns. After lebrice/Sequoia PR #77 ("Fix Encoder having no gradients", merged, fixes
issue #71). Measured: encoder gets no gradient."""
import torch
import torch.nn as nn


class BaseModel(nn.Module):
    def __init__(self, in_features=32, hidden=64, n_actions=4, detach_output_head=True):
        super().__init__()
        self.encoder = nn.Sequential(nn.Linear(in_features, hidden), nn.ReLU(), nn.Linear(hidden, hidden))
        self.output_head = nn.Linear(hidden, n_actions)
        self.detach_output_head = detach_output_head

    def encode(self, observations):
        return self.encoder(observations)

    def forward(self, observations):
        representations = self.encode(observations)
        representations = representations.detach()  # expect: GL501
        return self.output_head(representations)


def build():
    return BaseModel(), (torch.randn(2, 32),)
