"""The order of backward, zero_grad, step and clipping within one training iteration.

The analysis tells what is out of order (a ``LoopKind``), where, and with which other call;
the rules of ``gradlint.checks.training_loop`` pick their kinds and word the findings.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import libcst as cst

from gradlint import torch_api
from gradlint.codefacts.event_tree import Branch, Event, Loop, direct_events, flatten, loops, paths
from gradlint.codefacts.events import (
    BACKWARD,
    CLIP,
    PARAMETER,
    STEP,
    ZERO,
    EventBuilder,
    FileScope,
)
from gradlint.codefacts.kinds import LoopKind
from gradlint.codefacts.modules import top_level_statements
from gradlint.codefacts.syntax import cached_fact, imports_of, iter_functions, walk
from gradlint.names import dotted
from gradlint.source import SourceFile

ACCUMULATION_NAME = re.compile(r"accum", re.IGNORECASE)


@dataclass
class LoopCause:
    kind: LoopKind
    node: cst.CSTNode
    related: cst.CSTNode | None = None
    optimiser: str | None = None  # the one never zeroed, where others are


# a call, not "backward compatibility" in a comment. No leading \b: re finds a literal
# prefix fast, but tries every position of the text for a pattern that starts with \b
# (forty times slower on a model file), and as a filter a few more matches are harmless.


def event_units(source: SourceFile) -> list[tuple[list, str, cst.ClassDef | None]]:
    """Event trees of every function (with its name and class) and of the module's own code,
    worked out once per file."""

    def compute() -> list[tuple[list, str, cst.ClassDef | None]]:
        scope = FileScope.of(source.module, imports_of(source), source)
        units = []
        for func, owner in iter_functions(source.module):
            builder = EventBuilder(scope, owner.name.value if owner is not None else None)
            units.append((builder.function(func), func.name.value, owner))
        builder = EventBuilder(scope, None)
        units.append((builder.block(top_level_statements(source.module)), "<module>", None))
        return units

    return cached_fact(source, "event_units", compute)


def loop_causes(source: SourceFile) -> list[LoopCause]:
    """Each kind once per call, in the order of the lines (then of discovery)."""

    def compute() -> list[LoopCause]:
        causes: dict[tuple[LoopKind, int], LoopCause] = {}

        def add(kind: LoopKind, node: cst.CSTNode, related: cst.CSTNode | None = None,
                optimiser: str | None = None) -> None:
            causes.setdefault((kind, id(node)), LoopCause(kind, node, related, optimiser))

        for tree, name, owner in event_units(source):
            for loop in loops(tree):
                _missing_zero_grad(loop, add)
            if name == "training_step":  # Lightning runs it once per batch: an iteration
                events = direct_events(tree)
                if {BACKWARD, STEP, ZERO} <= {e.kind for e in events}:
                    _unzeroed_optimisers(events, add)
                if owner is not None and _optimised_by_lightning(source, owner):
                    _clipped_before_lightning_backward(flatten(tree), add)
            iterations = [item.body for item in loops(tree)] + [tree]
            for body in iterations:
                if any(e.kind == BACKWARD for e in direct_events(body)):
                    _order(body, add)
        return sorted(causes.values(), key=lambda c: source.location(c.node).line or 0)

    return cached_fact(source, "loop_causes", compute)


def _optimised_by_lightning(source: SourceFile, cls: cst.ClassDef) -> bool:
    """A LightningModule left to automatic optimisation: Lightning calls backward and the
    optimiser's step itself, after ``training_step`` has returned the loss."""
    lightning = any((dotted(base.value) or "").rsplit(".", 1)[-1] == "LightningModule" for base in cls.bases)
    return lightning and "automatic_optimization" not in source.code_of(cls)


def _clipped_before_lightning_backward(events: list, add) -> None:
    """A clip in ``training_step`` of automatic optimisation runs before Lightning's backward."""
    if any(e.kind in (BACKWARD, STEP) for e in events):
        return  # the loop is written out after all (a manual backward the class hides)
    for event in events:
        if event.kind == CLIP:
            add(LoopKind.CLIP_BEFORE_LIGHTNING_BACKWARD, event.node)


def _missing_zero_grad(loop: Loop, add) -> None:
    events = flatten(loop.body)
    kinds = {e.kind for e in events}
    if not {BACKWARD, STEP} <= kinds:
        return
    for inner in loops(loop.body):
        if {BACKWARD, STEP} <= {e.kind for e in flatten(inner.body)}:
            return  # the innermost loop that does both is the one judged
    if ZERO in kinds:
        _unzeroed_optimisers(events, add)
        _zeroed_each_micro_batch(loop.body, add)
        return
    steps = [e for e in events if e.kind == STEP]
    if all(e.target is not None and e.target in _optimisers_of_fresh_tensors(loop) for e in steps):
        return
    add(LoopKind.NEVER_ZEROED, steps[0].node)


# calls whose result is a new leaf tensor (or is made one), never an existing parameter
_NEW_TENSOR_METHODS = frozenset({"clone", "detach", "requires_grad_"})


def _optimisers_of_fresh_tensors(loop: Loop) -> set[str]:
    """Optimisers built in the loop's body over tensors made earlier in that body
    (``x = z.detach().clone(); x.requires_grad = True; opt = SGD([x])``): every iteration
    steps new leaves, whose ``.grad`` starts empty, so nothing accumulates across steps."""
    made: set[str] = set()
    fresh: set[str] = set()
    for node in _in_source_order(loop.node.body):
        if type(node) is not cst.Assign:
            continue
        names = {t.target.value for t in node.targets if type(t.target) is cst.Name}
        value = node.value
        if type(value) is cst.Call and value.args and type(value.args[0].value) in (cst.List, cst.Tuple):
            elements = value.args[0].value.elements
            if elements and all(type(e.value) is cst.Name and e.value.value in fresh for e in elements):
                made |= names
        if _makes_new_tensor(value):
            fresh |= names
        else:
            fresh -= names
    return made


def _makes_new_tensor(value: cst.BaseExpression) -> bool:
    if type(value) is not cst.Call:
        return False
    func = value.func
    name = func.attr.value if type(func) is cst.Attribute else func.value if type(func) is cst.Name else ""
    factories = {qualified.rsplit(".", 1)[-1] for qualified in torch_api.tensor_factory_names()}
    return name in _NEW_TENSOR_METHODS or name in factories


def _in_source_order(node: cst.CSTNode):
    """The nodes under ``node`` in source order, nested functions and classes left out."""
    for child in node.children:
        if type(child) in (cst.FunctionDef, cst.ClassDef, cst.Lambda):
            continue
        yield child
        yield from _in_source_order(child)


def _short(target: str) -> str:
    return target.rsplit(".", 1)[-1]


def _unzeroed_optimisers(events: list[Event], add) -> None:
    """Several optimisers stepped, only some zeroed (a GAN whose discriminator's optimiser
    is never cleared). Judged only where every zero_grad names an optimiser the loop steps:
    ``model.zero_grad()``, a helper, or a loop over a list of optimisers may clear any."""
    zeroed = [e.target for e in events if e.kind == ZERO]
    stepped = [e for e in events if e.kind == STEP and e.target not in (None, "manual")]
    if any(t in (None, PARAMETER) for t in zeroed):
        return
    zeroed_names = {_short(t) for t in zeroed}
    if not zeroed_names <= {_short(e.target) for e in stepped}:
        return
    for step in stepped:
        if _short(step.target) not in zeroed_names:
            zero = next(e for e in events if e.kind == ZERO)
            add(LoopKind.NEVER_ZEROED, step.node, zero.node, step.target)


def _is_accumulation_test(test: cst.BaseExpression | None) -> bool:
    """``(i + 1) % accum_steps == 0``, ``step % args.accumulate == 0``, ``if do_step:`` apart."""
    if test is None:
        return False
    for node in walk(test):
        if type(node) is cst.BinaryOperation and type(node.operator) is cst.Modulo:
            return True
        name = dotted(node) if type(node) in (cst.Name, cst.Attribute) else None
        if name is not None and ACCUMULATION_NAME.search(name.rsplit(".", 1)[-1]):
            return True
    return False


def _zeroed_in_micro_batch_loop(body: list, add) -> None:
    """``for micro in chunks: zero_grad(); backward()`` then one ``step()`` after the inner
    loop: the step sees the last micro-batch alone."""
    steps = [e for e in body if isinstance(e, Event) and e.kind == STEP and e.target != "manual"]
    for item in body:
        if not isinstance(item, Loop) or not steps:
            continue
        inner = [e for e in item.body if isinstance(e, Event)]
        kinds = [e.kind for e in inner]
        if ZERO in kinds and BACKWARD in kinds and STEP not in {e.kind for e in flatten(item.body)}:
            zero = next(e for e in inner if e.kind == ZERO)
            if zero.target != PARAMETER and body.index(item) < body.index(steps[0]):
                add(LoopKind.ZEROED_EACH_MICRO_BATCH, zero.node, steps[0].node)


def _zeroed_each_micro_batch(body: list, add) -> None:
    """zero_grad on every pass of a loop whose step runs only every few passes (gradient
    accumulation): each step sees the last micro-batch alone."""
    zeros = [e for e in body if isinstance(e, Event) and e.kind == ZERO]
    if not zeros or not any(isinstance(e, Event) and e.kind == BACKWARD for e in body):
        _zeroed_in_micro_batch_loop(body, add)
        return
    if any(isinstance(e, Event) and e.kind == STEP for e in body):
        return
    steps = [
        e
        for item in body
        if isinstance(item, Branch) and _is_accumulation_test(item.test)
        for arm in item.arms[:1]
        for e in flatten(arm)
        if e.kind == STEP
    ]
    if steps:
        add(LoopKind.ZEROED_EACH_MICRO_BATCH, zeros[0].node, steps[0].node)


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
            if event.kind == ZERO and seen_backward and event.target != PARAMETER:
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
