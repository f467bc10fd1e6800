"""GL3xx: missing normalisation or skip connections."""

from __future__ import annotations

from typing import Any

from gradlint.checks._chains import ChainCause, about
from gradlint.checks._verdict_rule import GraphVerdictRule
from gradlint.ir import LayerGraph


class DeepPlainStack(GraphVerdictRule):
    code = "GL301"
    name = "deep-plain-stack"
    summary = "A deep stack without normalisation or residual connections that init alone cannot fix"
    severity = "warning"
    precedence = 3  # what neither the activations (GL101) nor the init (GL202, GL203) explain

    @classmethod
    def claims(cls, cause: ChainCause) -> bool:
        return cause.reference is not None  # the arithmetic of the alternatives is known

    def describe(
        self, graph: LayerGraph, cause: ChainCause, users: dict[int, list[int]]
    ) -> tuple[str, dict[str, Any]]:
        chain = cause.chain
        direction = "vanishes" if cause.vanishing else "explodes"
        options = []
        if cause.counterfactual_log10 is not None:
            options.append(("He/Xavier init", cause.counterfactual_log10))
        if cause.normalised_log10 is not None:
            options.append(("a normalisation after each hidden layer", cause.normalised_log10))
        within = [(name, value) for name, value in options if cause.low <= value <= cause.high]
        tried = "; ".join(f"with {name}: about {about(value)}" for name, value in options)
        if within:
            advice = f"the arithmetic favours {within[0][0]}"
        else:
            advice = "neither fixes it alone: add residual connections around the layers"
        message = (
            f"{len(chain.layers)} layers in series without normalisation or residual connection "
            f"({chain.first.name} → {chain.last.name}): the gradient {direction}, about "
            f"{about(cause.model_log10)} of the gradient at `{chain.last.name}` reaches "
            f"{chain.first.name} ({tried}); {advice}"
        )
        return message, {"log10_grad_ratio": round(cause.model_log10, 2), "depth": len(chain.layers)}
