"""What each activation does to its units at initialisation: dead ReLUs and saturation.

From the estimate's pre-activation moments (mean and second moment) and one more
quantity followed here, the second moment shared by two different samples,
``k = E[h(a)·h(b)]``. A unit's pre-activation is its own offset, the same for every
sample (biases, and the part of its input every sample shares), plus a fluctuation
from sample to sample: the offsets are N(μ, k − μ²) across units and initialisations,
the fluctuation N(0, q − k). A ReLU unit is dead for a batch of B samples when every
one of them is negative: P = E_o[Φ(−o/√(q − k))^B]. A layer of N units is dead for the
whole batch with probability P^N (the units draw independent weights), which matters
where a stack narrows to a few units.

Through a ReLU, ``k`` follows the exact arc-cosine kernel (sample to sample correlation
grows with depth, so deep narrow ReLU stacks die); through other activations a
linearisation, the fluctuation scaled by E[φ'²]. The estimate itself does not read
these numbers: they serve the dead-unit and saturation rules and the probe's report.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from gradlint.gain.activations import _gauss, _phi, gaussian_mean, moments, saturated_fraction
from gradlint.gain.estimates import Counterfactual, Estimate, Unknown
from gradlint.gain.layers import activation_of, draws_of
from gradlint.gain.ratio import batch_size, estimate
from gradlint.gain.spatial import input_shape, is_conv, out_channels, positions, spatial_sizes
from gradlint.ir import LayerGraph, Node

DEAD_KINDS = {"relu": 0.0, "relu6": 0.0, "leaky_relu": None, "prelu": None, "rrelu": None}
SATURATING = ("sigmoid", "tanh")
CACHE_KEY = "unit_stats"
BOUND = 5.0  # DeepDiagnosis's saturation criterion: |h| > 5


@dataclass(frozen=True)
class UnitStats:
    """One activation site of the graph at initialisation."""

    node: int  # the activation node, or the weighted node it is fused into
    kind: str
    q: float  # E[h²] of the pre-activation
    mean: float  # its mean
    shared: float  # E[h(a)·h(b)] of two different samples
    width: int | None  # units of the layer (channels of a convolution)
    samples: int  # samples (and positions) a unit sees in one batch
    saturated: float | None = None  # expected share of |h| > 5 (sigmoid, tanh)
    dead_units: float | None = None  # expected share of units dead for the whole batch
    layer_dead: float | None = None  # probability that every unit is dead for the batch


def unit_stats(graph: LayerGraph, found: Estimate | None = None) -> list[UnitStats]:
    """Each activation site on the estimate's path, in forward order; [] when unknown.
    Cached on the graph for its plain estimate."""
    if found is None:
        if CACHE_KEY in graph.attrs:
            return graph.attrs[CACHE_KEY]
        graph.attrs[CACHE_KEY] = unit_stats(graph, estimate(graph))
        return graph.attrs[CACHE_KEY]
    if not found.known or not found.nodes:
        return []
    try:
        return _walk(graph, found)
    except (Unknown, OverflowError, ValueError, ZeroDivisionError):
        return []


def model_dead(stats: list[UnitStats]) -> float:
    """The probability that some layer is dead for the whole batch at initialisation; a layer
    whose pre-activation is exactly zero (zero weights and bias: GL201's case) is left out."""
    alive = 1.0
    for site in stats:
        if site.layer_dead is not None and site.q > 0.0:
            alive *= 1.0 - site.layer_dead
    return 1.0 - alive


def _walk(graph: LayerGraph, found: Estimate) -> list[UnitStats]:
    est = found.nodes
    shape = input_shape(graph)
    sizes = spatial_sizes(graph, shape) if shape is not None else {}
    batch = batch_size(graph)
    shared: dict[int, float] = {}
    out: list[UnitStats] = []
    width_of: dict[int, int | None] = {}
    for node in graph.topological():
        mine = est.get(node.id)
        if mine is None:
            continue
        ins = [i for i in node.inputs if i in shared]
        first = ins[0] if ins else None
        k_in = shared.get(first, 0.0) if first is not None else 0.0
        m_in = est[first].m2 if first is not None else 0.0
        width_of[node.id] = _width(node) or (width_of.get(first) if first is not None else None)
        act = activation_of(node) if node.op in ("linear", "activation") else None
        if node.op == "input":
            shared[node.id] = 0.0
            continue
        if node.op == "embedding":
            shared[node.id] = mine.mean**2
            continue
        if node.op == "linear":
            w, b = draws_of(node, Counterfactual())
            pre_q = mine.pre_m2 if mine.pre_m2 is not None else mine.m2
            pre_mean = mine.pre_mean if act else mine.mean
            pre_k = (node.fan_in or 0) * w.variance * k_in + b.variance + pre_mean**2
            pre_k = min(pre_k, pre_q)
            if act is None:
                shared[node.id] = pre_k
                continue
            stats = _site(node, act, pre_q, pre_mean, pre_k, width_of[node.id], batch, sizes)
            out.append(stats)
            shared[node.id] = _shared_after(act, pre_q, pre_mean, pre_k, mine.m2, mine.mean)
            continue
        if node.op == "activation" and act is not None and first is not None:
            q, mu = est[first].m2, est[first].mean
            stats = _site(node, act, q, mu, min(k_in, q), width_of[node.id], batch, sizes)
            out.append(stats)
            shared[node.id] = _shared_after(act, q, mu, min(k_in, q), mine.m2, mine.mean)
            continue
        if node.op == "norm":
            per_unit = (node.module_type or "").startswith(("BatchNorm", "SyncBatchNorm", "InstanceNorm"))
            if per_unit or first is None:
                shared[node.id] = 0.0
            else:
                mu = est[first].mean
                spread = max(m_in - mu * mu, 1e-300)
                shared[node.id] = mine.m2 * min(max(k_in - mu * mu, 0.0) / spread, 1.0)
            continue
        if node.op == "add":
            shared[node.id] = min(sum(shared.get(i, 0.0) for i in node.inputs), mine.m2)
            continue
        if mine.area is not None and mine.area > 1.0:
            # an average over positions keeps the offsets and divides what varies by the area
            shared[node.id] = min(max(mine.m2 - (m_in - k_in) / mine.area, 0.0), mine.m2)
            continue
        ratio = k_in / m_in if m_in > 0 else 0.0
        shared[node.id] = min(max(ratio, 0.0), 1.0) * mine.m2
    return out


def _width(node: Node) -> int | None:
    if node.op != "linear":
        return None
    return out_channels(node) if is_conv(node) else node.fan_out


def _site(
    node: Node,
    act: tuple[str, float | None],
    q: float,
    mean: float,
    k: float,
    width: int | None,
    batch: int,
    sizes: dict,
) -> UnitStats:
    kind, _slope = act
    samples = batch * ((positions(sizes.get(node.id)) if sizes else None) or 1)
    saturated = saturated_fraction(q, mean, BOUND) if kind in SATURATING else None
    dead = layer = None
    if kind in ("relu", "relu6"):
        dead = dead_unit_fraction(q, mean, k, samples, upper=6.0 if kind == "relu6" else None)
        layer = dead**width if width else None
    return UnitStats(node.id, kind, q, mean, k, width, samples, saturated, dead, layer)


def dead_unit_fraction(q: float, mean: float, k: float, samples: int, upper: float | None = None) -> float:
    """The expected share of units whose pre-activation is below zero (or, with ``upper``,
    above it) for every one of ``samples`` samples."""
    offset_sd = math.sqrt(max(k - mean * mean, 0.0))
    fluct = math.sqrt(max(q - k, 0.0))
    if fluct <= 1e-12 * math.sqrt(max(q, 1e-300)):
        # relu(0) = 0 and relu'(0) = 0 in PyTorch: a pre-activation fixed at 0 is dead too
        below_zero = _phi(-mean / offset_sd) if offset_sd > 0 else float(mean <= 0)
        above = _phi((mean - upper) / offset_sd) if upper is not None and offset_sd > 0 else 0.0
        return below_zero + above

    def dead(u: float) -> float:
        o = mean + offset_sd * u
        p = _phi(-o / fluct) ** samples
        if upper is not None:
            p += _phi((o - upper) / fluct) ** samples
        return p

    if offset_sd == 0.0:
        return dead(0.0)
    return min(max(gaussian_mean(dead, 1.0), 0.0), 1.0)


def _shared_after(
    act: tuple[str, float | None], q: float, mean: float, k: float, m2_out: float, mean_out: float
) -> float:
    """E[φ(h(a))·φ(h(b))]: exact for the ReLU family, linearised for the rest."""
    kind, slope = act
    offset_sd = math.sqrt(max(k - mean * mean, 0.0))
    fluct = math.sqrt(max(q - k, 0.0))
    if kind in ("relu", "leaky_relu", "prelu", "rrelu"):
        a = slope if slope is not None else {"relu": 0.0, "leaky_relu": 0.01, "prelu": 0.25}.get(kind, 0.23)
        if fluct <= 0.0:
            return m2_out

        def inner(u: float) -> float:
            m = mean + offset_sd * u
            z = m / fluct
            above, density = _phi(z), _gauss(z)
            pos = m * above + fluct * density
            neg = m * (1.0 - above) - fluct * density
            return (pos + a * neg) ** 2

        return min(gaussian_mean(inner, 1.0), m2_out)
    d2 = moments(kind, q, slope, mean).d2
    return min(max(m2_out - d2 * (q - k), mean_out**2), m2_out)
