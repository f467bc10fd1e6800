"""GL101-GL102: saturating activations in depth, and saturated by their initial scale."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable
from typing import Any, ClassVar

from gradlint.checks._chains import (
    ChainCause,
    about,
    in_model_file,
    layer_gain,
    next_activation,
    weighted_layer,
)
from gradlint.checks._verdict_rule import GraphVerdictRule
from gradlint.diagnostics import Finding
from gradlint.gain import MAX_DERIVATIVE, bias_draw, estimate
from gradlint.gain.activations import saturated_fraction
from gradlint.gain.units import unit_stats
from gradlint.ir import LayerGraph, Node
from gradlint.rule import GraphRule
from gradlint.rule_options import FRACTION, OptionType


class SaturatingActivationChain(GraphVerdictRule):
    code = "GL101"
    name = "saturating-activation-chain"
    summary = "Saturating activations in series with no normalisation or skip: the gradient vanishes"
    severity = "warning"
    precedence = 1  # the activations explain the loss whatever the init

    @classmethod
    def claims(cls, cause: ChainCause) -> bool:
        return cause.vanishing and len(cause.chain.saturating) >= 2

    def describe(
        self, graph: LayerGraph, cause: ChainCause, users: dict[int, list[int]]
    ) -> tuple[str, dict[str, Any]]:
        chain = cause.chain
        kinds = Counter(chain.saturating)
        kind = "/".join(sorted(kinds))
        gains = [layer_gain(graph, n, next_activation(graph, n, users)) for n in chain.layers[:-1]]
        gains = [g for g in gains if g]
        arithmetic = ""
        if gains:
            mean_gain = math.exp(sum(math.log(g) for g in gains) / len(gains))
            bounds = ", ".join(
                f"{k}' ≤ {MAX_DERIVATIVE[k]:g}" for k in sorted(kinds) if MAX_DERIVATIVE[k] < 1.0
            )
            bound = f" ({bounds})" if bounds else ""
            arithmetic = (
                f"; each layer passes back about ×{mean_gain:.2g}{bound}, "
                f"{mean_gain:.2g}^{len(gains)} ≈ {about(len(gains) * math.log10(mean_gain))}"
            )
        message = (
            f"{len(chain.saturating)} {kind} layers in series ({chain.first.name} → {chain.last.name}), "
            f"no normalisation or skip connection: about {about(cause.model_log10)} of the "
            f"gradient at `{chain.last.name}` reaches {chain.first.name}{arithmetic}. "
            "Use ReLU/GELU, add normalisation, or residual connections"
        )
        return message, {
            "log10_grad_ratio": round(cause.model_log10, 2),
            "depth": len(chain.layers),
            "activation": kind,
        }


class SaturationByInitialScale(GraphRule):
    code = "GL102"
    name = "saturation-by-initial-scale"
    summary = "An init whose scale puts most sigmoid/tanh inputs beyond ±5: saturated from the start"
    severity = "warning"
    options: ClassVar[dict[str, Any]] = {"max-saturated-fraction": 0.5}
    option_types: ClassVar[dict[str, OptionType]] = {"max-saturated-fraction": FRACTION}

    def check_graph(self, graph: LayerGraph) -> Iterable[Finding]:
        if graph.attrs.get("init_checks", True) is False:
            return
        found = estimate(graph)
        seen = set()
        for site in unit_stats(graph):
            if site.saturated is None or site.saturated <= self.settings["max-saturated-fraction"]:
                continue
            node = graph.nodes[site.node]
            layer = weighted_layer(graph, node)
            if layer is None or not layer.fan_in or not layer.inputs:
                continue
            finding = self._finding(graph, found, site, layer)
            key = (finding.location.path, finding.location.line, finding.location.column)
            if key not in seen:  # one init call in a loop: one finding
                seen.add(key)
                yield finding

    def _finding(self, graph: LayerGraph, found: Any, site: Any, layer: Node) -> Finding:
        init = layer.weight_init
        detail = init.detail if init is not None and init.detail else (
            f"{init.kind} init" if init is not None else "the default init"
        )
        incoming = found.nodes[layer.inputs[0]].m2
        bias = bias_draw(layer)
        bias_var = bias.variance + bias.mean**2 if bias is not None else 0.0
        # the std of h at which half of the inputs are beyond ±5: 5 / Φ⁻¹(3/4)
        room = _HALF_SATURATED_SD**2 - bias_var
        limit = ""
        if room > 0.0 and incoming > 0.0:
            limit = f"; a weight std below {math.sqrt(room / (layer.fan_in * incoming)):.2g} keeps it under half"
        xavier = ""
        if layer.fan_out:
            v = 2.0 / (layer.fan_in + layer.fan_out)
            q = layer.fan_in * v * incoming + bias_var
            xavier = (
                f" (Xavier, std {math.sqrt(v):.2g}, gives {100 * saturated_fraction(q):.0f}%)"
            )
        spread = max(site.q - site.mean**2, 0.0) ** 0.5
        message = (
            f"{detail} on {layer.name} (fan-in {layer.fan_in}) puts the {site.kind} inputs at a "
            f"std of about {spread:.2g}: {100 * site.saturated:.0f}% of them are beyond ±5 at "
            f"initialisation, where {site.kind}' < 0.01, so the layer's outputs are nearly binary "
            f"and it barely learns, whatever the gradient ratio says{limit}{xavier}"
        )
        where = init.location if init is not None else None
        return self.finding(
            message,
            in_model_file(graph, layer, where),
            layer=layer.name,
            saturated_fraction=round(site.saturated, 3),
        )


_HALF_SATURATED_SD = 5.0 / 0.6744897501960817
