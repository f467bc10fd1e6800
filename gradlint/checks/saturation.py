"""GL1xx: saturating activations in depth."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable
from typing import ClassVar

from gradlint.checks._chains import (
    GL101,
    THRESHOLD_OPTIONS,
    about,
    analyse,
    in_model_file,
    layer_gain,
    next_activation,
    thresholds,
)
from gradlint.diagnostics import Finding
from gradlint.gain import MAX_DERIVATIVE
from gradlint.ir import LayerGraph
from gradlint.rule import GraphRule


class SaturatingActivationChain(GraphRule):
    code = GL101
    name = "saturating-activation-chain"
    summary = "Saturating activations in series with no normalisation or skip: the gradient vanishes"
    severity = "warning"
    options: ClassVar[dict] = dict(THRESHOLD_OPTIONS)

    def check_graph(self, graph: LayerGraph) -> Iterable[Finding]:
        low, high = thresholds(self.settings)
        users = graph.consumers()
        for verdict in analyse(graph, low, high):
            if verdict.code != self.code:
                continue
            chain = verdict.chain
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
                f"no normalisation or skip connection: about {about(verdict.model_log10)} of the "
                f"gradient at `{chain.last.name}` reaches {chain.first.name}{arithmetic}. "
                "Use ReLU/GELU, add normalisation, or residual connections"
            )
            yield self.finding(
                message,
                in_model_file(graph, chain.first),
                log10_grad_ratio=round(verdict.model_log10, 2),
                depth=len(chain.layers),
                activation=kind,
            )
