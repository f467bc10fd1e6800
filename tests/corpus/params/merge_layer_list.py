# Source: https://github.com/asyml/texar-pytorch/issues/72 (MergeLayer)
# Confirmed: labelled "bug, priority: high"; the layers kept in a Python list were missing
# from the trainable variables, fixed with nn.ModuleList.
import torch
import torch.nn as nn


class MergeLayer(nn.Module):
    def __init__(self, in_features, sizes, mode="concat"):
        super().__init__()
        self._mode = mode
        self._layers = []  # expect: GL701
        for size in sizes:
            self._layers.append(nn.Linear(in_features, size))

    def forward(self, inputs):
        outputs = [layer(inputs) for layer in self._layers]
        if self._mode == "concat":
            return torch.cat(outputs, dim=-1)
        return torch.stack(outputs).sum(0)


def make():
    return MergeLayer(8, [4, 4]), torch.randn(3, 8)
