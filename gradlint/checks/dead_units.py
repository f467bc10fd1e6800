"""GL103-GL105: ReLU units that are dead, or that cut the gradient where it is needed most."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, ClassVar

from gradlint.checks._chains import in_model_file, weighted_layer
from gradlint.diagnostics import Finding, Location
from gradlint.gain.activations import below
from gradlint.gain.spatial import is_conv
from gradlint.gain.units import UnitStats, model_dead, unit_stats
from gradlint.ir import LayerGraph, Node
from gradlint.rule import GraphRule
from gradlint.rule_options import FRACTION, OptionType

_CLAMPS = ("relu", "relu6")  # zero output, zero derivative below zero
_THROUGH = ("identity", "dropout")
_NORMALISERS = ("softmax", "log_softmax", "sigmoid")
_SHIFT = 0.5  # a negative mean of at least half the pre-activation's std


def _percent(share: float) -> str:
    return f"{100.0 * share:.0f}%" if share < 0.995 else "all"


def _layer_of(graph: LayerGraph, site: UnitStats) -> Node | None:
    node = graph.nodes[site.node]
    return weighted_layer(graph, node)


def _applies(graph: LayerGraph) -> bool:
    return graph.attrs.get("init_checks", True) is not False


class DeadReluAtInit(GraphRule):
    code = "GL103"
    name = "dead-relu-at-init"
    summary = "ReLU layers whose units are dead for the whole batch at initialisation"
    severity = "warning"
    options: ClassVar[dict[str, Any]] = {"max-dead-fraction": 0.5, "max-dead-probability": 0.5}
    option_types: ClassVar[dict[str, OptionType]] = {"max-dead-fraction": FRACTION, "max-dead-probability": FRACTION}

    def check_graph(self, graph: LayerGraph) -> Iterable[Finding]:
        if not _applies(graph):
            return
        stats = unit_stats(graph)
        reported = set()
        for site in stats:
            if site.dead_units is None or site.mean >= 0.0:
                continue
            if site.dead_units < self.settings["max-dead-fraction"]:
                continue
            spread = max(site.q - site.mean**2, 0.0) ** 0.5
            if -site.mean < _SHIFT * spread:
                # about half of a deep layer's units are dead for the batch whatever the bias:
                # a bias only owns the finding when it shifts the layer by a real amount (the
                # sample mean of a measured ONNX bias, -0.003, does not)
                continue
            finding = self._biased(graph, site)
            key = (finding.location.path, finding.location.line, finding.location.column)
            if key not in reported:  # one init call in a loop: one finding
                reported.add(key)
                yield finding
        if reported:
            return
        chance = model_dead(stats)
        if chance >= self.settings["max-dead-probability"]:
            yield self._narrow(graph, stats, chance)

    def _biased(self, graph: LayerGraph, site: UnitStats) -> Finding:
        layer = _layer_of(graph, site)
        name = layer.name if layer is not None else graph.nodes[site.node].name
        init = layer.bias_init if layer is not None else None
        cause = f" ({init.detail})" if init is not None and init.detail else ""
        where = init.location if init is not None and init.location is not None else None
        spread = max(site.q - site.mean**2, 0.0) ** 0.5
        units = f" of its {site.width} units" if site.width else " of its units"
        message = (
            f"{name} feeds {site.kind} with pre-activations of mean {site.mean:.3g} and std "
            f"{spread:.2g}{cause}: {_percent(site.dead_units)}{units} are negative for every one of "
            f"{site.samples} samples at initialisation, so they output 0 and get no gradient. "
            "Use a zero or small bias before ReLU"
        )
        node = layer if layer is not None else graph.nodes[site.node]
        return self.finding(
            message,
            in_model_file(graph, node, where),
            layer=name,
            dead_fraction=round(site.dead_units, 3),
        )

    def _narrow(self, graph: LayerGraph, stats: list[UnitStats], chance: float) -> Finding:
        risky = [s for s in stats if s.layer_dead is not None and s.layer_dead >= 0.01 and s.q > 0.0]
        first = risky[0]
        layer = _layer_of(graph, first)
        node = layer if layer is not None else graph.nodes[first.node]
        narrowest = min(risky, key=lambda s: s.width or 0)
        message = (
            f"{len(risky)} ReLU layers of {narrowest.width} to {max(s.width or 0 for s in risky)} units "
            f"from {node.name} on: each unit is negative for the whole batch with probability about "
            f"{narrowest.dead_units:.2f} at initialisation, so a layer of {narrowest.width} units is "
            f"dead with probability {narrowest.layer_dead:.2f}, and the model is dead (a constant "
            f"output, no gradient before the dead layer) in about {_percent(chance)} of "
            "initialisations. Keep hidden layers wider, or use LeakyReLU or a residual path"
        )
        return self.finding(message, in_model_file(graph, node), dead_probability=round(chance, 2))


class ReluOnOutput(GraphRule):
    code = "GL104"
    name = "relu-on-output"
    summary = "ReLU as the model's final activation: outputs below zero get no gradient"
    severity = "warning"
    options: ClassVar[dict[str, Any]] = {"max-zero-share": 0.25, "max-dead-map": 0.25}
    option_types: ClassVar[dict[str, OptionType]] = {"max-zero-share": FRACTION, "max-dead-map": FRACTION}

    def check_graph(self, graph: LayerGraph) -> Iterable[Finding]:
        if graph.attrs.get("block") or not _applies(graph):
            return  # a block inside another model: its ReLU output is a hidden layer
        out = next((n for n in graph.nodes if n.op == "output"), None)
        if out is None or not out.inputs:
            return
        last = graph.nodes[out.inputs[0]]
        while last.op in _THROUGH and last.inputs:
            last = graph.nodes[last.inputs[0]]
        if last.activation not in _CLAMPS or last.op not in ("activation", "linear"):
            return
        layer = weighted_layer(graph, last)
        if layer is None:
            return
        site = next((s for s in unit_stats(graph) if s.node == last.id), None)
        if site is None:
            return
        zero = below(0.0, site.q, site.mean)
        if zero < self.settings["max-zero-share"]:
            return  # a positive bias keeps the output alive: a deliberate non-negative output
        dead = ""
        if is_conv(layer):
            # a map (density, depth, image): a channel that is positive somewhere keeps learning;
            # what stops it is the channel being negative at every pixel of every sample
            if not site.layer_dead or site.layer_dead < self.settings["max-dead-map"]:
                return
            dead = (
                f"; the output map is zero at every pixel of the batch in about "
                f"{_percent(site.layer_dead)} of initialisations"
            )
        message = (
            f"the model's output is {last.activation}({layer.name}(…)): at initialisation "
            f"{_percent(zero)} of the outputs are clamped to 0{dead}, and a clamped output passes "
            "no gradient to any layer, so those samples do not train the model and a unit that "
            "goes negative for every sample stays dead. Return the linear output (a regression or "
            "logit head), or use softplus/exp for a positive target"
        )
        where = last.location if last.op == "activation" else layer.location
        yield self.finding(message, in_model_file(graph, last, where), zero_share=round(zero, 2))


class ReluOnScores(GraphRule):
    code = "GL105"
    name = "relu-on-scores"
    summary = "ReLU on attention or gate scores before their softmax or sigmoid"
    severity = "warning"

    def check_graph(self, graph: LayerGraph) -> Iterable[Finding]:
        users = graph.consumers()
        for node in graph.nodes:
            if node.activation not in _CLAMPS or node.op not in ("activation", "linear"):
                continue
            after = self._normaliser(graph, node, users)
            if after is None:
                continue
            message = (
                f"{node.activation} on the scores before {after.activation}: every "
                f"negative score becomes 0, so those positions all get the same weight and no "
                f"gradient, and the scores can never push a weight below that of a zero score. "
                f"Pass the raw scores to {after.activation}"
            )
            yield self.finding(message, self._where(graph, node))

    @staticmethod
    def _normaliser(graph: LayerGraph, node: Node, users: dict[int, list[int]]) -> Node | None:
        current = node
        while len(users[current.id]) == 1:
            current = graph.nodes[users[current.id][0]]
            if current.op == "activation" and current.activation in _NORMALISERS:
                return current
            if current.op not in _THROUGH:
                return None
        return None

    @staticmethod
    def _where(graph: LayerGraph, node: Node) -> Location:
        return in_model_file(graph, node)
