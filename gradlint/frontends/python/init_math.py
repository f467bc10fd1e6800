"""Initialisation variances, computed as torch.nn.init computes them."""

from __future__ import annotations

import math
from typing import Any

from gradlint.diagnostics import Location
from gradlint.ir import Init


def fans(shape: tuple[int, ...] | None) -> tuple[int, int] | None:
    """torch's _calculate_fan_in_and_fan_out: (size(1) * rf, size(0) * rf)."""
    if shape is None or len(shape) < 2:
        return None
    receptive = 1
    for k in shape[2:]:
        receptive *= k
    return shape[1] * receptive, shape[0] * receptive


def calculate_gain(nonlinearity: str, param: float | None = None) -> float | None:
    if nonlinearity in ("linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d",
                        "conv_transpose2d", "conv_transpose3d", "sigmoid"):
        return 1.0
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        slope = 0.01 if param is None else param
        if isinstance(slope, bool) or not isinstance(slope, (int, float)):
            return None
        return math.sqrt(2.0 / (1 + slope**2))
    if nonlinearity == "selu":
        return 3.0 / 4
    return None


def default_weight(fan_in: int | None, location: Location | None = None) -> Init:
    """kaiming_uniform_(a=sqrt(5)): bound = 1/sqrt(fan_in), variance 1/(3 fan_in)."""
    variance = 1.0 / (3 * fan_in) if fan_in else None
    return Init("default", variance, 0.0, None, location, "kaiming_uniform_(a=sqrt(5))")


def default_uniform(bound_denominator: int | None, location: Location | None = None, detail: str = "") -> Init:
    """uniform(-1/sqrt(n), 1/sqrt(n)): variance 1/(3 n)."""
    variance = 1.0 / (3 * bound_denominator) if bound_denominator else None
    return Init("default", variance, 0.0, None, location, detail or "uniform(+-1/sqrt(fan_in))")


def _number(value) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value)


def _phi(x: float) -> float:
    return math.exp(-0.5 * x * x) / math.sqrt(2 * math.pi)


def _cdf(x: float) -> float:
    return 0.5 * (1 + math.erf(x / math.sqrt(2)))


def truncated_normal_variance(mean: float, std: float, a: float, b: float) -> float | None:
    if std <= 0:
        return 0.0
    alpha, beta = (a - mean) / std, (b - mean) / std
    z = _cdf(beta) - _cdf(alpha)
    if z <= 0:
        return None
    pa = _phi(alpha) if math.isfinite(alpha) else 0.0
    pb = _phi(beta) if math.isfinite(beta) else 0.0
    ta = alpha * pa if math.isfinite(alpha) else 0.0
    tb = beta * pb if math.isfinite(beta) else 0.0
    return std * std * (1 + (ta - tb) / z - ((pa - pb) / z) ** 2)


def truncated_normal_mean(mean: float, std: float, a: float, b: float) -> float | None:
    if std <= 0:
        return mean
    alpha, beta = (a - mean) / std, (b - mean) / std
    z = _cdf(beta) - _cdf(alpha)
    if z <= 0:
        return None
    return mean + std * (_phi(alpha) - _phi(beta)) / z


def _bind(names: list[str], defaults: dict, args: list, kwargs: dict) -> dict:
    bound = dict(defaults)
    for name, value in zip(names, args):
        bound[name] = value
    for key, value in kwargs.items():
        if key in bound or key in names:
            bound[key] = value
    return bound


INIT_FUNCTIONS = {
    # name: (positional names after the tensor, defaults)
    "normal_": (["mean", "std"], {"mean": 0.0, "std": 1.0}),
    "uniform_": (["a", "b"], {"a": 0.0, "b": 1.0}),
    "constant_": (["val"], {"val": None}),
    "zeros_": ([], {}),
    "ones_": ([], {}),
    "xavier_uniform_": (["gain"], {"gain": 1.0}),
    "xavier_normal_": (["gain"], {"gain": 1.0}),
    "kaiming_uniform_": (["a", "mode", "nonlinearity"], {"a": 0, "mode": "fan_in", "nonlinearity": "leaky_relu"}),
    "kaiming_normal_": (["a", "mode", "nonlinearity"], {"a": 0, "mode": "fan_in", "nonlinearity": "leaky_relu"}),
    "orthogonal_": (["gain"], {"gain": 1.0}),
    "trunc_normal_": (["mean", "std", "a", "b"], {"mean": 0.0, "std": 1.0, "a": -2.0, "b": 2.0}),
    "eye_": ([], {}),
    "dirac_": (["groups"], {"groups": 1}),
    # tensor methods: w.data.normal_(0, 0.02), w.fill_(0), b.zero_()
    "fill_": (["val"], {"val": None}),
    "zero_": ([], {}),
}


def init_from_call(name: str, shape: tuple[int, ...] | None, args: list, kwargs: dict,
                   location: Location | None, detail: str) -> Init:
    """The Init an ``nn.init.<name>(tensor, *args, **kwargs)`` call sets; kind 'unknown' when it cannot tell."""
    name = name[:-1] + "_" if not name.endswith("_") and name + "_" in INIT_FUNCTIONS else name
    if name not in INIT_FUNCTIONS:
        return Init("unknown", location=location, detail=detail)
    names, defaults = INIT_FUNCTIONS[name]
    p = _bind(names, defaults, args, kwargs)
    unknown = Init("unknown", location=location, detail=detail)
    if name in ("zeros_", "zero_"):
        return Init("zeros", 0.0, 0.0, 0.0, location, detail)
    if name == "ones_":
        return Init("constant", 0.0, 1.0, 1.0, location, detail)
    if name in ("constant_", "fill_"):
        val = _number(p["val"])
        if val is None:
            return unknown
        return Init("zeros" if val == 0 else "constant", 0.0, val, val, location, detail)
    if name == "normal_":
        mean, std = _number(p["mean"]), _number(p["std"])
        if mean is None or std is None:
            return unknown
        return Init("normal", std * std, mean, None, location, detail)
    if name == "uniform_":
        a, b = _number(p["a"]), _number(p["b"])
        if a is None or b is None:
            return unknown
        return Init("uniform", (b - a) ** 2 / 12, (a + b) / 2, None, location, detail)
    if name == "trunc_normal_":
        mean, std, a, b = (_number(p[k]) for k in ("mean", "std", "a", "b"))
        if None in (mean, std, a, b):
            return unknown
        return Init("trunc_normal", truncated_normal_variance(mean, std, a, b), truncated_normal_mean(mean, std, a, b),
                    None, location, detail)
    f = fans(shape)
    if name in ("xavier_uniform_", "xavier_normal_"):
        gain = _number(p["gain"])
        if gain is None or f is None:
            return Init(name[:-1], None, 0.0, None, location, detail)
        return Init(name[:-1], gain * gain * 2.0 / (f[0] + f[1]), 0.0, None, location, detail)
    if name in ("kaiming_uniform_", "kaiming_normal_"):
        a = _number(p["a"])
        mode, nonlinearity = p["mode"], p["nonlinearity"]
        gain = calculate_gain(nonlinearity, a) if isinstance(nonlinearity, str) and a is not None else None
        if gain is None or f is None or mode not in ("fan_in", "fan_out"):
            return Init(name[:-1], None, 0.0, None, location, detail)
        fan = f[0] if mode == "fan_in" else f[1]
        return Init(name[:-1], gain * gain / fan if fan else None, 0.0, None, location, detail)
    if name == "orthogonal_":
        gain = _number(p["gain"])
        if gain is None or shape is None or len(shape) < 2:
            return Init("orthogonal", None, 0.0, None, location, detail)
        rows = shape[0]
        cols = math.prod(shape[1:])
        return Init("orthogonal", gain * gain / max(rows, cols), 0.0, None, location, detail)
    if name in ("eye_", "dirac_"):
        if shape is None or len(shape) < 2:
            return Init(name[:-1], None, None, None, location, detail)  # type: ignore[arg-type]
        numel = math.prod(shape)
        if name == "eye_":
            ones = min(shape[0], shape[1])
        else:
            groups = p["groups"] if isinstance(p["groups"], int) and p["groups"] > 0 else 1
            ones = groups * min(shape[0] // groups, shape[1])
        frac = ones / numel if numel else 0.0
        return Init(name[:-1], frac * (1 - frac), frac, None, location, detail)  # type: ignore[arg-type]
    return unknown


def vendored_init(node: Any) -> str | None:
    """The ``torch.nn.init`` function a project's own function is a copy of, or None.

    ViT code vendors ``trunc_normal_`` (``def trunc_normal_(tensor, mean=0., std=1., a=-2.,
    b=2.)``, "cut & paste from PyTorch") whose body draws through ``uniform_``, ``erfinv_``
    and ``clamp_``: a function of torch's name whose parameters are torch's, the tensor first,
    is read as torch's."""
    name = getattr(getattr(node, "name", None), "value", None)
    if name not in INIT_FUNCTIONS or name in ("fill_", "zero_"):
        return None
    params = [p.name.value for p in node.params.params]
    return name if params[:1] == ["tensor"] and params[1:] == INIT_FUNCTIONS[name][0][:len(params) - 1] else None
