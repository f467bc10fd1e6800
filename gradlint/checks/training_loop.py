"""GL6xx: the training loop and the optimiser: order of backward, zero_grad, step, clipping; updates; lr."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, ClassVar

from gradlint.codefacts.kinds import LoopKind
from gradlint.codefacts.words import NEEDS_BACKWARD, NEEDS_LIGHTNING_CLIP
from gradlint.diagnostics import Finding
from gradlint.rule import SourceRule
from gradlint.rule_options import POSITIVE_NUMBER, RANGE, OptionType, TableOf
from gradlint.textmatch import AnyOf, Pattern

if TYPE_CHECKING:
    import libcst as cst

    from gradlint.codefacts.loop_order import LoopCause
    from gradlint.source import SourceFile

# Functions that climb the loss on purpose: SAM's first step, adversarial weight perturbation.
DELIBERATE_ASCENT = re.compile(r"ascent|perturb|attack|adversar|first_step|climb", re.IGNORECASE)


class _LoopRule(SourceRule):
    """Reports the loop-order causes of its ``kinds``, one finding per call (the first cause
    found for it)."""

    kinds: ClassVar[frozenset[LoopKind]]
    needs = NEEDS_BACKWARD

    def message(self, cause: LoopCause, related_line: int) -> str:
        raise NotImplementedError

    def check_source(self, source: SourceFile) -> Iterable[Finding]:
        from gradlint.codefacts.loop_order import loop_causes

        reported: set[int] = set()
        for cause in loop_causes(source):
            if cause.kind not in self.kinds or id(cause.node) in reported:
                continue
            reported.add(id(cause.node))
            related = 0 if cause.related is None else source.location(cause.related).line or 0
            yield self.finding(self.message(cause, related), source.location(cause.node))


class MissingZeroGrad(_LoopRule):
    code = "GL601"
    name = "missing-zero-grad"
    summary = "A training loop steps the optimizer but never clears the gradients"
    severity = "error"
    fix = "loop_order"
    kinds = frozenset({LoopKind.NEVER_ZEROED})

    def message(self, cause: LoopCause, related_line: int) -> str:
        if cause.optimiser is not None:
            return (
                f"`{cause.optimiser}` steps in a loop that clears other optimizers' gradients "
                f"(line {related_line}) but never its own: `.backward()` adds to `.grad`, so every "
                f"step applies the sum of all its gradients so far; call `{cause.optimiser}.zero_grad()` "
                "once per step"
            )
        return (
            "optimizer step in a loop that never clears gradients: `.backward()` adds to `.grad`, "
            "so every step applies the sum of all gradients so far; call `zero_grad()` once per step"
        )


class ZeroGradBeforeStep(_LoopRule):
    code = "GL602"
    name = "zero-grad-between-backward-and-step"
    summary = (
        "`zero_grad()` between `.backward()` and `step()` wipes the gradients before they are used"
    )
    severity = "error"
    fix = "loop_order"
    kinds = frozenset({LoopKind.ZEROED_BEFORE_STEP, LoopKind.ZEROED_EACH_MICRO_BATCH})

    def message(self, cause: LoopCause, related_line: int) -> str:
        if cause.kind is LoopKind.ZEROED_EACH_MICRO_BATCH:
            return (
                f"`zero_grad()` on every micro-batch while the optimizer steps only every few "
                f"(line {related_line}): it wipes the accumulated gradients, so each step sees "
                "the last micro-batch alone; clear them right after the step"
            )
        return (
            f"`zero_grad()` between `.backward()` and the optimizer step (line {related_line}) "
            "wipes the gradients just computed: the step moves nothing"
        )


class StepBeforeBackward(_LoopRule):
    code = "GL603"
    name = "step-before-backward"
    summary = "The optimizer steps before `.backward()` in the same iteration"
    severity = "error"
    fix = "loop_order"
    kinds = frozenset({LoopKind.STEP_BEFORE_BACKWARD})

    def message(self, cause: LoopCause, related_line: int) -> str:
        return (
            f"optimizer step before `.backward()` (line {related_line}) in the same "
            "iteration: it applies stale or zeroed gradients"
        )


class ClipOutsideBackwardStep(_LoopRule):
    code = "GL604"
    name = "clip-grad-outside-backward-step"
    summary = (
        "Gradient clipping before `.backward()` or after `step()` clips nothing the update uses"
    )
    severity = "warning"
    fix = "loop_order"
    kinds = frozenset(
        {LoopKind.CLIP_BEFORE_BACKWARD, LoopKind.CLIP_AFTER_STEP, LoopKind.CLIP_BEFORE_LIGHTNING_BACKWARD}
    )
    needs = AnyOf(NEEDS_BACKWARD, NEEDS_LIGHTNING_CLIP)

    def message(self, cause: LoopCause, related_line: int) -> str:
        if cause.kind is LoopKind.CLIP_BEFORE_LIGHTNING_BACKWARD:
            return (
                "gradient clipping in `training_step`: Lightning calls `.backward()` after "
                "`training_step` returns the loss, so this clips the previous (or zeroed) gradients, "
                "not the ones the step applies; pass `gradient_clip_val` to the Trainer, or clip in "
                "`configure_gradient_clipping`"
            )
        if cause.kind is LoopKind.CLIP_BEFORE_BACKWARD:
            return (
                f"gradient clipping before `.backward()` (line {related_line}) "
                "clips the previous (or zeroed) gradients, not the ones the step applies"
            )
        return (
            f"gradient clipping after the optimizer step (line {related_line}) "
            "has no effect on the update; clip between `.backward()` and `step()`"
        )


class GradientAscentUpdate(SourceRule):
    code = "GL605"
    fix = "descent"
    name = "gradient-ascent-update"
    summary = "A hand-written update adds the gradient to a parameter: the loss goes up"
    severity = "error"

    # `.grad` as an attribute, not `.grad_checkpointing` or `.gradient_accumulation_steps`
    needs = Pattern(r"\.grad\b")

    def check_source(self, source: SourceFile) -> Iterable[Finding]:
        from gradlint.codefacts.syntax import iter_functions
        from gradlint.codefacts.updates import parameter_names, update_direction

        scopes = [(func.name.value, func) for func, _ in iter_functions(source.module)]
        scopes.append(("<module>", source.module))
        for name, scope in scopes:
            if DELIBERATE_ASCENT.search(name):
                continue
            params = parameter_names(scope)
            for node in _own_nodes(scope):
                found = update_direction(node, params)
                if found is not None and found[0] > 0:
                    target = source.code_of(found[1]).strip()
                    yield self.finding(
                        f"`{target}` moves along its gradient (ascent): descent subtracts it, "
                        f"e.g. `{target}.sub_(lr * grad)` or `add_(grad, alpha=-lr)`",
                        source.location(node),
                    )




def _own_nodes(scope: cst.CSTNode):
    """Nodes of a function or module outside nested functions (those are visited on their own)."""
    import libcst as cst

    from gradlint.codefacts.syntax import children

    stack: list[cst.CSTNode] = (
        list(children(scope.body)) if type(scope) is cst.FunctionDef else list(scope.body)
    )
    while stack:
        node = stack.pop()
        if type(node) in (cst.FunctionDef, cst.ClassDef):
            continue
        yield node
        stack.extend(children(node))


DEFAULT_LR_RANGES = {
    "SGD": [1e-7, 50.0],
    "ASGD": [1e-7, 10.0],
    "LBFGS": [1e-7, 10.0],
    "Adadelta": [1e-7, 100.0],
    "Adagrad": [1e-7, 1.0],
    "Rprop": [1e-7, 1.0],
    "Adam": [1e-7, 0.1],
    "AdamW": [1e-7, 0.1],
    "Adamax": [1e-7, 0.1],
    "NAdam": [1e-7, 0.1],
    "RAdam": [1e-7, 0.1],
    "SparseAdam": [1e-7, 0.1],
    "RMSprop": [1e-7, 0.1],
}


class LearningRateOutOfRange(SourceRule):
    code = "GL606"
    name = "learning-rate-out-of-range"
    summary = "A literal learning rate far outside common practice for its optimiser, or zero"
    severity = "warning"
    options: ClassVar[dict[str, Any]] = {"lr-ranges": {}}
    option_types: ClassVar[dict[str, OptionType]] = {"lr-ranges": TableOf(RANGE)}

    def ranges(self) -> dict[str, list[float]]:
        merged = dict(DEFAULT_LR_RANGES)
        merged.update(self.settings.get("lr-ranges") or {})
        return merged

    needs = Pattern(r"optim\b")  # torch.optim, from torch import optim, ... import optim

    def check_source(self, source: SourceFile) -> Iterable[Finding]:
        from gradlint.codefacts.optimisers import literal_rates
        from gradlint.codefacts.syntax import imports_of

        ranges = self.ranges()
        for rate in literal_rates(source.module, imports_of(source)):
            if rate.optimiser not in ranges:
                continue
            low, high = ranges[rate.optimiser]
            lr = rate.value
            if lr == 0:
                message = f"{rate.optimiser} with lr=0: the parameters never move"
            elif lr < 0:
                message = f"{rate.optimiser} with lr={lr:g}: a negative rate climbs the loss"
            elif lr > high:
                message = f"{rate.optimiser} with lr={lr:g} is above {high:g}: updates this large make the loss explode"
            elif lr < low:
                message = f"{rate.optimiser} with lr={lr:g} is below {low:g}: the weights stay where they started"
            else:
                continue
            yield self.finding(message, source.location(rate.expr), lr=lr, optimizer=rate.optimiser)


# The rates at which an unclipped recurrence is at risk of exploding, per update rule. SGD
# moves by lr x gradient: a recurrent net's gradient grows with the depth in time, and the
# classic LSTM language model that trains at lr 20 does so only because it clips at 0.25.
# Adaptive optimisers bound each step by lr and are not judged.
DEFAULT_RECURRENT_RATES = {"SGD": 1.0, "ASGD": 1.0, "manual": 1.0}


class RecurrentWithoutClipping(SourceRule):
    code = "GL607"
    name = "recurrent-without-clipping"
    summary = "A recurrent model trained by SGD at a high rate with no gradient clipping"
    severity = "warning"
    options: ClassVar[dict[str, Any]] = {"min-lr": {}}
    option_types: ClassVar[dict[str, OptionType]] = {"min-lr": TableOf(POSITIVE_NUMBER)}
    needs = NEEDS_BACKWARD

    def check_source(self, source: SourceFile) -> Iterable[Finding]:
        from gradlint.codefacts.recurrence import recurrent_risks

        limits = dict(DEFAULT_RECURRENT_RATES)
        limits.update(self.settings.get("min-lr") or {})
        reported: set[int] = set()
        for risk in recurrent_risks(source):
            limit = limits.get(risk.optimiser)
            if limit is None or risk.rate < limit or id(risk.step) in reported:
                continue
            reported.add(id(risk.step))
            update = "a hand-written update" if risk.optimiser == "manual" else risk.optimiser
            if risk.steps is not None:
                depth = (f" over {risk.steps[0]} steps in time ({risk.steps[1]}): the gradient sums "
                         f"products of up to {risk.steps[0]} recurrent Jacobians, which explode once "
                         "training lifts their norm above 1, and")
            else:
                depth = ": its gradient grows with the steps in time, and"
            yield self.finding(
                f"{update} at lr={risk.rate:g} trains a recurrence ({risk.recurrent}) with no "
                f"gradient clipping{depth} one large update then sends the loss to NaN; call "
                "`torch.nn.utils.clip_grad_norm_` between `.backward()` and the step",
                source.location(risk.step),
                lr=risk.rate,
                optimizer=risk.optimiser,
                steps=risk.steps[0] if risk.steps is not None else None,
            )
