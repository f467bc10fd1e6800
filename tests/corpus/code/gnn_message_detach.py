import torch
import torch.nn as nn


class GraphConv(nn.Module):
    """Mean-aggregation message passing over a dense adjacency matrix."""

    def __init__(self, in_dim, out_dim, n_layers=3):
        super().__init__()
        self.input_proj = nn.Linear(in_dim, out_dim)
        self.message = nn.ModuleList([nn.Linear(out_dim, out_dim) for _ in range(n_layers)])
        self.update = nn.ModuleList([nn.GRUCell(out_dim, out_dim) for _ in range(n_layers)])
        self.readout = nn.Linear(out_dim, 1)

    def _aggregate(self, h, adj, layer):
        msgs = self.message[layer](h)
        deg = adj.sum(-1, keepdim=True).clamp(min=1)
        agg = adj @ msgs / deg
        return agg.detach()  # expect: GL501

    def forward(self, x, adj):
        h = torch.relu(self.input_proj(x))
        for layer in range(len(self.message)):
            m = self._aggregate(h, adj, layer)
            h = self.update[layer](m, h)
        return self.readout(h.mean(0))


def build():
    n = 6
    adj = (torch.rand(n, n) > 0.5).float()
    return GraphConv(5, 8), (torch.randn(n, 5), adj)
