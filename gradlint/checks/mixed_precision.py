"""GL8xx: mixed precision: clipping scaled gradients, float16 without loss scaling, a gradient
scaler used out of its protocol."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, ClassVar

from gradlint.codefacts.kinds import AmpKind
from gradlint.diagnostics import Finding
from gradlint.rule import SourceRule
from gradlint.textmatch import AllOf, Pattern, Words

if TYPE_CHECKING:
    from gradlint.codefacts.amp import AmpCause
    from gradlint.source import SourceFile

# every cause is about a backward; the scaler and autocast names as the code spells them
_BACKWARD = Pattern(r"backward\s*\(")


class _AmpRule(SourceRule):
    kinds: ClassVar[frozenset[AmpKind]]

    def message(self, cause: AmpCause, related_line: int) -> str:
        raise NotImplementedError

    def check_source(self, source: SourceFile) -> Iterable[Finding]:
        from gradlint.codefacts.amp import amp_causes

        for cause in amp_causes(source):
            if cause.kind not in self.kinds:
                continue
            related = 0 if cause.related is None else source.location(cause.related).line or 0
            names = {k: v for k, v in (("scaler", cause.scaler), ("optimizer", cause.optimizer)) if v}
            yield self.finding(self.message(cause, related), source.location(cause.node), **names)


class ClipScaledGradients(_AmpRule):
    code = "GL801"
    name = "clip-scaled-gradients"
    fix = "unscale"
    summary = "Gradient clipping after `scaler.scale(loss).backward()` with no `scaler.unscale_(optimizer)` first"
    severity = "error"
    kinds = frozenset({AmpKind.CLIP_SCALED})
    needs = AllOf(_BACKWARD, Words("clip_grad"), Pattern(r"\.scale\s*\("))

    def message(self, cause: AmpCause, related_line: int) -> str:
        return (
            f"clipping gradients that the scaled backward (line {related_line}) multiplied by the "
            "loss scale (65536 at the start): the threshold is compared with scaled norms and "
            "clips nearly every step; call `scaler.unscale_(optimizer)` before clipping"
        )


class Float16WithoutLossScaling(_AmpRule):
    code = "GL802"
    name = "float16-without-loss-scaling"
    summary = "Training in float16 (autocast on CUDA, or a `.half()` model) with a plain `backward()`"
    severity = "warning"
    kinds = frozenset({AmpKind.FLOAT16_AUTOCAST, AmpKind.FLOAT16_MODEL})
    needs = AllOf(_BACKWARD, Words("autocast", "half", "float16"))

    def message(self, cause: AmpCause, related_line: int) -> str:
        if cause.kind is AmpKind.FLOAT16_AUTOCAST:
            what = "autocast computes in float16 here"
        else:
            what = "the model is cast to float16 here"
        return (
            f"{what} and the loss goes to a plain `.backward()` (line {related_line}): "
            "gradients below 6e-8 underflow to zero in float16; scale the loss with "
            "`torch.amp.GradScaler`, or use `dtype=torch.bfloat16`"
        )


class GradScalerMisuse(_AmpRule):
    code = "GL803"
    name = "grad-scaler-misuse"
    summary = (
        "`scaler.step()` after an unscaled backward, `optimizer.step()` after a scaled one, "
        "or a GradScaler that is never `update()`d"
    )
    severity = "error"
    kinds = frozenset({AmpKind.STEP_UNSCALED, AmpKind.STEP_SCALED, AmpKind.NO_UPDATE})
    needs = AllOf(_BACKWARD, Pattern(r"\.step\s*\("), Words("scaler", "Scaler"))

    def message(self, cause: AmpCause, related_line: int) -> str:
        if cause.kind is AmpKind.STEP_UNSCALED:
            return (
                f"`scaler.step()` after a backward on the unscaled loss (line {related_line}): "
                "the step divides the gradients by the loss scale (65536 at the start); "
                "call `scaler.scale(loss).backward()`"
            )
        if cause.kind is AmpKind.STEP_SCALED:
            return (
                f"`optimizer.step()` applies the gradients of a scaled backward (line {related_line}) "
                "as they are, multiplied by the loss scale; step through `scaler.step(optimizer)` "
                "or call `scaler.unscale_(optimizer)` first"
            )
        return (
            "`scaler.step()` and no `scaler.update()` anywhere: the scale never adapts, and "
            "the next `step()` raises; call `scaler.update()` after the steps of each iteration"
        )
