"""GL4xx: the activation a model's output ends in, against the loss that receives it."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from gradlint import torch_api
from gradlint.codefacts.words import NEEDS_LOSS
from gradlint.diagnostics import Finding
from gradlint.files import display_path
from gradlint.rule import SourceRule

if TYPE_CHECKING:
    from gradlint.source import SourceFile


class _LossRule(SourceRule):
    needs = NEEDS_LOSS
    fix = "logits"
    loss: str
    activation: str
    advice: str

    def check_source(self, source: SourceFile) -> Iterable[Finding]:
        from gradlint.codefacts.output_activations import mismatches

        for m in mismatches(source):
            if m.loss == self.loss and m.activation == self.activation:
                origin = m.where.source
                at = origin.location(m.where.node)
                number = at.line
                text = " ".join(origin.code_of(m.where.node).split())
                line = f"{number} of {display_path(Path(origin.path))}" if origin is not source else f"{number}"
                yield self.finding(
                    f"{torch_api.losses()[m.loss].module} receives {m.activation} output "
                    f"(`{text}` at line {line} in {m.where.scope}); {self.advice}",
                    source.location(m.call),
                    activation_line=number,
                    # what a fix needs: the activation's span, and its file when not this one
                    activation_span=[at.line, at.column, at.end_line, at.end_column],
                    **({"activation_path": display_path(Path(origin.path))} if origin is not source else {}),
                )


class SoftmaxBeforeCrossEntropy(_LossRule):
    code = "GL401"
    name = "softmax-before-cross-entropy"
    summary = "Softmax output fed to CrossEntropyLoss, which applies log_softmax itself"
    severity = "error"
    loss, activation = "cross_entropy", "softmax"
    advice = "it applies log_softmax itself, so pass the logits"


class SoftmaxBeforeNllLoss(_LossRule):
    code = "GL402"
    name = "softmax-before-nll-loss"
    summary = "Softmax output fed to NLLLoss, which expects log-probabilities"
    severity = "error"
    loss, activation = "nll_loss", "softmax"
    advice = "it expects log-probabilities: use log_softmax"


class SigmoidBeforeBceWithLogits(_LossRule):
    code = "GL403"
    name = "sigmoid-before-bce-with-logits"
    summary = "Sigmoid output fed to BCEWithLogitsLoss, which applies the sigmoid itself"
    severity = "error"
    loss, activation = "bce_with_logits", "sigmoid"
    advice = "it applies the sigmoid itself, so pass the logits"


class SigmoidBeforeBceLoss(_LossRule):
    code = "GL404"
    name = "sigmoid-before-bce-loss"
    summary = "Sigmoid output fed to BCELoss; BCEWithLogitsLoss on the logits is more stable"
    severity = "info"
    default_enabled = False
    loss, activation = "bce", "sigmoid"
    fix = None
    advice = "BCEWithLogitsLoss on the logits is numerically stabler"
