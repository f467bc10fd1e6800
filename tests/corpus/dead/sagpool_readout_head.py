# Near-miss: https://github.com/inyeoplee77/SAGPool networks.py, the readout head as the
# authors wrote it: ReLU on the hidden layers, log_softmax on lin3's raw logits.
import torch
import torch.nn.functional as F


class Net(torch.nn.Module):
    def __init__(self, nhid=128, num_classes=2, dropout_ratio=0.5):
        super(Net, self).__init__()
        self.nhid = nhid
        self.dropout_ratio = dropout_ratio
        self.lin1 = torch.nn.Linear(self.nhid * 2, self.nhid)
        self.lin2 = torch.nn.Linear(self.nhid, self.nhid // 2)
        self.lin3 = torch.nn.Linear(self.nhid // 2, num_classes)

    def forward(self, readout):
        x = F.relu(self.lin1(readout))
        x = F.dropout(x, p=self.dropout_ratio, training=self.training)
        x = F.relu(self.lin2(x))
        x = F.log_softmax(self.lin3(x), dim=-1)
        return x


def make():
    return Net(), torch.randn(256, 256)
