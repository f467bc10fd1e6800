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

import dataclasses
import functools
import math
import random
from dataclasses import dataclass

from gradlint.gain.activations import _gauss, _phi, gaussian_mean, moments, saturated_fraction
from gradlint.gain.estimates import Counterfactual, Estimate, Unknown
from gradlint.gain.layers import _gate_squash, activation_of, affine, draws_of
from gradlint.gain.propagate import on_path
from gradlint.gain.ratio import batch_size, estimate
from gradlint.gain.spatial import (
    TapClass,
    input_shape,
    is_conv,
    layer_width,
    positions,
    spatial_sizes,
    tap_classes,
)
from gradlint.ir import LayerGraph, Node

DEAD_KINDS = {"relu": 0.0, "relu6": 0.0, "leaky_relu": None, "prelu": None, "rrelu": None}
SATURATING = ("sigmoid", "tanh")
CACHE_KEY = "unit_stats"
BOUND = 5.0  # DeepDiagnosis's saturation criterion: |h| > 5
DRAWS = 512  # fixed draws (antithetic pairs) for a convolution's border classes
# a convolution's zero-padded border: (variance of the offset its taps carry, kernel, classes)
Taps = tuple[float, tuple[int, ...], list[TapClass]]


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
    borders: dict[int, Taps] = {}
    # after a recurrent layer the share of the second moment samples have in common depends
    # on how its states correlate over time (a mean over time keeps the offsets and averages
    # the rest): not modelled, so no dead-unit share is claimed downstream
    unknown: set[int] = set()
    live = on_path(graph)  # a side branch the loss never reads has no estimate of its own
    for node in graph.topological():
        mine = est.get(node.id)
        if mine is None or node.id not in live:
            continue
        if node.op == "recurrent" or any(i in unknown for i in node.inputs):
            unknown.add(node.id)
        ins = [i for i in node.inputs if i in shared]
        first = ins[0] if ins else None
        k_in = shared.get(first, 0.0) if first is not None else 0.0
        m_in = est[first].m2 if first is not None else 0.0
        width_of[node.id] = layer_width(node) or (width_of.get(first) if first is not None else None)
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
            tap_var = (node.fan_in or 0) * w.variance * k_in
            pre_k = min(tap_var + b.variance + pre_mean**2, pre_q)
            geometry = tap_classes(node, sizes.get(node.inputs[0])) if sizes and is_conv(node) else None
            if geometry is not None:
                borders[node.id] = (tap_var, *geometry)
            if act is None:
                shared[node.id] = pre_k
                continue
            stats = _site(node, act, pre_q, pre_mean, pre_k, width_of[node.id], batch, sizes, borders.get(node.id))
            out.append(stats)
            shared[node.id] = _shared_after(act, pre_q, pre_mean, pre_k, mine.m2, mine.mean)
            continue
        if node.op == "activation" and act is not None and first is not None:
            q, mu = est[first].m2, est[first].mean
            stats = _site(node, act, q, mu, min(k_in, q), width_of[node.id], batch, sizes, borders.get(first))
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
        if node.op == "gate" and len(ins) > 1 and len(ins) == len(node.inputs):
            # independent factors: E[x(a)g(a)·x(b)g(b)] = k_x·k_g, after the gate's squash
            ratio = 1.0
            for i in ins[:-1]:
                ratio *= shared[i] / est[i].m2 if est[i].m2 > 0 else 0.0
            g = est[ins[-1]]
            squash = mine.pre_m2 if mine.pre_m2 else g.m2
            g_shared = _gate_shared(node, g.m2, g.mean, shared[ins[-1]], squash)
            shared[node.id] = min(max(ratio * g_shared / squash if squash > 0 else 0.0, 0.0), 1.0) * mine.m2
            continue
        if node.op == "identity" and "noise" in node.attrs:
            shared[node.id] = 0.0  # noise drawn for each sample: two samples share none of it
            continue
        if node.op == "identity" and "affine" in node.attrs and first is not None:
            a, b = affine(node)
            mu = est[first].mean
            shared[node.id] = min(max(a * a * k_in + 2.0 * a * b * mu + b * b, 0.0), mine.m2)
            continue
        if mine.area is not None and mine.area > 1.0:
            # an average over positions keeps the offsets and divides what varies by the area
            shared[node.id] = min(max(mine.m2 - (m_in - k_in) / mine.area, 0.0), mine.m2)
            continue
        ratio = k_in / m_in if m_in > 0 else 0.0
        shared[node.id] = min(max(ratio, 0.0), 1.0) * mine.m2
    return [_without_dead(site) if site.node in unknown else site for site in out]


def _without_dead(site: UnitStats) -> UnitStats:
    return dataclasses.replace(site, dead_units=None, layer_dead=None)


def _site(
    node: Node,
    act: tuple[str, float | None],
    q: float,
    mean: float,
    k: float,
    width: int | None,
    batch: int,
    sizes: dict,
    border: Taps | None = None,
) -> UnitStats:
    kind, _slope = act
    samples = batch * ((positions(sizes.get(node.id)) if sizes else None) or 1)
    saturated = saturated_fraction(q, mean, BOUND) if kind in SATURATING else None
    dead = layer = None
    if kind in ("relu", "relu6"):
        upper = 6.0 if kind == "relu6" else None
        dead = border_dead_fraction(q, mean, k, batch, border, upper) if border else None
        if dead is None:
            dead = dead_unit_fraction(q, mean, k, samples, upper=upper)
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


def border_dead_fraction(
    q: float, mean: float, k: float, batch: int, border: Taps, upper: float | None = None
) -> float | None:
    """:func:`dead_unit_fraction` for a convolution whose border reads zero padding.

    A channel's offset at a position is its bias plus the shared part its in-bounds taps
    read; a corner of a 3x3 kernel with padding 1 reads four taps, so its offset differs
    from the interior's, and a channel whose interior is dead can live at its border. The
    taps carry independent equal shares of ``tap_var``; a position class of n positions
    is dead for the batch with probability Φ(−o/f)^(B·n), f its fluctuation, and the
    channel when every class is. An average over fixed draws of the bias and the taps
    (deterministic); None for kernels of more than two dims."""
    tap_var, kernel, classes = border
    if len(kernel) > 2 or not classes:
        return None
    rows, cols = kernel[0], (kernel[1] if len(kernel) == 2 else 1)
    taps = rows * cols
    bias_sd = math.sqrt(max(k - mean * mean - tap_var, 0.0))
    tap_sd = math.sqrt(max(tap_var, 0.0) / taps)
    fluct2 = max(q - k, 0.0)
    plan = []
    for count, spans in classes:
        (r0, r1), (c0, c1) = spans if len(spans) == 2 else (spans[0], (0, 1))
        f = math.sqrt(fluct2 * (r1 - r0) * (c1 - c0) / taps)
        plan.append((r0, r1, c0, c1, f, batch * count))
    total = 0.0
    for z in _normals(1 + taps):
        prefix = [[0.0] * (cols + 1)]
        for r in range(rows):
            acc, row, above = 0.0, [0.0], prefix[r]
            for c in range(cols):
                acc += z[1 + r * cols + c]
                row.append(above[c + 1] + acc)
            prefix.append(row)
        base = mean + bias_sd * z[0]
        below = over = 1.0
        for r0, r1, c0, c1, f, n in plan:
            o = base + tap_sd * (prefix[r1][c1] - prefix[r0][c1] - prefix[r1][c0] + prefix[r0][c0])
            if f <= 1e-12 * math.sqrt(max(q, 1e-300)):
                below *= float(o <= 0.0)
                over *= float(upper is not None and o >= upper)
            else:
                below *= _phi(-o / f) ** n
                over *= _phi((o - upper) / f) ** n if upper is not None else 0.0
            if below == 0.0 and over == 0.0:
                break
        total += below + over
    return min(max(total / DRAWS, 0.0), 1.0)


@functools.lru_cache(maxsize=8)
def _normals(width: int) -> tuple[tuple[float, ...], ...]:
    """DRAWS fixed standard normal vectors of ``width`` (seeded; antithetic pairs)."""
    rng = random.Random(width)
    half = [tuple(rng.gauss(0.0, 1.0) for _ in range(width)) for _ in range(DRAWS // 2)]
    return tuple(half + [tuple(-v for v in row) for row in half])


def _gate_shared(node: Node, q: float, mean: float, k: float, m2_out: float) -> float:
    """E[σ(g(a))·σ(g(b))] of a two-input gate's squashed input (k itself when the input
    arrives squashed)."""
    squash = _gate_squash(node)
    if squash is None:
        return k
    out = moments(squash, q, None, mean)
    return _shared_after((squash, None), q, mean, min(k, q), m2_out, out.mean)


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
