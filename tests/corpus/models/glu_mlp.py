# expect-model: none
import torch
import torch.nn as nn
import torch.nn.functional as F

INPUT_SHAPE = (16, 32, 128)


class SwiGLU(nn.Module):
    def __init__(self, dim=128, hidden_dim=344):
        super().__init__()
        self.w1 = nn.Linear(dim, hidden_dim, bias=False)
        self.w2 = nn.Linear(hidden_dim, dim, bias=False)
        self.w3 = nn.Linear(dim, hidden_dim, bias=False)

    def forward(self, x):
        return self.w2(F.silu(self.w1(x)) * self.w3(x))


class GLUStack(nn.Module):
    """Three GLU feed-forward layers with RMS normalisation and residuals, as in a LLaMA block."""

    def __init__(self, dim=128, n_layers=3, eps=1e-6):
        super().__init__()
        self.eps = eps
        self.layers = nn.ModuleList([SwiGLU(dim) for _ in range(n_layers)])
        self.norms = nn.ModuleList([nn.RMSNorm(dim, eps=eps) for _ in range(n_layers)])
        self.out = nn.Linear(dim, dim, bias=False)

    def forward(self, x):
        for norm, ff in zip(self.norms, self.layers):
            x = x + ff(norm(x))
        return self.out(x)


def build():
    return GLUStack()
