# expect-model: GL202
import torch
import torch.nn as nn

INPUT_SHAPE = (128, 64)


class XavierReLUStack(nn.Module):
    def __init__(self, in_features=64, width=256, depth=30, out_features=10):
        super().__init__()
        self.layers = nn.ModuleList()
        for i in range(depth):
            self.layers.append(nn.Linear(in_features if i == 0 else width, width))
        self.out = nn.Linear(width, out_features)
        for m in self.modules():
            if isinstance(m, nn.Linear):
                nn.init.xavier_uniform_(m.weight)

    def forward(self, x):
        for layer in self.layers:
            x = torch.relu(layer(x))
        return self.out(x)


def build():
    return XavierReLUStack()
