# Near-miss: per-task heads in nn.ModuleDict, parameters per head in nn.ParameterDict.
import torch
import torch.nn as nn


class MultiTask(nn.Module):
    def __init__(self, tasks):
        super().__init__()
        self.trunk = nn.Linear(8, 8)
        self.heads = nn.ModuleDict({task: nn.Linear(8, 1) for task in tasks})
        self.log_vars = nn.ParameterDict({task: nn.Parameter(torch.zeros(1)) for task in tasks})

    def forward(self, x):
        h = torch.relu(self.trunk(x))
        return torch.cat([self.heads[t](h) * self.log_vars[t].exp() for t in self.heads], 1)


def make():
    return MultiTask(["a", "b"]), torch.randn(3, 8)
