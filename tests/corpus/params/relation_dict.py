# Source: https://github.com/pytorch/pytorch/issues/632
# Confirmed: "Such parameters are not registered in the list of module's parameters"; the
# modules sit in a plain dict keyed by relation.
import torch
import torch.nn as nn


class RelationNet(nn.Module):
    def __init__(self, numfeatures, numrel):
        super().__init__()
        self.list_relations = {}  # expect: GL701
        for rel in range(3):
            self.list_relations[rel] = nn.Linear(numfeatures, numrel)
        self.out = nn.Linear(numrel, 1)

    def forward(self, x):
        h = sum(layer(x) for layer in self.list_relations.values())
        return self.out(h)


def make():
    return RelationNet(6, 4), torch.randn(3, 6)
