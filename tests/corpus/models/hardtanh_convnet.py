# expect-model: GL101
import torch
import torch.nn as nn


class HardtanhConvNet(nn.Module):
    # hardtanh because the deployment target only has clamp; every conv is followed by one
    def __init__(self, channels=32, num_blocks=12, num_classes=10):
        super().__init__()
        self.convs = nn.ModuleList()
        self.acts = nn.ModuleList()
        in_ch = 3
        for i in range(num_blocks):
            self.convs.append(nn.Conv2d(in_ch, channels, kernel_size=3, padding=1))
            self.acts.append(nn.Hardtanh(min_val=-1.0, max_val=1.0))
            in_ch = channels
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(channels, num_classes)

    def forward(self, x):
        for conv, act in zip(self.convs, self.acts):
            x = act(conv(x))
        x = self.pool(x).flatten(1)
        return self.fc(x)


def build():
    model = HardtanhConvNet()
    return model, torch.randn(8, 3, 32, 32)
