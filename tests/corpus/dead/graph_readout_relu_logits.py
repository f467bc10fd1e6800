# Source: public GitHub code (code search, file id 33979127324), a copy of the SAGPool readout
# head (inyeoplee77/SAGPool networks.py) that adds F.relu before log_softmax:
# `x=F.log_softmax(F.relu(self.lin3(x)),dim=-1)`; the original passes lin3's logits directly.
# The GCN/SAGPool trunk needs torch_geometric: the head reads the pooled readout here.
import torch
from torch import nn
import torch.nn.functional as F


class Net(nn.Module):
    def __init__(self, nhid=128, num_classes=2, dropout=0.5):
        super(Net, self).__init__()
        self.nhid = nhid
        self.dropout = dropout
        self.lin1 = nn.Linear(self.nhid * 2, self.nhid)
        self.lin2 = nn.Linear(self.nhid, self.nhid // 2)
        self.lin3 = nn.Linear(self.nhid // 2, num_classes)

    def forward(self, readout):
        x = F.relu(self.lin1(readout))
        x = F.dropout(x, self.dropout, training=self.training)
        x = F.relu(self.lin2(x))
        x = F.log_softmax(F.relu(self.lin3(x)), dim=-1)  # expect: GL105
        return x


def make():
    return Net(), torch.randn(256, 256)
