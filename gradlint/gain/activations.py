"""Activation functions, their derivatives and their Gaussian moments.

Every activation kind of ``gradlint.ir.ACTIVATIONS`` has a (φ, φ') pair here. The
estimate needs E[φ(h)], E[φ(h)²] and E[φ'(h)²] for a pre-activation h ~ N(μ, q − μ²):
closed forms for the piecewise-linear kinds, panelled Gauss–Legendre quadrature for
the rest.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache, lru_cache

from gradlint.ir import ACTIVATIONS

Function = Callable[[float], float]


def _sigmoid(x: float) -> float:
    if x >= 0:
        return 1.0 / (1.0 + math.exp(-x))
    e = math.exp(x)
    return e / (1.0 + e)


def _softplus(x: float) -> float:
    return x + math.log1p(math.exp(-x)) if x > 0 else math.log1p(math.exp(x))


def _phi(x: float) -> float:
    return 0.5 * (1.0 + math.erf(x / math.sqrt(2.0)))


def _gauss(x: float) -> float:
    return math.exp(-0.5 * x * x) / math.sqrt(2.0 * math.pi)


_SELU_L, _SELU_A = 1.0507009873554805, 1.6732632423543772
_RRELU_SLOPE = (1.0 / 8.0 + 1.0 / 3.0) / 2.0  # mean of its U(1/8, 1/3) slope


def _elu(a: float, scale: float = 1.0) -> tuple[Function, Function]:
    return (
        lambda x: scale * (x if x > 0 else a * math.expm1(x)),
        lambda x: scale * (1.0 if x > 0 else a * math.exp(x)),
    )


def _leaky(slope: float) -> tuple[Function, Function]:
    return (lambda x: x if x > 0 else slope * x, lambda x: 1.0 if x > 0 else slope)


def _mish(x: float) -> float:
    return x * math.tanh(_softplus(x))


def _mish_d(x: float) -> float:
    sp = _softplus(x)
    t = math.tanh(sp)
    return t + x * (1.0 - t * t) * _sigmoid(x)


# (φ, φ') for each activation kind of gradlint.ir.ACTIVATIONS; softmax and
# log_softmax scale every path to the loss alike, so the ratio ignores them.
FUNCTIONS: dict[str, tuple[Function, Function]] = {
    "identity": (lambda x: x, lambda x: 1.0),
    "softmax": (lambda x: x, lambda x: 1.0),
    "log_softmax": (lambda x: x, lambda x: 1.0),
    "relu": _leaky(0.0),
    "leaky_relu": _leaky(0.01),
    "prelu": _leaky(0.25),
    "rrelu": _leaky(_RRELU_SLOPE),
    "relu6": (lambda x: min(max(x, 0.0), 6.0), lambda x: 1.0 if 0.0 < x < 6.0 else 0.0),
    "elu": _elu(1.0),
    "celu": _elu(1.0),
    "selu": _elu(_SELU_A, _SELU_L),
    "gelu": (lambda x: x * _phi(x), lambda x: _phi(x) + x * _gauss(x)),
    "silu": (lambda x: x * _sigmoid(x), lambda x: _sigmoid(x) * (1.0 + x * (1.0 - _sigmoid(x)))),
    "mish": (_mish, _mish_d),
    "hardswish": (
        lambda x: 0.0 if x <= -3 else (x if x >= 3 else x * (x + 3.0) / 6.0),
        lambda x: 0.0 if x < -3 else (1.0 if x > 3 else (2.0 * x + 3.0) / 6.0),
    ),
    "softplus": (_softplus, _sigmoid),
    "sigmoid": (_sigmoid, lambda x: _sigmoid(x) * (1.0 - _sigmoid(x))),
    "tanh": (math.tanh, lambda x: 1.0 - math.tanh(x) ** 2),
    "hardtanh": (lambda x: min(max(x, -1.0), 1.0), lambda x: 1.0 if -1.0 < x < 1.0 else 0.0),
    "hardsigmoid": (
        lambda x: min(max(x / 6.0 + 0.5, 0.0), 1.0),
        lambda x: 1.0 / 6.0 if -3.0 < x < 3.0 else 0.0,
    ),
    "softsign": (lambda x: x / (1.0 + abs(x)), lambda x: 1.0 / (1.0 + abs(x)) ** 2),
    "logsigmoid": (lambda x: -_softplus(-x), lambda x: 1.0 - _sigmoid(x)),
    "tanhshrink": (lambda x: x - math.tanh(x), lambda x: math.tanh(x) ** 2),
    "sin": (math.sin, math.cos),
    "cos": (math.cos, lambda x: -math.sin(x)),
    "exp": (math.exp, math.exp),
}
assert set(FUNCTIONS) == set(ACTIVATIONS), set(ACTIVATIONS) ^ set(FUNCTIONS)

# The largest |φ'| of each saturating kind: the per-layer bound messages quote.
MAX_DERIVATIVE = {
    "sigmoid": 0.25,
    "tanh": 1.0,
    "hardtanh": 1.0,
    "hardsigmoid": 1.0 / 6.0,
    "softsign": 1.0,
    "logsigmoid": 1.0,
    "tanhshrink": 1.0,
}


@cache
def _legendre(points: int) -> tuple[tuple[float, float], ...]:
    """Gauss–Legendre nodes and weights on [-1, 1] (Newton on P_n)."""
    out = []
    for i in range(1, points + 1):
        x = math.cos(math.pi * (i - 0.25) / (points + 0.5))
        for _ in range(100):
            p0, p1 = 1.0, x
            for k in range(2, points + 1):
                p0, p1 = p1, ((2 * k - 1) * x * p1 - (k - 1) * p0) / k
            dp = points * (x * p1 - p0) / (x * x - 1.0)
            step = p1 / dp
            x -= step
            if abs(step) < 1e-15:
                break
        out.append((x, 2.0 / ((1.0 - x * x) * dp * dp)))
    return tuple(out)


def _panels(sd: float) -> list[float]:
    """Breakpoints for ∫ f(h) N(h; 0, sd²): the Gaussian's own scale and the
    activations' features near the origin, so a wide Gaussian does not step over
    a saturated derivative's narrow peak."""
    edge = 12.0 * sd
    marks = {0.0, edge, -edge}
    for c in (0.25, 1.0, 3.0, 6.0, 10.0):
        if c < edge:
            marks.update((c, -c))
    for k in (1.0, 3.0, 6.0):
        marks.update((k * sd, -k * sd))
    return sorted(marks)


def gaussian_mean(f: Function, q: float, points: int = 24, mean: float = 0.0) -> float:
    """E[f(h)] for h ~ N(mean, q), by panelled Gauss–Legendre."""
    if q <= 0.0:
        return f(mean)
    sd = math.sqrt(q)
    norm = 1.0 / (sd * math.sqrt(2.0 * math.pi))
    total = 0.0
    marks = _panels(sd) if mean == 0.0 else _shifted_panels(sd, mean)
    for a, b in itertools.pairwise(marks):
        half, mid = 0.5 * (b - a), 0.5 * (b + a)
        for x, w in _legendre(points):
            h = mid + half * x
            total += w * half * f(h) * math.exp(-0.5 * (h - mean) ** 2 / q)
    return total * norm


def _shifted_panels(sd: float, mean: float) -> list[float]:
    """The panels of :func:`_panels` about a Gaussian centred on ``mean``: its own scale
    around the mean, and the activations' features near the origin that fall inside."""
    low, high = mean - 12.0 * sd, mean + 12.0 * sd
    marks = {low, high, mean}
    for c in (0.0, 0.25, 1.0, 3.0, 5.0, 6.0, 10.0):
        marks.update(x for x in (c, -c) if low < x < high)
    for k in (1.0, 3.0, 6.0):
        marks.update((mean + k * sd, mean - k * sd))
    return sorted(marks)


@dataclass(frozen=True)
class Moments:
    mean: float  # E[φ(h)]
    m2: float  # E[φ(h)²]
    d2: float  # E[φ'(h)²]


_SLOPES = {"relu": 0.0, "leaky_relu": 0.01, "prelu": 0.25, "rrelu": _RRELU_SLOPE}
_CLOSED = {"identity": (1.0, 0.0), "softmax": (1.0, 0.0), "log_softmax": (1.0, 0.0)}


@lru_cache(maxsize=4096)
def _moments_cached(kind: str, log_q: float, slope: float | None, shift: float = 0.0) -> Moments:
    """``shift`` is the mean in units of the standard deviation (0 for a centred input)."""
    q = 10.0**log_q
    mean = shift * math.sqrt(q)
    f, d = FUNCTIONS[kind]
    return Moments(
        gaussian_mean(f, q, mean=mean),
        gaussian_mean(lambda h: f(h) ** 2, q, mean=mean),
        gaussian_mean(lambda h: d(h) ** 2, q, mean=mean),
    )


def moments(kind: str, q: float, slope: float | None = None, mean: float = 0.0) -> Moments:
    """Gaussian moments of an activation at pre-activation second moment ``q = E[h²]``
    and mean ``mean``: h ~ N(mean, q − mean²). Cached on log10 of the variance rounded
    to 1e-3 (0.2 %), which repeats across layers, and the mean in standard deviations."""
    if kind in _CLOSED:
        return Moments(mean if kind == "identity" else 0.0, q, 1.0)
    var = q - mean * mean
    if mean != 0.0 and var <= 1e-12 * q:
        f, d = FUNCTIONS[kind]
        return Moments(f(mean), f(mean) ** 2, d(mean) ** 2)
    if kind in ("sin", "cos"):
        return _periodic_moments(kind, mean, max(var, 0.0))
    if kind in ("relu", "leaky_relu", "prelu", "rrelu"):
        a = slope if slope is not None else _SLOPES[kind]
        if mean != 0.0:
            return _leaky_moments(a, mean, math.sqrt(var))
        mean_out = (1.0 - a) * math.sqrt(max(q, 0.0) / (2.0 * math.pi))
        return Moments(mean_out, (1.0 + a * a) * q / 2.0, (1.0 + a * a) / 2.0)
    if q <= 0.0:
        f, d = FUNCTIONS[kind]
        return Moments(f(0.0), f(0.0) ** 2, d(0.0) ** 2)
    if mean == 0.0:
        return _moments_cached(kind, round(math.log10(q), 3), slope)
    return _moments_cached(kind, round(math.log10(var), 3), slope, round(mean / math.sqrt(var), 3))


def _periodic_moments(kind: str, mean: float, var: float) -> Moments:
    """Closed forms for h ~ N(μ, v): E[sin h] = sin μ·e^(−v/2), E[sin² h] = (1 − cos 2μ·e^(−2v))/2,
    and the same with cos (the quadrature would alias on a wide, oscillating integrand)."""
    damp, damp2 = math.exp(-var / 2.0), math.exp(-2.0 * var) * math.cos(2.0 * mean)
    sin2, cos2 = (1.0 - damp2) / 2.0, (1.0 + damp2) / 2.0
    if kind == "sin":
        return Moments(math.sin(mean) * damp, sin2, cos2)
    return Moments(math.cos(mean) * damp, cos2, sin2)


def _leaky_moments(a: float, mean: float, sd: float) -> Moments:
    """Closed forms of max(h, 0) + a·min(h, 0) for h ~ N(mean, sd²)."""
    z = mean / sd
    above, density = _phi(z), _gauss(z)
    pos, pos2 = mean * above + sd * density, (mean * mean + sd * sd) * above + mean * sd * density
    neg = mean * (1.0 - above) - sd * density
    neg2 = (mean * mean + sd * sd) * (1.0 - above) - mean * sd * density
    return Moments(pos + a * neg, max(pos2 + a * a * neg2, 0.0), above + a * a * (1.0 - above))


def below(threshold: float, q: float, mean: float = 0.0) -> float:
    """P(h < threshold) for h ~ N(mean, q − mean²)."""
    var = q - mean * mean
    if var <= 1e-12 * max(q, 1e-300):
        return 1.0 if mean < threshold else 0.0
    return _phi((threshold - mean) / math.sqrt(var))


def saturated_fraction(q: float, mean: float = 0.0, bound: float = 5.0) -> float:
    """The expected share of pre-activations beyond ±bound (DeepDiagnosis's criterion)."""
    return below(-bound, q, mean) + 1.0 - below(bound, q, mean)
