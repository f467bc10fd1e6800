"""The order of backward, zero_grad, step and clipping within one training iteration.

The analysis tells what is out of order (a ``LoopKind``), where, and with which other call;
the rules of ``gradlint.checks.training_loop`` pick their kinds and word the findings.
"""

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
from gradlint.codefacts.kinds import LoopKind
from gradlint.codefacts.modules import top_level_statements
from gradlint.codefacts.syntax import cached_fact, imports_of, iter_functions
from gradlint.source import SourceFile


@dataclass
class LoopCause:
    kind: LoopKind
    node: cst.CSTNode
    related: cst.CSTNode | None = None


# a call, not "backward compatibility" in a comment. No leading \b: re finds a literal
# prefix fast, but tries every position of the text for a pattern that starts with \b
# (forty times slower on a model file), and as a filter a few more matches are harmless.


def event_units(source: SourceFile) -> list[tuple[list, str]]:
    """Event trees of every function and of the module's own code, worked out once per file."""

    def compute() -> list[tuple[list, str]]:
        scope = FileScope.of(source.module, imports_of(source))
        units = []
        for func, owner in iter_functions(source.module):
            builder = EventBuilder(scope, owner.name.value if owner is not None else None)
            units.append((builder.function(func), func.name.value))
        builder = EventBuilder(scope, None)
        units.append((builder.block(top_level_statements(source.module)), "<module>"))
        return units

    return cached_fact(source, "event_units", compute)


def loop_causes(source: SourceFile) -> list[LoopCause]:
    """Each kind once per call, in the order of the lines (then of discovery)."""

    def compute() -> list[LoopCause]:
        causes: dict[tuple[LoopKind, int], LoopCause] = {}

        def add(kind: LoopKind, node: cst.CSTNode, related: cst.CSTNode | None = None) -> None:
            causes.setdefault((kind, id(node)), LoopCause(kind, node, related))

        for tree, _ in event_units(source):
            for loop in loops(tree):
                _missing_zero_grad(loop, add)
            iterations = [item.body for item in loops(tree)] + [tree]
            for body in iterations:
                if any(e.kind == BACKWARD for e in direct_events(body)):
                    _order(body, add)
        return sorted(causes.values(), key=lambda c: source.location(c.node).line or 0)

    return cached_fact(source, "loop_causes", compute)


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
    add(LoopKind.NEVER_ZEROED, step.node)


def _order(body: list, add) -> None:
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
                add(LoopKind.STEP_BEFORE_BACKWARD, event.node, backward_later.node)
            if event.kind == ZERO and seen_backward:
                step = _next_step_without_backward(after)
                if step is not None and _same_optimizer(event, step, steps):
                    add(LoopKind.ZEROED_BEFORE_STEP, event.node, step.node)
            if event.kind == CLIP:
                last = next((e for e in reversed(before) if e.kind in (BACKWARD, STEP)), None)
                if last is None and backward_later is not None:
                    add(LoopKind.CLIP_BEFORE_BACKWARD, event.node, backward_later.node)
                elif last is not None and last.kind == STEP:
                    add(LoopKind.CLIP_AFTER_STEP, event.node, last.node)


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
