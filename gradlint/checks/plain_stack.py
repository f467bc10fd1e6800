"""GL3xx: missing normalisation or skip connections."""

from __future__ import annotations

from collections.abc import Iterable
from typing import ClassVar

from gradlint.checks._chains import (
    GL301,
    THRESHOLD_OPTIONS,
    about,
    analyse,
    in_model_file,
    thresholds,
)
from gradlint.diagnostics import Finding
from gradlint.ir import LayerGraph
from gradlint.rule import GraphRule


class DeepPlainStack(GraphRule):
    code = GL301
    name = "deep-plain-stack"
    summary = "A deep stack without normalisation or residual connections that init alone cannot fix"
    severity = "warning"
    options: ClassVar[dict] = dict(THRESHOLD_OPTIONS)

    def check_graph(self, graph: LayerGraph) -> Iterable[Finding]:
        low, high = thresholds(self.settings)
        for verdict in analyse(graph, low, high):
            if verdict.code != self.code:
                continue
            chain = verdict.chain
            direction = "vanishes" if verdict.model_log10 < low else "explodes"
            options = []
            if verdict.counterfactual_log10 is not None:
                options.append(("He/Xavier init", verdict.counterfactual_log10))
            if verdict.normalised_log10 is not None:
                options.append(("a normalisation after each hidden layer", verdict.normalised_log10))
            within = [(name, value) for name, value in options if low <= value <= high]
            tried = "; ".join(f"with {name}: about {about(value)}" for name, value in options)
            if within:
                advice = f"the arithmetic favours {within[0][0]}"
            else:
                advice = "neither fixes it alone: add residual connections around the layers"
            message = (
                f"{len(chain.layers)} layers in series without normalisation or residual connection "
                f"({chain.first.name} → {chain.last.name}): the gradient {direction}, about "
                f"{about(verdict.model_log10)} of the gradient at `{chain.last.name}` reaches "
                f"{chain.first.name} ({tried}); {advice}"
            )
            yield self.finding(
                message,
                in_model_file(graph, chain.first),
                log10_grad_ratio=round(verdict.model_log10, 2),
                depth=len(chain.layers),
            )
