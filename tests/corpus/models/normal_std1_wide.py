# expect-model: none
import torch
import torch.nn as nn

INPUT_SHAPE = (128, 512)


class WideNet(nn.Module):
    """Wide ReLU net with N(0, 1) weights: the activations blow up, but layer by layer
    the forward and backward growth cancel in the first/last gradient ratio."""

    def __init__(self, dim=512, depth=6, n_out=10):
        super().__init__()
        self.hidden = nn.Sequential(*[nn.Sequential(nn.Linear(dim, dim), nn.ReLU()) for _ in range(depth)])
        self.out = nn.Linear(dim, n_out)
        for m in self.modules():
            if isinstance(m, nn.Linear):
                m.weight.data.normal_(mean=0.0, std=1.0)

    def forward(self, x):
        return self.out(self.hidden(x))


def build():
    return WideNet()
