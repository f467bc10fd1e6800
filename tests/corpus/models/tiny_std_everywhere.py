# expect-model: GL202
import torch
import torch.nn as nn

INPUT_SHAPE = (128, 64)


class DeepRegressor(nn.Module):
    def __init__(self, n_in=64, width=256, depth=8):
        super().__init__()
        layers = [nn.Linear(n_in, width), nn.ReLU()]
        for _ in range(depth - 1):
            layers += [nn.Linear(width, width), nn.ReLU()]
        layers.append(nn.Linear(width, 1))
        self.net = nn.Sequential(*layers)
        self._init()

    def _init(self):
        # small weights "to keep the outputs stable at the start"
        for name, p in self.net.named_parameters():
            if name.endswith("weight"):
                nn.init.normal_(p, mean=0.0, std=1e-3)

    def forward(self, x):
        return self.net(x)


def build():
    return DeepRegressor()
