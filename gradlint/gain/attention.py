"""Attention at initialisation: a softmax over near-equal scores mixes the values.

Scores ``q·k/√d`` of small queries and keys leave each query's weights near 1/n over the n
positions it sees (1/(i+1) over the first i+1 with a causal mask), so for independent
positions the output keeps the values' mean and ``mix`` = E_i[Σ_j p_ij²] of their
fluctuation: 1/n, or H_n/n causal. Backward the values get ``mix`` of the output's E[δ²];
a query gets the gradient of the scores, ``∂s_ij = p_ij δ_i·(v_j − v̄_i)``, through the keys:
``mix·Var(v)·Var(k)`` of it (the scale 1/√d cancels the head width), a key likewise with the
queries. Equal pieces of one projection (``q, k, v = c_attn(x).split(d, dim=2)``) each hold
1/n of its units: the projection's E[δ²] is the mean over them, which is why its RMS
gradient sits near the value rows' over √3 (nanoGPT's block: measured 0.61 of it, 1/√3 = 0.58).

n is the sequence length of the model's input (a (batch, tokens, features) input read by a
linear layer, or token ids read by an embedding); token ids without an example input are
taken as ``gradlint probe`` makes them, ``PROBE_SEQUENCE`` long, and so is any other
sequence no input gives, as a convolution's positions are taken as one without an example
input; the model record says so (``assumed_positions``). An attention block alone does not
depend on it (every weight's gradient scales with the mixing); a residual stack does, through
the attention's share of the gradient.
"""

from __future__ import annotations

import math
import re

from gradlint.gain.estimates import NodeEstimate
from gradlint.gain.spatial import first_reader, input_shape, is_conv, spatial_sizes
from gradlint.ir import LayerGraph, Node

_ROLES = ("query", "key", "value")
# the sequence length of the token ids ``gradlint probe`` feeds a model without an input
PROBE_SEQUENCE = 16


def is_attention(node: Node) -> bool:
    return node.op == "attention" and "roles" in node.attrs


def positions_attended(graph: LayerGraph, assume: bool = True) -> int | None:
    """The sequence length of the model's input: (batch, tokens, features) read by a linear
    layer, token ids read by an embedding (``PROBE_SEQUENCE`` without an example input), or
    what the model that builds this block feeds it (``input_positions``)."""
    given = graph.attrs.get("input_positions")
    if isinstance(given, int) and given > 0:
        return given
    shape = input_shape(graph)
    reader = first_reader(graph)
    if reader is not None and reader.op == "embedding" and shape is None:
        return PROBE_SEQUENCE if assume else None
    if shape is None or reader is None or is_conv(reader):
        return None
    if reader.op == "embedding" and len(shape) == 2:
        return shape[1]
    if reader.op == "linear" and len(shape) == 3:
        return shape[1]
    return None


def token_counts(graph: LayerGraph, assume: bool = True) -> dict[int, int | None]:
    """``assume``: token ids without an example input are ``PROBE_SEQUENCE`` long."""
    key = (len(graph.nodes), input_shape(graph), graph.attrs.get("input_positions"), assume)
    cached = graph.attrs.get("_token_counts")
    if cached is None or cached[0] != key:
        cached = graph.attrs["_token_counts"] = (key, _token_counts(graph, assume))
    return cached[1]


def _token_counts(graph: LayerGraph, assume: bool) -> dict[int, int | None]:
    """The positions along each node's sequence axis: the input's, and after an einops
    ``Rearrange("b c (h p1) (w p2) -> b (h w) (p1 p2 c)", p1=16, p2=16)`` of an image the
    patches; kept through layers that act on features, unknown after anything else."""
    counts: dict[int, int | None] = {}
    shape = input_shape(graph)
    main = next((n.id for n in graph.nodes if n.op == "input"), None)
    reader = first_reader(graph)
    # spatial sizes are a feature map's only where a convolution reads the input
    sizes = spatial_sizes(graph, shape) if shape is not None and reader is not None and is_conv(reader) else {}
    for node in graph.topological():
        ins = [counts.get(i) for i in node.inputs]
        if node.op == "input":
            counts[node.id] = positions_attended(graph, assume) if node.id == main else None
        elif node.op == "embedding" and not node.inputs:
            counts[node.id] = positions_attended(graph, assume)
        elif node.op == "identity" and isinstance(node.attrs.get("einops"), str):
            source = node.inputs[0] if node.inputs else None
            dims = shape if shape is not None and source == main else None
            if dims is None and source is not None and sizes.get(source):
                dims = (None, None, *sizes[source])  # a convolution's map: (batch, channels, *spatial)
            counts[node.id] = _rearranged(node.attrs["einops"], node.attrs.get("axes") or {}, dims)
        elif sizes.get(node.id):
            # a feature map (a convolution's, a pool's): attention over it mixes its positions
            counts[node.id] = math.prod(sizes[node.id])  # type: ignore[arg-type]
        elif node.op in _KEEP and not (node.op == "linear" and is_conv(node)):
            known = {c for c in ins if c is not None}
            counts[node.id] = known.pop() if len(known) == 1 else None
        else:
            counts[node.id] = None
    return counts


_KEEP = ("linear", "embedding", "norm", "activation", "dropout", "add", "gate", "scale", "shift", "identity",
         "attention", "concat")


def _rearranged(pattern: str, axes: dict, dims: tuple | None) -> int | None:
    """The length of the second output axis of an einops pattern whose output is
    (batch, tokens, features), from the input's dims and the axis lengths given."""
    if dims is None or "->" not in pattern or "..." in pattern:
        return None
    left, right = (_groups(side) for side in pattern.split("->"))
    if len(left) != len(dims) or len(right) != 3:
        return None
    known = {k: v for k, v in axes.items() if isinstance(v, int) and v > 0}
    for group, size in zip(left, dims):
        unknown = [a for a in group if a not in known]
        if len(unknown) == 1 and isinstance(size, int):
            rest = math.prod(known[a] for a in group if a in known)
            if rest and size % rest == 0:
                known[unknown[0]] = size // rest
    if not all(a in known for a in right[1]):
        return None
    return math.prod(known[a] for a in right[1])


def _groups(side: str) -> list[list[str]]:
    return [g[0].split() if g[0] else [g[1]] for g in re.findall(r"\(([^)]*)\)|(\S+)", side.strip())]


def positions_within(graph: LayerGraph, prefix: str) -> int | None:
    """The one sequence length the attentions of block ``prefix`` of a model mix over, where
    its input gives it."""
    counts = token_counts(graph, assume=False)
    found = {counts.get(n.attrs["roles"][2][0]) for n in graph.nodes
             if is_attention(n) and n.name.startswith(f"{prefix}.")}
    return found.pop() if len(found) == 1 and None not in found else None


def mixes_unknown_positions(graph: LayerGraph) -> bool:
    attending = [n for n in graph.nodes if is_attention(n)]
    if not attending:
        return False
    counts = token_counts(graph, assume=False)
    return any(counts.get(n.attrs["roles"][2][0]) is None for n in attending)


def mix(graph: LayerGraph, node: Node) -> float:
    n = token_counts(graph).get(node.attrs["roles"][2][0])
    shape = input_shape(graph)
    if n is not None and node.attrs.get("sequence_first") and shape is not None and len(shape) == 3:
        n = shape[0]  # ``nn.MultiheadAttention`` without batch_first: (sequence, batch, features)
    n = n or PROBE_SEQUENCE
    if node.attrs.get("causal"):
        return sum(1.0 / (i + 1) for i in range(n)) / n
    return 1.0 / n


def forward(graph: LayerGraph, node: Node, est: dict[int, NodeEstimate]) -> NodeEstimate:
    m = mix(graph, node)
    v = est[node.attrs["roles"][2][0]]
    fluct = max(v.m2 - v.mean**2, 0.0)
    return NodeEstimate(m2=v.mean**2 + fluct * m, mean=v.mean, batch_var=v.sample_var() * m)


def backward(graph: LayerGraph, node: Node, est: dict[int, NodeEstimate]) -> list[tuple[int, float]]:
    """[(input, E[δ_in²] / E[δ²])]: each role's share, pieces of one node averaged."""
    m = mix(graph, node)
    roles = node.attrs["roles"]
    var = [max(est[r[0]].m2 - est[r[0]].mean ** 2, 0.0) for r in roles]
    share = {"query": m * var[2] * var[1], "key": m * var[2] * var[0], "value": m}
    totals: dict[int, float] = {}
    for name, (nid, piece) in zip(_ROLES, roles):
        totals[nid] = totals.get(nid, 0.0) + share[name] / (piece[1] if piece else 1)
    return list(totals.items())
