import torch
import torch.nn as nn
import torch.nn.functional as F


def gumbel_softmax(logits, tau=1.0, hard=True):
    gumbels = -torch.empty_like(logits).exponential_().log()
    y_soft = ((logits + gumbels) / tau).softmax(-1)
    if hard:
        index = y_soft.max(-1, keepdim=True)[1]
        y_hard = torch.zeros_like(logits).scatter_(-1, index, 1.0)
        return y_hard - y_soft.detach() + y_soft
    return y_soft


class CategoricalVAE(nn.Module):
    def __init__(self, in_dim=784, n_latent=20, n_cat=10, tau=1.0):
        super().__init__()
        self.n_latent, self.n_cat, self.tau = n_latent, n_cat, tau
        self.enc = nn.Sequential(nn.Linear(in_dim, 512), nn.ReLU(), nn.Linear(512, n_latent * n_cat))
        self.dec = nn.Sequential(nn.Linear(n_latent * n_cat, 512), nn.ReLU(), nn.Linear(512, in_dim))

    def forward(self, x):
        logits = self.enc(x.flatten(1)).view(-1, self.n_latent, self.n_cat)
        y_soft = F.softmax(logits / self.tau, dim=-1)
        y_hard = F.one_hot(y_soft.argmax(-1), self.n_cat).float()
        z = (y_hard - y_soft).detach() + y_soft
        recon = self.dec(z.flatten(1))
        return recon, F.log_softmax(logits, dim=-1)


def build():
    return CategoricalVAE(in_dim=16, n_latent=3, n_cat=4), (torch.randn(2, 16),)
