# expect-model: none
import torch
import torch.nn as nn
import torch.nn.functional as F


class DenseLayer(nn.Module):
    def __init__(self, num_input_features, growth_rate, bn_size=4):
        super().__init__()
        self.norm1 = nn.BatchNorm2d(num_input_features)
        self.conv1 = nn.Conv2d(num_input_features, bn_size * growth_rate, kernel_size=1, bias=False)
        self.norm2 = nn.BatchNorm2d(bn_size * growth_rate)
        self.conv2 = nn.Conv2d(bn_size * growth_rate, growth_rate, kernel_size=3, padding=1, bias=False)

    def forward(self, x):
        out = self.conv1(F.relu(self.norm1(x)))
        out = self.conv2(F.relu(self.norm2(out)))
        return torch.cat([x, out], 1)


class Transition(nn.Sequential):
    def __init__(self, num_input_features, num_output_features):
        super().__init__()
        self.add_module("norm", nn.BatchNorm2d(num_input_features))
        self.add_module("relu", nn.ReLU(inplace=True))
        self.add_module("conv", nn.Conv2d(num_input_features, num_output_features, kernel_size=1, bias=False))
        self.add_module("pool", nn.AvgPool2d(kernel_size=2, stride=2))


class TinyDenseNet(nn.Module):
    def __init__(self, growth_rate=12, block_config=(4, 4), num_init_features=24, num_classes=10):
        super().__init__()
        self.conv0 = nn.Conv2d(3, num_init_features, kernel_size=3, padding=1, bias=False)
        blocks = []
        num_features = num_init_features
        for i, num_layers in enumerate(block_config):
            for j in range(num_layers):
                blocks.append(DenseLayer(num_features + j * growth_rate, growth_rate))
            num_features = num_features + num_layers * growth_rate
            if i != len(block_config) - 1:
                blocks.append(Transition(num_features, num_features // 2))
                num_features = num_features // 2
        self.blocks = nn.Sequential(*blocks)
        self.norm5 = nn.BatchNorm2d(num_features)
        self.classifier = nn.Linear(num_features, num_classes)

    def forward(self, x):
        features = self.blocks(self.conv0(x))
        out = F.relu(self.norm5(features))
        out = F.adaptive_avg_pool2d(out, (1, 1)).flatten(1)
        return self.classifier(out)


def build():
    return TinyDenseNet(), torch.randn(8, 3, 32, 32)
