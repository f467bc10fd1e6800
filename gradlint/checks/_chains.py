"""Plain chains of a layer graph along which the gradient vanishes or explodes.

The facts the graph-verdict rules (GL101, GL202, GL203, GL301) judge: the offending chains
are found once per graph and thresholds, each with what the alternatives would give (He/Xavier
init, a normalisation after each hidden layer). Which rule reports a chain is the rules'
decision (``_verdict_rule.GraphVerdictRule``), not this module's.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import cached_property

from gradlint import torch_api
from gradlint.diagnostics import Location
from gradlint.gain import Counterfactual, Draw, Estimate, estimate, moments, weight_draw
from gradlint.ir import LayerGraph, Node

SERIES = frozenset({"linear", "activation", "dropout", "identity", "pool", "shift"})
RELU_FAMILY = {
    "relu": 0.0,
    "relu6": 0.0,
    "leaky_relu": 0.01,
    "prelu": 0.25,
    "rrelu": (1.0 / 8.0 + 1.0 / 3.0) / 2.0,
    "elu": 0.0,
    "celu": 0.0,
    "gelu": 0.0,
    "silu": 0.0,
    "mish": 0.0,
    "hardswish": 0.0,
}


@dataclass
class Chain:
    """Weighted layers and activations in series, with nothing around them."""

    nodes: list[Node]
    layers: list[Node] = field(default_factory=list)  # weighted, forward order
    saturating: list[str] = field(default_factory=list)  # activation kinds in series

    @property
    def first(self) -> Node:
        return self.layers[0]

    @property
    def last(self) -> Node:
        return self.layers[-1]

    @property
    def typical(self) -> Node:
        """A hidden-to-hidden layer when there is one: its gain is the one that repeats."""
        return self.layers[1] if len(self.layers) > 2 else self.layers[0]


@dataclass
class ChainCause:
    """A plain chain that accounts for the model's gradient ratio (log10, ``model_log10``) lying
    beyond [low, high]. What the alternatives would give is estimated on first use."""

    graph: LayerGraph
    users: dict[int, list[int]]
    chain: Chain
    model_log10: float
    low: float
    high: float

    @property
    def vanishing(self) -> bool:
        return self.model_log10 < self.low

    @cached_property
    def reference(self) -> dict[int, tuple[str, float]] | None:
        """layer id -> (He|Xavier, variance) for each layer of the chain; None when a layer has
        none (unknown fans): then no init is known to be right or wrong."""
        refs = {}
        for layer in self.chain.layers:
            ref = reference_init(layer, next_activation(self.graph, layer, self.users))
            if ref is None:
                return None
            refs[layer.id] = ref
        return refs

    @cached_property
    def counterfactual_log10(self) -> float | None:
        """The model's estimate with He/Xavier init on the chain."""
        if self.reference is None:
            return None
        draws = {i: (Draw(ref[1]), Draw(0.0)) for i, ref in self.reference.items()}
        return estimate(self.graph, Counterfactual(draws=draws)).forward_log10

    @cached_property
    def normalised_log10(self) -> float | None:
        """The model's estimate with a normalisation after each hidden layer of the chain."""
        hidden = frozenset(layer.id for layer in self.chain.layers[:-1])
        return estimate(self.graph, Counterfactual(normalise_after=hidden)).forward_log10

    @property
    def init_fixes_it(self) -> bool:
        """He/Xavier init on the chain brings the estimate within [low, high]."""
        fixed = self.counterfactual_log10
        return fixed is not None and self.low <= fixed <= self.high

    @property
    def on_default_init(self) -> bool:
        return all(_is_default(layer) for layer in self.chain.layers)


def plain_chains(graph: LayerGraph) -> list[Chain]:
    """Maximal runs of SERIES nodes where each feeds only the next one.

    Normalisation, residual adds, concatenations, gates and recurrent units
    end a run; so does a node read by more than one consumer (a skip starts there).
    """
    users = graph.consumers()
    chains: list[Chain] = []
    seen: set[int] = set()

    def in_series(node: Node) -> bool:
        # a one-input gate is x·σ(x), SiLU as ONNX spells it: an activation in series
        return node.op in SERIES or (node.op == "gate" and len(node.inputs) == 1)

    for node in graph.topological():
        if node.id in seen or not in_series(node):
            continue
        preds = [graph.nodes[i] for i in node.inputs]
        starts = not (
            len(preds) == 1 and in_series(preds[0]) and len(users[preds[0].id]) == 1
        )
        if not starts:
            continue
        run = [node]
        while True:
            nxt = users[run[-1].id]
            if len(nxt) != 1:
                break
            candidate = graph.nodes[nxt[0]]
            if not in_series(candidate) or len(candidate.inputs) != 1:
                break
            run.append(candidate)
        seen.update(n.id for n in run)
        layers = [n for n in run if n.op == "linear"]
        if len(layers) < 2:
            continue
        kinds = [n.activation for n in run if n.activation and n.op in ("activation", "linear", "gate")]
        saturating = torch_api.saturating_kinds()
        chains.append(Chain(run, layers, [k for k in kinds if k in saturating]))
    return chains


def next_activation(graph: LayerGraph, node: Node, users: dict[int, list[int]]) -> str | None:
    """The activation a weighted layer feeds, through dropout/reshape/pooling."""
    if node.activation:
        return node.activation
    current = node
    while len(users[current.id]) == 1:
        current = graph.nodes[users[current.id][0]]
        if current.op == "activation":
            return current.activation
        if current.op == "gate" and len(current.inputs) == 1:
            return "silu" if current.activation in (None, "sigmoid") else current.activation
        if current.op not in ("dropout", "identity", "pool"):
            return None
    return None


def reference_init(node: Node, activation: str | None) -> tuple[str, float] | None:
    """He for the ReLU family, Xavier otherwise, for this layer's fans."""
    n, m = node.fan_in, node.fan_out
    if not n:
        return None
    if activation in RELU_FAMILY:
        a = RELU_FAMILY[activation]
        return "He", 2.0 / ((1.0 + a * a) * n)
    if not m:
        return None
    return "Xavier", 2.0 / (n + m)


def offending_chains(graph: LayerGraph, low: float, high: float) -> list[ChainCause]:
    """The plain chains that account for the model's estimate lying beyond [low, high] (log10),
    found once per graph and thresholds for all the rules that judge them."""
    key = ("offending_chains", low, high)
    if key not in graph.attrs:
        graph.attrs[key] = _offending_chains(graph, low, high)
    return graph.attrs[key]


def _offending_chains(graph: LayerGraph, low: float, high: float) -> list[ChainCause]:
    base = estimate(graph)
    ratio = base.forward_log10
    if ratio is None or low <= ratio <= high:
        return []
    vanishing = ratio < low
    users = graph.consumers()
    causes = []
    for chain in plain_chains(graph):
        own = chain_log10(base, chain)
        if own is None or (own > 0.5 * low if vanishing else own < 0.5 * high):
            continue  # the gradient is lost elsewhere, not along this chain
        causes.append(ChainCause(graph, users, chain, ratio, low, high))
    return causes


def _is_default(node: Node) -> bool:
    return node.weight_init is None or node.weight_init.kind == "default"


def chain_log10(found: Estimate, chain: Chain) -> float | None:
    """log10 of RMS gradient of the chain's first weight over its last (per sample)."""
    first = found.nodes.get(chain.first.id)
    last = found.nodes.get(chain.last.id)
    if first is None or last is None or not first.grad2 or not last.grad2:
        return None
    return 0.5 * float((first.grad2 / last.grad2).log10())


def layer_gain(graph: LayerGraph, node: Node, activation: str | None) -> float | None:
    """Backward gain of one layer at its estimated pre-activation: √(m·v·E[φ'²])."""
    found = estimate(graph)
    here = found.nodes.get(node.id)
    draw = weight_draw(node, node.weight_init)
    if here is None or draw is None or not node.fan_out:
        return None
    slope = 1.0
    if activation is not None:
        slope = moments(activation, here.pre_m2 or here.m2).d2
    return math.sqrt(node.fan_out * draw.variance * slope)


def weighted_layer(graph: LayerGraph, node: Node) -> Node | None:
    """``node`` when it is a weighted layer, else the one whose output it reads through
    identities and dropout (an activation's pre-activation layer); None past anything else."""
    current = node
    while current.op != "linear":
        if not current.inputs:
            return None
        current = graph.nodes[current.inputs[0]]
        if current.op not in ("linear", "identity", "dropout"):
            return None
    return current


def in_model_file(graph: LayerGraph, node: Node, where: Location | None = None) -> Location:
    """Where a finding about ``node`` goes: ``where`` or else the layer itself, when it lies in
    the model's own file; otherwise the place that file builds the block holding the layer, else
    the model class; a finding in a shared block file would name no model and could not be
    suppressed where the model is defined."""
    home = graph.location.path
    for candidate in (where, node.location):
        if candidate is not None and (candidate.path == home or home is None):
            return candidate
    built = node.attrs.get("model_location")
    return built if isinstance(built, Location) else graph.location


def about(log10: float) -> str:
    """'about 1e-8', '0.2', '3e+4' style magnitudes for messages."""
    value = 10.0**log10
    if -1.0 <= log10 < 0.0:
        return f"{value:.1g}"
    if 0.0 <= log10 < 1.0:
        return f"{value:.2g}"
    mantissa, exponent = f"{value:.0e}".split("e")
    return f"{mantissa}e{int(exponent)}"

