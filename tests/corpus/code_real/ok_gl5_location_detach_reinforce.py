"""Near-miss: REINFORCE location network on a detached hidden state while the core network is
trained through the action head (kevinzakka/recurrent-visual-attention issue #20)."""
import torch
import torch.nn as nn


class RAM(nn.Module):
    def __init__(self, hidden=32, n_classes=10):
        super().__init__()
        self.core = nn.Linear(hidden, hidden)
        self.locator = nn.Linear(hidden, 2)
        self.classifier = nn.Linear(hidden, n_classes)

    def forward(self, g_t, h_prev):
        h_t = torch.relu(self.core(g_t) + h_prev)
        mu = torch.tanh(self.locator(h_t.detach()))
        return h_t, mu, self.classifier(h_t)


def build():
    return RAM(), (torch.randn(2, 32), torch.randn(2, 32))
