# expect-model: GL203
import torch
import torch.nn as nn


def conv_silu(c_in, c_out, stride=1):
    return nn.Sequential(nn.Conv2d(c_in, c_out, 3, stride, 1), nn.SiLU())


class DeepSiLUConvNet(nn.Module):
    def __init__(self, widths=(32, 64, 64), blocks_per_stage=12, num_classes=10):
        super().__init__()
        layers = []
        c = 3
        for i, w in enumerate(widths):
            for j in range(blocks_per_stage):
                layers.append(conv_silu(c, w, stride=2 if (j == 0 and i > 0) else 1))
                c = w
        self.features = nn.Sequential(*layers)
        self.classifier = nn.Linear(c, num_classes)

    def forward(self, x):
        x = self.features(x)
        return self.classifier(x.mean((-2, -1)))


def build():
    return DeepSiLUConvNet(), torch.randn(8, 3, 32, 32)
