"""The walk over a layer graph: forward in topological order, then the gradient back.

Only nodes on a path from an input to the output take part. With the example input's
shape known, spatial sizes are followed too: an average pool divides the fluctuation
and the gradient among the positions it reads, and the positions of a convolutional
output are those the loss averages over.
"""

from __future__ import annotations

import math
from decimal import Decimal

from gradlint.gain import attention
from gradlint.gain.estimates import Counterfactual, Estimate, NodeEstimate, Unknown
from gradlint.gain.layers import backward_factors, forward
from gradlint.gain.spatial import (
    averaging_area,
    flattened_positions,
    input_shape,
    loss_width,
    positions,
    spatial_sizes,
)
from gradlint.ir import LayerGraph, Node


def propagate(graph: LayerGraph, result: Estimate, what_if: Counterfactual) -> None:
    """Fill ``result.nodes`` with every node's forward and backward estimate."""
    if not graph.complete:
        raise Unknown("the graph is incomplete")
    order = list(graph.topological())
    if len(order) != len(graph.nodes):
        raise Unknown("the graph has a cycle")
    live = on_path(graph)
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
        if attention.is_attention(node):
            est[node.id] = attention.forward(graph, node, est)
        else:
            est[node.id] = forward(node, [est[i] for i in node.inputs], what_if)
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


def on_path(graph: LayerGraph) -> set[int]:
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
    stack = [n.id for n in graph.nodes if n.op == "input" or (not n.inputs and n.op == "embedding")]
    while stack:
        nid = stack.pop()
        if nid not in downstream:
            downstream.add(nid)
            stack.extend(users[nid])
    return upstream & downstream


def _average_positions(mine: NodeEstimate, first: NodeEstimate, area: float) -> None:
    """An average over ``area`` positions keeps the fixed per-channel offsets and divides
    the fluctuation, which independent positions carry, by the area. Backward, each
    position receives 1/area of the gradient: summed over positions, δ² falls by the area."""
    fluct = min(first.sample_var(), first.m2)
    mine.m2 = first.m2 - fluct + fluct / area
    mine.batch_var = fluct / area
    mine.area = area


def _backward(
    graph: LayerGraph, order: list[Node], est: dict[int, NodeEstimate], what_if: Counterfactual
) -> None:
    out = next(n for n in graph.nodes if n.op == "output")
    # loss = mean(y²): dL/dy = 2y / size, so E[δ²] ∝ E[y²]. The width cancels in the ratio of
    # two per-sample gradients, not against the coherent parts ratio.py takes from E[y²]
    # itself: it is the output's features per position (a convolution's channels, not its fan-out)
    if out.inputs:
        width = loss_width(graph, out)
        est[out.inputs[0]].delta2 += Decimal(4.0 * est[out.inputs[0]].m2 / float(width) ** 2)
    for node in reversed(order):
        if node.op == "output":
            continue
        mine = est[node.id]
        d2 = mine.delta2
        if mine.norm_var is not None:
            d2 = d2 / Decimal(mine.norm_var) if mine.norm_var > 0 else Decimal(0)
        flattened = _flattened(graph, node) if node.op == "linear" else 1.0
        if attention.is_attention(node):
            weight, shares = None, attention.backward(graph, node, est)
        else:
            weight, shares = backward_factors(node, mine, est, what_if)
        if weight is not None:
            # a weight forward computed from the parameter (normalised, scaled): the
            # parameter's gradient is the effective weight's times the slope between them
            slope = node.attrs.get("grad_scale", 1.0)
            mine.grad2 = d2 * Decimal(weight * slope * slope)
        if mine.area is not None:
            shares = [(target, factor / mine.area) for target, factor in shares]
        for target, factor in shares:
            est[target].delta2 += d2 * Decimal(factor * flattened)


def _flattened(graph: LayerGraph, node: Node) -> float:
    """The positions a Linear flattens into features: every convolution before it
    receives that many times the gradient of one position."""
    found = flattened_positions(graph, node)
    if found is None:
        raise Unknown(f"spatial size flattened into {node.name}")
    return found
