"""The mean-field estimate of how much gradient survives a layer graph.

Signal propagation at initialisation (Poole et al. 2016; Schoenholz et al. 2017),
node by node in topological order. Every tensor is summarised by its second
moment ``m2 = E[x²]`` and its mean; a pre-activation is taken as N(0, m2).
Forward through a weighted layer: ``m2' = n·v·m2 + b``; backward:
``E[δ_in²] = m·v·E[δ_out²]``, through an activation ``E[φ'(h)²]·E[δ²]``;
a weight's gradient ``E[g²] = E[δ_out²]·E[a_in²]``.

Pure Python on purpose: ``gradlint check`` never imports numpy or torch.
"""

from __future__ import annotations

import itertools
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cache, lru_cache

from gradlint.diagnostics import ModelRecord
from gradlint.ir import ACTIVATIONS, Init, LayerGraph, Node
from gradlint.spatial import averaging_area, positions, spatial_sizes

CACHE_KEY = "gain_estimate"
# the batch of the shared gradient-ratio measurement (gradlint probe's default)
BATCH = 256
PASS_THROUGH = frozenset({"pool", "dropout", "identity", "attention"})

# --------------------------------------------------------------------------- activations


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


def _elu(a: float, scale: float = 1.0) -> tuple[Callable, Callable]:
    return (
        lambda x: scale * (x if x > 0 else a * math.expm1(x)),
        lambda x: scale * (1.0 if x > 0 else a * math.exp(x)),
    )


def _leaky(slope: float) -> tuple[Callable, Callable]:
    return (lambda x: x if x > 0 else slope * x, lambda x: 1.0 if x > 0 else slope)


def _mish(x: float) -> float:
    return x * math.tanh(_softplus(x))


def _mish_d(x: float) -> float:
    sp = _softplus(x)
    t = math.tanh(sp)
    return t + x * (1.0 - t * t) * _sigmoid(x)


# (φ, φ') for each activation kind of gradlint.ir.ACTIVATIONS; softmax and
# log_softmax scale every path to the loss alike, so the ratio ignores them.
FUNCTIONS: dict[str, tuple[Callable[[float], float], Callable[[float], float]]] = {
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


def gaussian_mean(f: Callable[[float], float], q: float, points: int = 24) -> float:
    """E[f(h)] for h ~ N(0, q), by panelled Gauss–Legendre."""
    if q <= 0.0:
        return f(0.0)
    sd = math.sqrt(q)
    norm = 1.0 / (sd * math.sqrt(2.0 * math.pi))
    total = 0.0
    marks = _panels(sd)
    for a, b in itertools.pairwise(marks):
        half, mid = 0.5 * (b - a), 0.5 * (b + a)
        for x, w in _legendre(points):
            h = mid + half * x
            total += w * half * f(h) * math.exp(-0.5 * h * h / q)
    return total * norm


@dataclass(frozen=True)
class Moments:
    mean: float  # E[φ(h)]
    m2: float  # E[φ(h)²]
    d2: float  # E[φ'(h)²]


_SLOPES = {"relu": 0.0, "leaky_relu": 0.01, "prelu": 0.25, "rrelu": _RRELU_SLOPE}
_CLOSED = {"identity": (1.0, 0.0), "softmax": (1.0, 0.0), "log_softmax": (1.0, 0.0)}


@lru_cache(maxsize=4096)
def _moments_cached(kind: str, log_q: float, slope: float | None) -> Moments:
    q = 10.0**log_q
    f, d = FUNCTIONS[kind]
    return Moments(
        gaussian_mean(f, q),
        gaussian_mean(lambda h: f(h) ** 2, q),
        gaussian_mean(lambda h: d(h) ** 2, q),
    )


def moments(kind: str, q: float, slope: float | None = None) -> Moments:
    """Gaussian moments of an activation at pre-activation variance ``q``; cached
    on log10 q rounded to 1e-3 (0.2 % in q), which repeats across layers."""
    if kind in _CLOSED:
        return Moments(0.0, q, 1.0)
    if kind in ("relu", "leaky_relu", "prelu", "rrelu"):
        a = slope if slope is not None else _SLOPES[kind]
        mean = (1.0 - a) * math.sqrt(max(q, 0.0) / (2.0 * math.pi))
        return Moments(mean, (1.0 + a * a) * q / 2.0, (1.0 + a * a) / 2.0)
    if q <= 0.0:
        f, d = FUNCTIONS[kind]
        return Moments(f(0.0), f(0.0) ** 2, d(0.0) ** 2)
    return _moments_cached(kind, round(math.log10(q), 3), slope)


# --------------------------------------------------------------------------- init


@dataclass(frozen=True)
class Draw:
    """A weight's entries as the estimate needs them: variance and mean."""

    variance: float
    mean: float = 0.0


def weight_draw(node: Node, init: Init | None) -> Draw | None:
    """Variance and mean of one weight entry; None when unknown."""
    fan_in = node.fan_in
    if init is None or init.kind == "unknown":
        return None
    if init.kind == "zeros":
        return Draw(0.0)
    if init.kind == "constant":
        return Draw(0.0, init.constant) if init.constant is not None else None
    if init.variance is not None:
        return Draw(init.variance, init.mean or 0.0)
    if init.kind == "default":
        if node.op == "embedding":
            return Draw(1.0)  # N(0, 1)
        if node.op == "recurrent":
            hidden = node.fan_out
            return Draw(1.0 / (3.0 * hidden)) if hidden else None  # U(±1/√hidden)
        return Draw(1.0 / (3.0 * fan_in)) if fan_in else None  # kaiming_uniform(a=√5)
    if init.kind in ("kaiming_normal", "kaiming_uniform") and fan_in:
        return Draw(2.0 / fan_in)
    if init.kind in ("xavier_normal", "xavier_uniform") and fan_in and node.fan_out:
        return Draw(2.0 / (fan_in + node.fan_out))
    return None


def bias_draw(node: Node) -> Draw | None:
    if node.has_bias is False:
        return Draw(0.0)
    init = node.bias_init
    if init is None:
        # a bias with no recorded init keeps PyTorch's default: U(±1/√fan_in)
        init = Init("default")
    if init.kind == "default":
        if node.op == "embedding":
            return Draw(0.0)
        fan = node.fan_out if node.op == "recurrent" else node.fan_in
        return Draw(1.0 / (3.0 * fan)) if fan else None
    if init.kind == "zeros":
        return Draw(0.0)
    if init.kind == "constant" and init.constant is not None:
        return Draw(0.0, init.constant)
    if init.variance is not None:
        return Draw(init.variance, init.mean or 0.0)
    return None


# --------------------------------------------------------------------------- propagation


@dataclass
class NodeEstimate:
    m2: float = 0.0  # E[x²] of the node's output
    mean: float = 0.0
    pre_m2: float | None = None  # a weighted node's pre-activation variance (fused activation)
    # E[δ²] of the loss gradient at the node's output, and E[g²] of one weight entry
    # of a weighted node: Decimals, because two hundred sigmoid layers take E[δ²]
    # below the smallest float, and a vanished gradient must not read as none at all
    delta2: Decimal = Decimal(0)
    grad2: Decimal | None = None
    norm_var: float | None = None  # variance a what-if normalisation divides by
    # per-unit variance across samples; below m2 when units carry fixed offsets
    # (a mean through random weights), which BatchNorm removes and LayerNorm keeps
    batch_var: float | None = None
    area: float | None = None  # positions an average pool reads per output (known input shape)


@dataclass
class Estimate:
    nodes: dict[int, NodeEstimate] = field(default_factory=dict)
    log10_grad_ratio: float | None = None  # the shared definition: named_parameters() order
    # the same ratio with weights in forward order: what the rules judge, so that a
    # head registered before the body does not turn a vanishing chain into an exploding one
    forward_log10: float | None = None
    first: int | None = None  # weighted node of the input-side weight
    last: int | None = None  # weighted node of the output-side weight
    unknown: str | None = None  # why the estimate is None, when it is
    # positions of the output the loss averages over (a convolutional head): the
    # per-sample noise of every gradient averages over them as over the batch
    output_positions: int = 1

    @property
    def known(self) -> bool:
        return self.unknown is None


class Unknown(Exception):
    """A value the estimate needs is not known; the estimate is None."""


@dataclass(frozen=True)
class Counterfactual:
    """What-if changes for the rules: new weight draws, normalisation after nodes."""

    draws: Mapping[int, tuple[Draw, Draw]] = field(default_factory=dict)
    normalise_after: frozenset[int] = frozenset()


def estimate(graph: LayerGraph, what_if: Counterfactual | None = None) -> Estimate:
    """The estimate of ``graph`` at initialisation; the plain one is cached on the graph."""
    if what_if is None and CACHE_KEY in graph.attrs:
        return graph.attrs[CACHE_KEY]
    result = Estimate()
    try:
        _propagate(graph, result, what_if or Counterfactual())
        _ratio(graph, result, what_if or Counterfactual())
    except Unknown as why:
        result = Estimate(unknown=str(why))
    except (OverflowError, ZeroDivisionError, ValueError, ArithmeticError):
        result = Estimate(unknown="numbers out of range")
    if what_if is None:
        graph.attrs[CACHE_KEY] = result
    return result


def _activation_of(node: Node) -> tuple[str, float | None] | None:
    kind = node.activation
    if kind is None:
        return None
    if kind not in FUNCTIONS:
        raise Unknown(f"activation {kind!r} of {node.name}")
    slope = node.attrs.get("negative_slope")
    return kind, float(slope) if isinstance(slope, (int, float)) else None


def _on_path(graph: LayerGraph) -> set[int]:
    """Nodes on some path from an input to the output: only they matter."""
    users = graph.consumers()
    outputs = [n.id for n in graph.nodes if n.op == "output"]
    if not outputs:
        raise Unknown("no output node")
    upstream: set[int] = set()
    stack = list(outputs)
    while stack:
        nid = stack.pop()
        if nid not in upstream:
            upstream.add(nid)
            stack.extend(graph.nodes[nid].inputs)
    downstream: set[int] = set()
    stack = [n.id for n in graph.nodes if n.op in ("input",) or (not n.inputs and n.op == "embedding")]
    while stack:
        nid = stack.pop()
        if nid not in downstream:
            downstream.add(nid)
            stack.extend(users[nid])
    return upstream & downstream


def _propagate(graph: LayerGraph, result: Estimate, what_if: Counterfactual) -> None:
    if not graph.complete:
        raise Unknown("the graph is incomplete")
    order = list(graph.topological())
    if len(order) != len(graph.nodes):
        raise Unknown("the graph has a cycle")
    live = _on_path(graph)
    est = result.nodes
    shape = input_shape(graph)
    sizes = spatial_sizes(graph, shape) if shape is not None else {}
    for node in order:
        if node.id not in live:
            # a side branch that never reaches the loss: its unknowns do not matter
            est[node.id] = NodeEstimate()
            continue
        if node.op == "opaque":
            raise Unknown(f"{node.name} is opaque")
        est[node.id] = _forward(node, [est[i] for i in node.inputs], what_if)
        area = averaging_area(node, sizes) if sizes else None
        if area is not None and area > 1.0:
            _average_positions(est[node.id], est[node.inputs[0]], area)
        if not math.isfinite(est[node.id].m2):
            raise Unknown(f"the signal at {node.name} overflows")
        if node.id in what_if.normalise_after:
            mine = est[node.id]
            mine.norm_var, mine.m2, mine.mean = max(mine.m2 - mine.mean**2, 0.0), 1.0, 0.0
    out = next(n for n in graph.nodes if n.op == "output")
    if sizes and out.inputs:
        result.output_positions = positions(sizes.get(out.inputs[0])) or 1
    _backward(graph, [n for n in order if n.id in live], est, what_if)


def _average_positions(mine: NodeEstimate, first: NodeEstimate, area: float) -> None:
    """An average over ``area`` positions keeps the fixed per-channel offsets and divides
    the fluctuation, which independent positions carry, by the area. Backward, each
    position receives 1/area of the gradient: summed over positions, δ² falls by the area."""
    fluct = min(_batch_var(first), first.m2)
    mine.m2 = first.m2 - fluct + fluct / area
    mine.batch_var = fluct / area
    mine.area = area


def _forward(node: Node, inputs: list[NodeEstimate], what_if: Counterfactual) -> NodeEstimate:
    op = node.op
    if op == "input":
        return NodeEstimate(m2=1.0, batch_var=1.0)
    if op == "embedding":
        draw = _draws(node, what_if)[0]
        return NodeEstimate(m2=draw.variance + draw.mean**2, mean=draw.mean)
    if not inputs:
        return NodeEstimate()
    first = inputs[0]
    if op in ("linear", "recurrent"):
        w, b = _draws(node, what_if)
        n = node.fan_in
        if n is None:
            raise Unknown(f"fan-in of {node.name}")
        # weights sharing a mean μ add μ·Σa, whose spread across samples is n·Var(a)
        spread = n * (w.variance + w.mean**2) * _batch_var(first)
        var = n * w.variance * first.m2 + n * w.mean**2 * _batch_var(first) + b.variance
        mean = n * w.mean * first.mean + b.mean
        pre = var + mean * mean
        if op == "recurrent":
            m = moments("tanh", pre)
            return NodeEstimate(m2=m.m2, mean=m.mean, pre_m2=pre)
        act = _activation_of(node)
        if act is None:
            return NodeEstimate(m2=pre, mean=mean, pre_m2=pre, batch_var=spread)
        m = moments(act[0], pre, act[1])
        return NodeEstimate(m2=m.m2, mean=m.mean, pre_m2=pre, batch_var=_spread_after(m, spread))
    if op == "activation":
        act = _activation_of(node)
        if act is None:
            raise Unknown(f"activation kind of {node.name}")
        m = moments(act[0], first.m2, act[1])
        return NodeEstimate(
            m2=m.m2, mean=m.mean, pre_m2=first.m2, batch_var=_spread_after(m, _batch_var(first))
        )
    if op == "norm":
        scale = _norm_scale(node)
        # BatchNorm and InstanceNorm normalise each unit over samples (or positions)
        per_unit = (node.module_type or "").startswith(("BatchNorm", "InstanceNorm", "SyncBatchNorm"))
        spread = _batch_var(first) if per_unit else max(first.m2 - first.mean**2, 0.0)
        return NodeEstimate(m2=scale, pre_m2=spread, batch_var=scale)
    if op == "add":
        return NodeEstimate(
            m2=sum(i.m2 for i in inputs),
            mean=sum(i.mean for i in inputs),
            batch_var=sum(_batch_var(i) for i in inputs),
        )
    if op == "concat":
        widths = node.attrs.get("widths")
        if not widths or len(widths) != len(inputs):
            widths = [1] * len(inputs)
        total = float(sum(widths))
        return NodeEstimate(
            m2=sum(w * i.m2 for w, i in zip(widths, inputs)) / total,
            mean=sum(w * i.mean for w, i in zip(widths, inputs)) / total,
        )
    if op == "gate":
        return _gate_forward(node, inputs)
    if op in PASS_THROUGH or op == "output":
        return NodeEstimate(m2=first.m2, mean=first.mean, batch_var=first.batch_var)
    raise Unknown(f"{node.name}: {op}")


def _spread_after(m: Moments, spread: float) -> float:
    """Per-unit variance across samples after an activation. When fixed per-unit
    offsets (biases) dominate the pre-activation, only the small spread around
    them passes, scaled by the slope: the linearised E[φ'²]·spread."""
    return min(max(m.m2 - m.mean**2, 0.0), m.d2 * spread)


def _batch_var(x: NodeEstimate) -> float:
    return x.batch_var if x.batch_var is not None else max(x.m2 - x.mean**2, 0.0)


def _self_gate(node: Node) -> str:
    """x·φ(x) of a one-input gate as an activation: x·σ(x) is SiLU."""
    kind = node.activation
    return "silu" if kind in (None, "sigmoid") else kind


def _gate_squash(node: Node) -> str | None:
    """The activation a two-input gate applies to its last input; None when that input is
    already squashed. ONNX folds the Sigmoid into the gate and names it in attrs["gate"]."""
    if node.activation is not None:
        return node.activation
    folded = node.attrs.get("gate")
    if isinstance(folded, str):
        if folded not in FUNCTIONS:
            raise Unknown(f"gate {folded!r} of {node.name}")
        return folded
    return None if node.attrs.get("gate_applied", True) else "sigmoid"


def _gate_forward(node: Node, inputs: list[NodeEstimate]) -> NodeEstimate:
    """``x * σ(g)``: with one input, the gate is the activation of that input (SiLU)."""
    kind = node.activation or "sigmoid"
    if kind not in FUNCTIONS:
        raise Unknown(f"gate {kind!r} of {node.name}")
    if len(inputs) == 1:
        q = inputs[0].m2
        if node.module_type == "GLU":  # a·σ(b) on the two halves of one input
            return NodeEstimate(m2=q * moments("sigmoid", q).m2, pre_m2=q)
        m = moments(_self_gate(node), q)
        return NodeEstimate(
            m2=m.m2, mean=m.mean, pre_m2=q, batch_var=_spread_after(m, _batch_var(inputs[0]))
        )
    gate_in = inputs[-1]
    squash = _gate_squash(node)
    if squash is None:
        g_m2 = gate_in.m2  # the gate input is already σ(g)
    else:
        g_m2 = moments(squash, gate_in.m2).m2
    x_m2 = 1.0
    for i in inputs[:-1]:
        x_m2 *= i.m2
    return NodeEstimate(m2=x_m2 * g_m2, pre_m2=g_m2)


def _norm_scale(node: Node) -> float:
    init = node.weight_init
    if init is None or init.kind == "default":
        return 1.0
    if init.kind in ("constant", "zeros"):
        return (init.constant or 0.0) ** 2
    if init.variance is not None:
        return init.variance + (init.mean or 0.0) ** 2
    raise Unknown(f"affine weight of {node.name}")


def _draws(node: Node, what_if: Counterfactual) -> tuple[Draw, Draw]:
    if node.id in what_if.draws:
        return what_if.draws[node.id]
    w = weight_draw(node, node.weight_init if node.weight_init is not None else Init("default"))
    b = bias_draw(node)
    if w is None:
        raise Unknown(f"init of {node.name}")
    if w.variance == 0.0 and w.mean != 0.0:
        # every unit computes the same function: the mean field of independent
        # random units does not describe it (GL201 reports the layer itself)
        raise Unknown(f"{node.name} has one constant weight for all units")
    if b is None:
        raise Unknown(f"bias init of {node.name}")
    return w, b


def _backward(
    graph: LayerGraph, order: list[Node], est: dict[int, NodeEstimate], what_if: Counterfactual
) -> None:
    outputs = [n for n in graph.nodes if n.op == "output"]
    out = outputs[0]
    # loss = mean(y²): dL/dy = 2y / size, so E[δ²] ∝ E[y²]; the width cancels in ratios
    if out.inputs:
        width = graph.nodes[out.inputs[0]].fan_out or 1
        est[out.inputs[0]].delta2 += Decimal(4.0 * est[out.inputs[0]].m2 / float(width) ** 2)
    for node in reversed(order):
        if node.op == "output":
            continue
        mine = est[node.id]
        d2 = mine.delta2
        if mine.norm_var is not None:
            d2 = d2 / Decimal(mine.norm_var) if mine.norm_var > 0 else Decimal(0)
        positions = _flattened_positions(graph, node) if node.op == "linear" else 1.0
        weight, shares = _backward_factors(node, mine, est, what_if)
        if weight is not None:
            mine.grad2 = d2 * Decimal(weight)
        if mine.area is not None:
            shares = [(target, factor / mine.area) for target, factor in shares]
        for target, factor in shares:
            est[target].delta2 += d2 * Decimal(factor * positions)


def _backward_factors(
    node: Node, mine: NodeEstimate, est: dict[int, NodeEstimate], what_if: Counterfactual
) -> tuple[float | None, list[tuple[int, float]]]:
    """(E[g²] / E[δ²] of the node's weight, [(input, E[δ_in²] / E[δ²])])."""
    op = node.op
    if op == "input":
        return None, []
    if op == "embedding":
        # a one-hot input over V rows: E[a²] = 1/V, each row is read by 1/V of the tokens
        rows = node.attrs.get("num_embeddings", node.fan_in)
        if not isinstance(rows, int) or rows <= 0:
            raise Unknown(f"rows of {node.name}")
        return 1.0 / rows, []
    if not node.inputs:
        return None, []
    src = node.inputs[0]
    if op in ("linear", "recurrent"):
        w, _ = _draws(node, what_if)
        if op == "recurrent":
            slope = moments("tanh", mine.pre_m2 or 0.0).d2
        else:
            act = _activation_of(node)
            slope = moments(act[0], mine.pre_m2 or 0.0, act[1]).d2 if act else 1.0
        if node.fan_out is None:
            raise Unknown(f"fan-out of {node.name}")
        return slope * est[src].m2, [(src, node.fan_out * (w.variance + w.mean**2) * slope)]
    if op == "activation":
        act = _activation_of(node)
        return None, [(src, moments(act[0], est[src].m2, act[1]).d2)]  # type: ignore[index]
    if op == "norm":
        pre = mine.pre_m2
        return None, [(src, _norm_scale(node) / pre if pre else 0.0)]
    if op in ("add", "concat"):
        return None, [(i, 1.0) for i in node.inputs]
    if op == "gate":
        if len(node.inputs) == 1:
            q = est[src].m2
            if node.module_type == "GLU":
                glu = moments("sigmoid", q)
                return None, [(src, 0.5 * (glu.m2 + q * glu.d2))]
            return None, [(src, moments(_self_gate(node), q).d2)]
        g_m2 = mine.pre_m2 or 0.0
        x_m2 = 1.0
        for i in node.inputs[:-1]:
            x_m2 *= est[i].m2
        shares = [(i, g_m2) for i in node.inputs[:-1]]
        gate = node.inputs[-1]
        squash = _gate_squash(node)
        slope = 1.0 if squash is None else moments(squash, est[gate].m2).d2
        shares.append((gate, x_m2 * slope))
        return None, shares
    return None, [(i, 1.0) for i in node.inputs[:1]]


CONV_PREFIXES = ("Conv", "conv")
_SPATIAL_PASS = frozenset({"identity", "pool", "dropout", "activation", "norm"})


def _flattened_positions(graph: LayerGraph, node: Node) -> float:
    """Spatial positions a Linear's fan-in flattens from a convolution (1 for none).

    A convolution's weight gradient sums over its output positions; the estimate
    tracks one position, and pooling and strides keep that consistent down the
    stack (a pool quarters both the positions and the gradient routed back). At a
    flatten the positions become features, and every convolution before it gets
    P times the gradient the one-position estimate gives: δ² is scaled by P there.
    P = fan_in / out_channels, so the frontends record ``attrs["out_channels"]``
    on convolutions (or ``attrs["positions"]`` on the Linear); when neither is
    known the estimate is unknown.
    """
    if "positions" in node.attrs:
        return float(node.attrs["positions"])
    if (node.module_type or "").startswith(CONV_PREFIXES):
        return 1.0
    current = node
    while current.inputs:
        current = graph.nodes[current.inputs[0]]
        if current.op == "linear":
            if not (current.module_type or "").startswith(CONV_PREFIXES):
                return 1.0
            channels = out_channels(current)
            if not channels or not node.fan_in:
                raise Unknown(f"spatial size flattened into {node.name}")
            return max(node.fan_in / channels, 1.0)
        if current.op not in _SPATIAL_PASS:
            return 1.0
    return 1.0


def out_channels(node: Node) -> int | None:
    """A convolution's output channels: recorded, or fan_out·groups over the kernel area."""
    if node.attrs.get("out_channels"):
        return int(node.attrs["out_channels"])
    groups = node.attrs.get("groups") or 1
    kernel = node.attrs.get("kernel", node.attrs.get("kernel_size"))
    if isinstance(kernel, int):
        dims = re.search(r"(\d)d", node.module_type or "")
        kernel = [kernel] * int(dims.group(1)) if dims else None
    if not node.fan_out or not isinstance(groups, int) or not kernel:
        return None
    if not all(isinstance(k, int) and k > 0 for k in kernel):
        return None
    area = math.prod(kernel)
    return node.fan_out * groups // area if (node.fan_out * groups) % area == 0 else None


def weights_in_order(graph: LayerGraph) -> list[Node]:
    """Weighted nodes in named_parameters() order (graph order when unknown)."""
    weighted = graph.weighted()
    if weighted and all(n.param_index is not None for n in weighted):
        return sorted(weighted, key=lambda n: n.param_index)  # type: ignore[arg-type, return-value]
    return weighted


def _ratio(graph: LayerGraph, result: Estimate, what_if: Counterfactual) -> None:
    ordered = weights_in_order(graph)
    if not ordered:
        raise Unknown("no weights")
    result.first, result.last, result.log10_grad_ratio = _ratio_over(graph, result, ordered, what_if)
    if result.first is not None and _unmodelled_before(graph, graph.nodes[result.first]):
        # a raw nn.Parameter (a class token, a position table) comes first in
        # named_parameters(): the ratio is defined on a weight the graph does not hold
        result.log10_grad_ratio = None
    forward = [n for n in graph.topological() if n.has_weight]
    result.forward_log10 = _ratio_over(graph, result, forward, what_if)[2]


def _unmodelled_before(graph: LayerGraph, first: Node) -> bool:
    if first.param_index is None:
        return False
    held = {n.param_index for n in graph.weighted()}
    return any(i not in held for i in range(first.param_index))


def _ratio_over(
    graph: LayerGraph, result: Estimate, ordered: list[Node], what_if: Counterfactual
) -> tuple[int | None, int, float | None]:
    """(first weight with a nonzero gradient, last weight, log10 of their RMS gradient ratio);
    frozen weights take no gradient and stand apart, as in the shared definition."""
    ordered = [n for n in ordered if not n.attrs.get("frozen")]
    if not ordered:
        raise Unknown("every weight is frozen")
    last = ordered[-1]
    last_g = result.nodes[last.id].grad2
    first = next((n for n in ordered if (result.nodes[n.id].grad2 or 0) > 0), None)
    if not last_g or first is None:
        return (first.id if first else None), last.id, None
    first_g = (result.nodes[first.id].grad2 or Decimal(0)) * Decimal(_batch_share(graph, result, first))
    if first is not last:
        first_g += _coherent_input_gradient(graph, result, first, what_if)
    value = 0.5 * float((first_g / (last_g * Decimal(_batch_share(graph, result, last)))).log10())
    return first.id, last.id, value


def _feeds_output(graph: LayerGraph, node: Node) -> bool:
    """The node's value is the model output, up to reshapes, dropout and an elementwise
    output activation: the fixed per-unit offsets of the head's inputs that make its batch
    gradient coherent pass a monotone activation unchanged in sign."""
    users = graph.consumers()
    current = [node.id]
    while current:
        nxt = []
        for nid in current:
            for u in users[nid]:
                op = graph.nodes[u].op
                if op == "output":
                    return True
                if op in ("identity", "dropout", "activation"):
                    nxt.append(u)
        current = nxt
    return False


def _batch_share(graph: LayerGraph, result: Estimate, node: Node) -> float:
    """How much of the per-sample E[g²] survives averaging over a batch.

    Per-sample gradients mostly cancel (1/B); the output layer keeps a coherent
    part, the gradient of E[y²] itself: W·E[a aᵀ] for a linear head, whose
    share of the per-sample E[g²] is (s² + n·o²) / (n·E[a²]²) for inputs whose
    units vary by s across samples around fixed offsets of mean square o.
    Sigmoid outputs (offset 0.5) and bias-dominated deep tanh make it large.
    """
    noise = 1.0 / (batch_size(graph) * result.output_positions)
    if node.op != "linear" or node.activation is not None or not node.fan_in:
        return noise
    if not _feeds_output(graph, node):
        return noise
    a = result.nodes[node.inputs[0]]
    if a.m2 <= 0.0:
        return noise
    s = min(_batch_var(a), a.m2)
    offsets = a.m2 - s
    return noise + (s * s + node.fan_in * offsets**2) / (node.fan_in * a.m2 * a.m2)


def input_shape(graph: LayerGraph) -> tuple[int, ...] | None:
    """The example input's shape the frontend read from the code (None: not built there)."""
    shape = graph.attrs.get("input_shape")
    if isinstance(shape, tuple) and shape and all(isinstance(d, int) and d > 0 for d in shape):
        return shape
    return None


def batch_size(graph: LayerGraph) -> int:
    """Samples whose per-sample gradients average out: the batch, and for a sequence model
    every token, since its first layers sum one gradient per step (features are the last
    dim, or there are none after an embedding's indices); a convolution's positions are
    counted apart, where the spatial sizes are followed."""
    shape = input_shape(graph)
    if shape is None:
        return BATCH
    reader = _first_reader(graph)
    if reader is None or (reader.module_type or "").startswith(CONV_PREFIXES):
        return shape[0]
    return math.prod(shape) if reader.op == "embedding" else math.prod(shape[:-1])


def _first_reader(graph: LayerGraph) -> Node | None:
    """The first weighted node the model input reaches."""
    users = graph.consumers()
    stack = [n.id for n in graph.nodes if n.op == "input"][:1]
    seen: set[int] = set()
    while stack:
        nid = stack.pop(0)
        if nid in seen:
            continue
        seen.add(nid)
        node = graph.nodes[nid]
        if node.has_weight:
            return node
        stack.extend(users[nid])
    return None


_STEIN_STEP = 1e-3


def _coherent_input_gradient(graph: LayerGraph, result: Estimate, node: Node, what_if: Counterfactual) -> Decimal:
    """The part of a first layer's gradient that survives averaging over the batch.

    For a layer reading the Gaussian input, the batch mean of its gradient tends to
    the gradient of the expected loss (Stein's lemma), which depends on the weight
    through its rows' norms: E[g] = c·W with c·Σw² = dE[loss]/dlog‖W‖. Its square per
    entry is (dE[loss]/dlog‖W‖)² / (N²·v) for N entries of variance v. Over the many
    samples and positions of a convolution on a real example input it outweighs the
    per-sample noise, which alone would make the estimate follow the batch size.
    Only modelled when the example input is known; zero elsewhere.
    """
    if input_shape(graph) is None or not _reads_input(graph, node) or node.op != "linear":
        return Decimal(0)
    w, b = _draws(node, what_if)
    units = out_channels(node) if (node.module_type or "").startswith(CONV_PREFIXES) else node.fan_out
    if not units or not node.fan_in or w.variance <= 0.0 or w.mean != 0.0:
        return Decimal(0)
    out = next(n for n in graph.nodes if n.op == "output")
    if not out.inputs:
        return Decimal(0)
    scaled = Draw(w.variance * (1.0 + _STEIN_STEP) ** 2)
    bumped = Estimate()
    _propagate(graph, bumped, Counterfactual({**what_if.draws, node.id: (scaled, b)}, what_if.normalise_after))
    before = result.nodes[out.inputs[0]].m2
    after = bumped.nodes[out.inputs[0]].m2
    slope = (after - before) / _STEIN_STEP
    entries = float(units) * node.fan_in
    return Decimal(slope * slope / (entries * entries * w.variance))


def _reads_input(graph: LayerGraph, node: Node) -> bool:
    current = node
    while len(current.inputs) == 1:
        current = graph.nodes[current.inputs[0]]
        if current.op == "input":
            return True
        if current.op not in ("identity", "dropout"):
            return False
    return False


# --------------------------------------------------------------------------- records


def depth(graph: LayerGraph) -> int | None:
    """Weighted layers on the longest input→output path."""
    order = list(graph.topological())
    if len(order) != len(graph.nodes):
        return None
    best: dict[int, int] = {}
    for node in order:
        here = 1 if node.has_weight else 0
        best[node.id] = here + max((best[i] for i in node.inputs), default=0)
    outputs = [n.id for n in graph.nodes if n.op == "output"]
    return max((best[o] for o in outputs), default=None)


def model_record(graph: LayerGraph) -> ModelRecord:
    found = estimate(graph)
    ratio = found.log10_grad_ratio
    return ModelRecord(
        path=graph.location.path,
        line=graph.location.line,
        name=graph.name,
        depth=depth(graph),
        log10_grad_ratio=round(ratio, 3) if ratio is not None else None,
        extra={
            "weights": len(graph.weighted()),
            "complete": graph.complete and found.known,
            "source": graph.source,
        },
    )
