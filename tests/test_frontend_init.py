"""Init variances are computed as torch computes them: checked against torch's own init functions."""

from __future__ import annotations

import math

import pytest

from gradlint.frontends.python import torch_nn
from gradlint.frontends.python.init_math import (
    calculate_gain,
    init_from_call,
    truncated_normal_variance,
)

torch = pytest.importorskip("torch")

CASES = [
    ("normal_", (256, 512), [0.0, 0.05], {}),
    ("uniform_", (256, 512), [-0.3, 0.1], {}),
    ("xavier_uniform_", (300, 500), [], {"gain": 5 / 3}),
    ("xavier_normal_", (64, 32, 3, 3), [], {}),
    ("kaiming_uniform_", (512, 256), [], {"a": math.sqrt(5)}),
    ("kaiming_normal_", (128, 64, 3, 3), [], {"mode": "fan_out", "nonlinearity": "relu"}),
    ("kaiming_normal_", (400, 300), [0.2], {"nonlinearity": "leaky_relu"}),
    ("kaiming_uniform_", (400, 300), [], {"nonlinearity": "tanh"}),
    ("orthogonal_", (200, 600), [], {"gain": 2.0}),
    ("orthogonal_", (600, 200), [], {}),
    ("trunc_normal_", (400, 400), [], {"std": 1.0, "a": -1.0, "b": 1.5}),
    ("eye_", (300, 200), [], {}),
    ("dirac_", (16, 8, 3, 3), [], {}),
]


@pytest.mark.parametrize("name, shape, args, kwargs", CASES, ids=[f"{c[0]}{c[1]}" for c in CASES])
def test_variance_matches_torch(name, shape, args, kwargs):
    torch.manual_seed(0)
    tensor = torch.empty(shape)
    getattr(torch.nn.init, name)(tensor, *args, **kwargs)
    init = init_from_call(name, shape, args, kwargs, None, "")
    measured = tensor.var(unbiased=False).item()
    assert init.variance == pytest.approx(measured, rel=0.03)
    if init.mean is not None:
        assert init.mean == pytest.approx(tensor.mean().item(), abs=0.01)


def test_default_layer_inits_match_torch():
    torch.manual_seed(0)
    cases = [
        ("Linear", [400, 300], {}),
        ("Conv2d", [32, 64, 3], {"groups": 4}),
        ("ConvTranspose2d", [64, 32, 4], {"stride": 2}),
        ("Embedding", [1000, 64], {}),
        ("LSTM", [64, 128], {"num_layers": 2}),
        ("MultiheadAttention", [128, 4], {}),
        ("MultiheadAttention", [64, 4], {"kdim": 32, "vdim": 16, "add_bias_kv": True}),
        ("TransformerEncoderLayer", [64, 4], {"dim_feedforward": 256}),
        ("TransformerDecoderLayer", [64, 4], {"dim_feedforward": 128, "bias": False}),
        ("GRU", [32, 64], {"bidirectional": True}),
        ("LSTM", [16, 64], {"proj_size": 8}),
        ("RNN", [16, 32], {"nonlinearity": "relu", "bias": False}),
        ("Bilinear", [20, 30, 40], {}),
        ("LSTMCell", [20, 30], {}),
    ]
    for name, args, kwargs in cases:
        _, _, params = torch_nn.construct(name, args, kwargs)
        layer = getattr(torch.nn, name)(*args, **kwargs)
        real = dict(layer.named_parameters())
        assert [k for k in params if params[k] is not None] == list(real), name
        for key, param in params.items():
            assert tuple(real[key].shape) == param.shape, (name, key)
            measured = real[key].detach().var(unbiased=False).item()
            if param.init is not None and param.init.variance and real[key].numel() > 1000:
                assert param.init.variance == pytest.approx(measured, rel=0.1), (name, key)


def test_gain_and_truncation():
    assert calculate_gain("leaky_relu", 0.2) == pytest.approx(torch.nn.init.calculate_gain("leaky_relu", 0.2))
    assert calculate_gain("tanh") == pytest.approx(5 / 3)
    assert calculate_gain("softmax") is None
    assert truncated_normal_variance(0.0, 1.0, -2.0, 2.0) == pytest.approx(0.7737, abs=1e-3)


def test_unknown_arguments_give_unknown_variance():
    from gradlint.frontends.python.values import UNKNOWN

    assert init_from_call("normal_", (4, 4), [0.0, UNKNOWN], {}, None, "").kind == "unknown"
    assert init_from_call("xavier_uniform_", None, [], {}, None, "").variance is None
    assert init_from_call("constant_", (4,), [0], {}, None, "").kind == "zeros"
