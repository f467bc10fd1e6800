"""Small PyTorch models exported to ONNX by the tests, with both exporters."""

from __future__ import annotations

import warnings
from pathlib import Path

torch = None
nn = None


def _torch():
    global torch, nn
    import torch as _t
    import torch.nn as _nn

    torch, nn = _t, _nn
    return _t


EXPORTERS = ("legacy", "dynamo")


def export(model, example, path: Path, exporter: str = "legacy", opset: int = 17) -> Path:
    """Export in train mode, as the gradient ratio is defined; BatchNorm stays a node.

    The dynamo exporter's graph optimiser folds BatchNorm into the preceding Gemm/Conv,
    so it runs with ``optimize=False``.
    """
    t = _torch()
    model.train()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if exporter == "dynamo":
            t.onnx.export(
                model,
                (example,),
                str(path),
                dynamo=True,
                optimize=False,
                opset_version=max(opset, 18),
                verbose=False,
            )
        else:
            t.onnx.export(
                model,
                (example,),
                str(path),
                dynamo=False,
                opset_version=opset,
                training=t.onnx.TrainingMode.TRAINING,
                do_constant_folding=False,
            )
    return path


def export_any(model, example, path: Path) -> str:
    """Export with the first exporter that manages: legacy (train mode), dynamo, then
    legacy in eval mode (the legacy exporter has no LSTM dropout in training mode and
    no aten::rms_norm below opset 23). Returns which one did."""
    t = _torch()
    try:
        export(model, example, path, "legacy")
        return "legacy"
    except Exception:  # noqa: BLE001, S110 - the next exporter may manage
        pass
    try:
        export(model, example, path, "dynamo")
        return "dynamo"
    except Exception:  # noqa: BLE001, S110
        pass
    model.eval()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t.onnx.export(model, (example,), str(path), dynamo=False, opset_version=17)
    return "legacy-eval"


def deep_sigmoid_mlp(depth=8, width=32):
    _torch()
    layers = []
    for i in range(depth):
        layers += [nn.Linear(16 if i == 0 else width, width), nn.Sigmoid()]
    layers.append(nn.Linear(width, 4))
    return nn.Sequential(*layers), torch.randn(4, 16)


def residual_mlp(blocks=3, width=32):
    _torch()

    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc1 = nn.Linear(width, width)
            self.act = nn.ReLU()
            self.fc2 = nn.Linear(width, width)

        def forward(self, x):
            return x + self.fc2(self.act(self.fc1(x)))

    class ResMLP(nn.Module):
        def __init__(self):
            super().__init__()
            self.stem = nn.Linear(16, width)
            self.blocks = nn.Sequential(*[Block() for _ in range(blocks)])
            self.head = nn.Linear(width, 4)

        def forward(self, x):
            return self.head(self.blocks(self.stem(x)))

    return ResMLP(), torch.randn(4, 16)


def bn_mlp(depth=3, width=32):
    _torch()
    layers = []
    for i in range(depth):
        layers += [nn.Linear(16 if i == 0 else width, width), nn.BatchNorm1d(width), nn.ReLU()]
    layers.append(nn.Linear(width, 4))
    return nn.Sequential(*layers), torch.randn(8, 16)


def zero_init_mlp():
    _torch()
    model = nn.Sequential(
        nn.Linear(16, 32), nn.ReLU(), nn.Linear(32, 32), nn.ReLU(), nn.Linear(32, 4)
    )
    for layer in (model[0], model[2]):
        nn.init.zeros_(layer.weight)
        nn.init.zeros_(layer.bias)
    nn.init.constant_(model[4].weight, 0.5)
    return model, torch.randn(4, 16)


def silu_mlp(depth=3, width=32):
    _torch()
    layers = []
    for i in range(depth):
        layers += [nn.Linear(16 if i == 0 else width, width), nn.SiLU()]
    layers.append(nn.Linear(width, 4))
    return nn.Sequential(*layers), torch.randn(4, 16)


def gelu_mlp(approximate="none", depth=3, width=32):
    _torch()
    layers = []
    for i in range(depth):
        layers += [nn.Linear(16 if i == 0 else width, width), nn.GELU(approximate=approximate)]
    layers.append(nn.Linear(width, 4))
    return nn.Sequential(*layers), torch.randn(4, 16)


def lstm_classifier():
    _torch()

    class LSTMClassifier(nn.Module):
        def __init__(self):
            super().__init__()
            self.lstm = nn.LSTM(12, 24, batch_first=True)
            self.head = nn.Linear(24, 3)

        def forward(self, x):
            out, _ = self.lstm(x)
            return self.head(out[:, -1])

    return LSTMClassifier(), torch.randn(2, 5, 12)


def conv_net():
    _torch()

    class ConvNet(nn.Module):
        def __init__(self):
            super().__init__()
            self.features = nn.Sequential(
                nn.Conv2d(3, 8, 3, padding=1),
                nn.BatchNorm2d(8),
                nn.ReLU(),
                nn.MaxPool2d(2),
                nn.Conv2d(8, 16, 3, padding=1, groups=2),
                nn.ReLU(),
            )
            self.pool = nn.AdaptiveAvgPool2d(1)
            self.head = nn.Linear(16, 10)

        def forward(self, x):
            return self.head(torch.flatten(self.pool(self.features(x)), 1))

    return ConvNet(), torch.randn(2, 3, 16, 16)


def layernorm_block():
    """LayerNorm, a hand-written RMSNorm and an attention layer, on a sequence."""
    _torch()

    class RMSNorm(nn.Module):
        def __init__(self, dim, eps=1e-6):
            super().__init__()
            self.eps = eps
            self.weight = nn.Parameter(torch.ones(dim))

        def forward(self, x):
            return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps) * self.weight

    class Block(nn.Module):
        def __init__(self, dim=16):
            super().__init__()
            self.ln = nn.LayerNorm(dim)
            self.attn = nn.MultiheadAttention(dim, 2, batch_first=True)
            self.rms = RMSNorm(dim)
            self.fc = nn.Linear(dim, dim)

        def forward(self, x):
            h = self.ln(x)
            x = x + self.attn(h, h, h, need_weights=False)[0]
            return x + self.fc(self.rms(x))

    return Block(), torch.randn(2, 6, 16)


MODELS = {
    "deep_sigmoid_mlp": deep_sigmoid_mlp,
    "residual_mlp": residual_mlp,
    "bn_mlp": bn_mlp,
    "zero_init_mlp": zero_init_mlp,
    "silu_mlp": silu_mlp,
    "gelu_mlp": gelu_mlp,
    "gelu_tanh_mlp": lambda: gelu_mlp("tanh"),
    "lstm_classifier": lstm_classifier,
    "conv_net": conv_net,
    "layernorm_block": layernorm_block,
}
