"""The torch side of tests/graph_builder.py specs, and the shared gradient-ratio measurement."""

from __future__ import annotations

import math

import torch
from torch import nn

ACTIVATIONS = {
    "relu": nn.ReLU, "tanh": nn.Tanh, "sigmoid": nn.Sigmoid, "gelu": nn.GELU,
    "leaky_relu": nn.LeakyReLU, "elu": nn.ELU, "silu": nn.SiLU, "softsign": nn.Softsign,
    "hardtanh": nn.Hardtanh, "selu": nn.SELU, "identity": nn.Identity, "softplus": nn.Softplus,
}


class Residual(nn.Module):
    def __init__(self, body):
        super().__init__()
        self.body = body

    def forward(self, x):
        return x + self.body(x)


class Concat(nn.Module):
    def __init__(self, a, b):
        super().__init__()
        self.a, self.b = a, b

    def forward(self, x):
        return torch.cat([self.a(x), self.b(x)], -1)


class Gate(nn.Module):
    def __init__(self, body):
        super().__init__()
        self.body = body

    def forward(self, x):
        return x * torch.sigmoid(self.body(x))


def _init(layer: nn.Module, init) -> None:
    kind = init[0]
    if kind == "default":
        return
    with torch.no_grad():
        if kind == "normal":
            nn.init.normal_(layer.weight, std=init[1])
        elif kind == "uniform":
            nn.init.uniform_(layer.weight, -init[1], init[1])
        elif kind == "xavier":
            nn.init.xavier_normal_(layer.weight)
        elif kind == "he":
            nn.init.kaiming_normal_(layer.weight, nonlinearity="relu")
        elif kind == "zeros":
            nn.init.zeros_(layer.weight)
        elif kind == "constant":
            nn.init.constant_(layer.weight, init[1])
        else:
            raise ValueError(kind)


def module(spec) -> nn.Module:
    layers = []
    for item in spec:
        kind = item[0]
        if kind == "linear":
            layer = nn.Linear(item[1], item[2])
            _init(layer, item[3] if len(item) > 3 else ("default",))
            layers.append(layer)
        elif kind == "act":
            layers.append(ACTIVATIONS[item[1]]())
        elif kind == "bn":
            layers.append(nn.BatchNorm1d(item[1]))
        elif kind == "ln":
            layers.append(nn.LayerNorm(item[1]))
        elif kind == "dropout":
            layers.append(nn.Dropout(0.1))
        elif kind == "conv":
            layer = nn.Conv2d(item[1], item[2], item[3], padding=item[3] // 2)
            _init(layer, item[4] if len(item) > 4 else ("default",))
            layers.append(layer)
        elif kind == "maxpool":
            layers.append(nn.MaxPool2d(2))
        elif kind == "flatten":
            layers.append(nn.Flatten())
        elif kind == "gap":
            layers.append(nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten()))
        elif kind == "res":
            layers.append(Residual(module(item[1])))
        elif kind == "cat":
            layers.append(Concat(module(item[1]), module(item[2])))
        elif kind == "se":
            layers.append(Gate(module(item[1])))
        else:
            raise ValueError(kind)
    return nn.Sequential(*layers)


def log10_grad_ratio(model: nn.Module, x: torch.Tensor) -> float | None:
    """The shared definition: first weight with a nonzero gradient vs the last weight."""
    model.train()
    model.zero_grad()
    out = model(x)
    if isinstance(out, (tuple, list)):
        out = out[0]
    out.float().pow(2).mean().backward()
    weights = [p for _, p in model.named_parameters() if p.dim() >= 2]
    rms = [float(p.grad.pow(2).mean().sqrt()) if p.grad is not None else 0.0 for p in weights]
    last = rms[-1]
    first = next((r for r in rms if r > 0), None)
    if not last or first is None:
        return None
    return math.log10(first / last)


def measured(spec, fan_in: int | tuple[int, ...], seeds=(0, 1, 2), batch: int = 256) -> float | None:
    """The shared ratio averaged over seeds; ``fan_in`` is the input width or its (C, H, W) shape."""
    shape = fan_in if isinstance(fan_in, tuple) else (fan_in,)
    values = []
    for seed in seeds:
        torch.manual_seed(seed)
        model = module(spec)
        x = torch.randn(batch, *shape)
        value = log10_grad_ratio(model, x)
        if value is None:
            return None
        values.append(value)
    return sum(values) / len(values)
