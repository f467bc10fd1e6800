# Source: https://github.com/benedekrozemberczki/pytorch_geometric_temporal/issues/80
# Confirmed: the reporter's demo shows the gradient lost when forward re-wraps the evolved
# weight in a new torch.nn.parameter.Parameter each call.
import torch


class ToyModel(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.weight = torch.nn.parameter.Parameter(torch.Tensor(2, 3).fill_(0.5))

    def forward(self, x):
        return x @ self.weight


class EvolveGCNO(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.recurrent = torch.nn.GRU(3, 3)
        self.conv_layer = ToyModel()

    def forward(self, x):
        W, _ = self.recurrent(self.conv_layer.weight[None, :, :])
        self.conv_layer.weight = torch.nn.parameter.Parameter(W.squeeze(0))  # expect: GL703
        return self.conv_layer(x)


def make():
    return EvolveGCNO(), torch.randn(4, 2)
