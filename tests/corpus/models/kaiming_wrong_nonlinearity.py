# expect-model: GL202
import torch
import torch.nn as nn

INPUT_SHAPE = (8, 3, 32, 32)


class PlainConvNet(nn.Module):
    def __init__(self, width=24, depth=24, num_classes=10):
        super().__init__()
        convs = [nn.Conv2d(3, width, 3, padding=1)]
        convs += [nn.Conv2d(width, width, 3, padding=1) for _ in range(depth - 1)]
        self.convs = nn.ModuleList(convs)
        self.fc = nn.Linear(width, num_classes)
        for conv in self.convs:
            # copied from a sigmoid model; the gain is 1 instead of sqrt(2)
            nn.init.kaiming_normal_(conv.weight, mode="fan_in", nonlinearity="sigmoid")

    def forward(self, x):
        for conv in self.convs:
            x = nn.functional.relu(conv(x))
        x = x.mean(dim=(2, 3))
        return self.fc(x)


def build():
    return PlainConvNet()
