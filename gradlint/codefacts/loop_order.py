"""The order of backward, zero_grad, step and clipping within one training iteration."""

from __future__ import annotations

from dataclasses import dataclass

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
from gradlint.codefacts.syntax import cached_fact, imports_of, iter_functions
from gradlint.source import SourceFile


@dataclass
class LoopIssue:
    code: str
    node: cst.CSTNode
    message: str


# a call, not "backward compatibility" in a comment. No leading \b: re finds a literal
# prefix fast, but tries every position of the text for a pattern that starts with \b
# (forty times slower on a model file), and as a filter a few more matches are harmless.


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
