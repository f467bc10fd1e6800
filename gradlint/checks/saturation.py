"""GL1xx: saturating activations in depth."""

from __future__ import annotations

import math
from collections import Counter
from typing import Any

from gradlint.checks._chains import ChainCause, about, layer_gain, next_activation
from gradlint.checks._verdict_rule import GraphVerdictRule
from gradlint.gain import MAX_DERIVATIVE
from gradlint.ir import LayerGraph


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
