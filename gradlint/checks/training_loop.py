"""GL6xx: the training loop and the optimiser: order of backward, zero_grad, step, clipping; updates; lr."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, ClassVar

import libcst as cst

from gradlint.codefacts.events import (
    BACKWARD,
    CLIP,
    STEP,
    ZERO,
    Event,
    EventBuilder,
    FileScope,
    Loop,
    direct_events,
    flatten,
    loops,
    paths,
)
from gradlint.codefacts.modules import top_level_statements
from gradlint.codefacts.optimisers import literal_rates
from gradlint.codefacts.syntax import (
    cached_fact,
    children,
    imports_of,
    iter_functions,
    mentions,
)
from gradlint.codefacts.updates import parameter_names, update_direction
from gradlint.diagnostics import Finding
from gradlint.rule import SourceRule
from gradlint.source import SourceFile

# Functions that climb the loss on purpose: SAM's first step, adversarial weight perturbation.
DELIBERATE_ASCENT = re.compile(r"ascent|perturb|attack|adversar|first_step|climb", re.IGNORECASE)


@dataclass
class LoopIssue:
    code: str
    node: cst.CSTNode
    message: str


def _units(source: SourceFile) -> list[tuple[list, str]]:
    """Event trees of every function and of the module's own code."""
    scope = FileScope.of(source.module, imports_of(source))
    units = []
    for func, owner in iter_functions(source.module):
        builder = EventBuilder(scope, owner.name.value if owner is not None else None)
        units.append((builder.function(func), func.name.value))
    builder = EventBuilder(scope, None)
    units.append((builder.block(top_level_statements(source.module)), "<module>"))
    return units


def loop_issues(source: SourceFile) -> list[LoopIssue]:
    def compute() -> list[LoopIssue]:
        if not mentions(source, "backward"):
            return []
        issues: dict[tuple[str, int], LoopIssue] = {}

        def add(code: str, node: cst.CSTNode, message: str) -> None:
            issues.setdefault((code, id(node)), LoopIssue(code, node, message))

        for tree, _ in _units(source):
            for loop in loops(tree):
                _missing_zero_grad(loop, add)
            iterations = [item.body for item in loops(tree)] + [tree]
            for body in iterations:
                if any(e.kind == BACKWARD for e in direct_events(body)):
                    _order(body, add, source)
        return sorted(issues.values(), key=lambda i: source.location(i.node).line or 0)

    return cached_fact(source, "loop_issues", compute)


def _missing_zero_grad(loop: Loop, add) -> None:
    events = flatten(loop.body)
    kinds = {e.kind for e in events}
    if not {BACKWARD, STEP} <= kinds:
        return
    for inner in loops(loop.body):
        if {BACKWARD, STEP} <= {e.kind for e in flatten(inner.body)}:
            return  # the innermost loop that does both is the one judged
    if ZERO in kinds:
        return
    step = next(e for e in events if e.kind == STEP)
    add(
        "GL601",
        step.node,
        "optimizer step in a loop that never clears gradients: `.backward()` adds to `.grad`, "
        "so every step applies the sum of all gradients so far; call `zero_grad()` once per step",
    )


def _line(source: SourceFile, node: cst.CSTNode) -> int:
    return source.location(node).line or 0


def _order(body: list, add, source: SourceFile) -> None:
    steps = {e.target for e in flatten(body) if e.kind == STEP}
    for path in paths(body):
        for i, event in enumerate(path):
            before = path[:i]
            after = path[i + 1 :]
            seen_backward = any(e.kind == BACKWARD for e in before)
            backward_later = next((e for e in after if e.kind == BACKWARD), None)
            if (
                event.kind == STEP
                and event.target != "manual"
                and not seen_backward
                and backward_later is not None
            ):
                add(
                    "GL603",
                    event.node,
                    f"optimizer step before `.backward()` (line {_line(source, backward_later.node)}) in the same "
                    "iteration: it applies stale or zeroed gradients",
                )
            if event.kind == ZERO and seen_backward:
                step = _next_step_without_backward(after)
                if step is not None and _same_optimizer(event, step, steps):
                    add(
                        "GL602",
                        event.node,
                        f"`zero_grad()` between `.backward()` and the optimizer step (line {_line(source, step.node)}) "
                        "wipes the gradients just computed: the step moves nothing",
                    )
            if event.kind == CLIP:
                last = next((e for e in reversed(before) if e.kind in (BACKWARD, STEP)), None)
                if last is None and backward_later is not None:
                    add(
                        "GL604",
                        event.node,
                        f"gradient clipping before `.backward()` (line {_line(source, backward_later.node)}) "
                        "clips the previous (or zeroed) gradients, not the ones the step applies",
                    )
                elif last is not None and last.kind == STEP:
                    add(
                        "GL604",
                        event.node,
                        f"gradient clipping after the optimizer step (line {_line(source, last.node)}) "
                        "has no effect on the update; clip between `.backward()` and `step()`",
                    )


def _next_step_without_backward(after: list[Event]) -> Event | None:
    for event in after:
        if event.kind == BACKWARD:
            return None
        if event.kind == STEP:
            return event
    return None


def _same_optimizer(zero: Event, step: Event, steps: set) -> bool:
    if zero.target is not None and step.target not in (None, "manual"):
        return (
            zero.target == step.target
            or zero.target.rsplit(".", 1)[-1] == step.target.rsplit(".", 1)[-1]
        )
    return len(steps) == 1


class _LoopRule(SourceRule):
    def check_source(self, source: SourceFile) -> Iterable[Finding]:
        for issue in loop_issues(source):
            if issue.code == self.code:
                yield self.finding(issue.message, source.location(issue.node))


class MissingZeroGrad(_LoopRule):
    code = "GL601"
    name = "missing-zero-grad"
    summary = "A training loop steps the optimizer but never clears the gradients"
    severity = "error"


class ZeroGradBeforeStep(_LoopRule):
    code = "GL602"
    name = "zero-grad-between-backward-and-step"
    summary = (
        "`zero_grad()` between `.backward()` and `step()` wipes the gradients before they are used"
    )
    severity = "error"


class StepBeforeBackward(_LoopRule):
    code = "GL603"
    name = "step-before-backward"
    summary = "The optimizer steps before `.backward()` in the same iteration"
    severity = "error"


class ClipOutsideBackwardStep(_LoopRule):
    code = "GL604"
    name = "clip-grad-outside-backward-step"
    summary = (
        "Gradient clipping before `.backward()` or after `step()` clips nothing the update uses"
    )
    severity = "warning"


class GradientAscentUpdate(SourceRule):
    code = "GL605"
    name = "gradient-ascent-update"
    summary = "A hand-written update adds the gradient to a parameter: the loss goes up"
    severity = "error"

    def check_source(self, source: SourceFile) -> Iterable[Finding]:
        if not mentions(source, ".grad"):
            return
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
    stack: list[cst.CSTNode] = (
        list(children(scope.body)) if isinstance(scope, cst.FunctionDef) else list(scope.body)
    )
    while stack:
        node = stack.pop()
        if isinstance(node, (cst.FunctionDef, cst.ClassDef)):
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

    def ranges(self) -> dict[str, list[float]]:
        merged = dict(DEFAULT_LR_RANGES)
        merged.update(self.settings.get("lr-ranges") or {})
        return merged

    def check_source(self, source: SourceFile) -> Iterable[Finding]:
        if not mentions(source, "optim"):
            return
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
