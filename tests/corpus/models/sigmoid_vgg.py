# expect-model: GL101
import torch
import torch.nn as nn

CFG = [32, 32, "M", 64, 64, "M", 128, 128, "M"]


class SigmoidVGG(nn.Module):
    def __init__(self, cfg=CFG, num_classes=10):
        super().__init__()
        self.features = self._make_layers(cfg)
        self.classifier = nn.Sequential(
            nn.Linear(128 * 4 * 4, 256),
            nn.Sigmoid(),
            nn.Linear(256, num_classes),
        )

    def _make_layers(self, cfg):
        layers = []
        in_channels = 3
        for v in cfg:
            if v == "M":
                layers += [nn.MaxPool2d(kernel_size=2, stride=2)]
            else:
                layers += [nn.Conv2d(in_channels, v, kernel_size=3, padding=1), nn.Sigmoid()]
                in_channels = v
        return nn.Sequential(*layers)

    def forward(self, x):
        out = self.features(x)
        out = out.view(out.size(0), -1)
        return self.classifier(out)


def build():
    return SigmoidVGG(), torch.randn(8, 3, 32, 32)
