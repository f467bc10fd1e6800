# expect-model: GL101
from dataclasses import dataclass

import torch
import torch.nn as nn

INPUT_SHAPE = (64, 48)

ACTIVATIONS = {"sigmoid": nn.Sigmoid, "relu": nn.ReLU, "tanh": nn.Tanh}


@dataclass
class MLPConfig:
    input_dim: int = 48
    hidden_dim: int = 192
    num_layers: int = 7
    output_dim: int = 4
    activation: str = "sigmoid"
    dropout: float = 0.1


class ConfigurableMLP(nn.Module):
    def __init__(self, config: MLPConfig = None):
        super().__init__()
        config = config or MLPConfig()
        self.config = config
        act = ACTIVATIONS[config.activation]
        blocks = []
        dim = config.input_dim
        for _ in range(config.num_layers):
            blocks.append(nn.Linear(dim, config.hidden_dim))
            blocks.append(act())
            blocks.append(nn.Dropout(config.dropout))
            dim = config.hidden_dim
        self.backbone = nn.Sequential(*blocks)
        self.classifier = nn.Linear(dim, config.output_dim)

    def forward(self, x):
        return self.classifier(self.backbone(x))


def build():
    return ConfigurableMLP()
