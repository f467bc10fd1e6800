"""GL601-GL604: ``zero_grad``, ``step`` and clipping put where an iteration needs them.

- GL601 (no ``zero_grad``): ``opt.zero_grad()`` right after each optimiser's ``step``, so
  that gradient accumulation (a step every k iterations) keeps working.
- GL602 (``zero_grad`` between backward and step): the ``zero_grad`` moved after the step.
- GL603 (step before backward): the step moved after the backward.
- GL604 (clipping outside backward..step): the clipping moved after the backward, or before
  the step.
"""

from __future__ import annotations

import re

import libcst as cst

from gradlint.diagnostics import Finding, Fix
from gradlint.fixes import make_fix
from gradlint.fixes._moves import (
    calls_of,
    insert_after,
    move_after,
    move_before,
    optimiser_of,
    own_statement,
    reachable_block,
    scope_of,
)
from gradlint.fixes._tree import FixTree
from gradlint.names import dotted

_OPTIMISER = re.compile(r"opt", re.IGNORECASE)


def repair(tree: FixTree, finding: Finding) -> Fix | None:
    call = tree.at(finding, (cst.Call,))
    if call is None or type(call.func) is not cst.Attribute:
        return None
    return _REPAIRS[finding.code](tree, finding, call)


def _missing_zero_grad(tree: FixTree, finding: Finding, step: cst.Call) -> Fix | None:
    loop = scope_of(tree, step)
    steps = [step] + [s for s in calls_of(tree, loop, "step") if s is not step]
    edits, names = [], []
    for each in steps:
        name = optimiser_of(tree, each)
        statement = own_statement(tree, each)
        if (
            name is None
            or name in names
            or statement is None
            or (each is not step and not _OPTIMISER.search(name))
        ):
            continue
        edit = _clear_for(tree, loop, each, statement, f"{name}.zero_grad()")
        if edit is not None:
            names.append(name)
            edits.append(edit)
    if not edits:
        return None
    listed = ", ".join(f"`{n}.zero_grad()`" for n in names)
    return make_fix(finding, f"Clear the gradients once per step: {listed}", edits)


def _clear_for(tree: FixTree, loop: cst.CSTNode, step: cst.Call, statement, code: str):
    """After the step, where a step every k iterations (``if i % k == 0``) keeps accumulating;
    before the backward when the step sits under another guard (``if torch.isfinite(norm)``),
    which would leave a skipped step's gradients to pile up."""
    guard = next(
        (up for up in tree.ancestors(statement) if up is loop or type(up) is cst.If), None
    )
    if guard is None or guard is loop or "%" in tree.code(guard.test):
        return insert_after(tree, statement, code)
    start = tree.span(step).start
    backward = [b for b in calls_of(tree, loop, "backward") if tree.span(b).start < start]
    anchor = own_statement(tree, backward[-1]) if backward else None
    if anchor is None:
        return None
    at = tree.lines(anchor).start
    return tree.edit(at, at, f"{tree.indent_of(anchor)}{code}{tree.newline}")


def _zero_grad_before_step(tree: FixTree, finding: Finding, zero: cst.Call) -> Fix | None:
    statement = own_statement(tree, zero)
    if statement is None:
        return None
    start = tree.span(zero).start
    name = dotted(zero.func.value)
    if name is None:
        return None
    later = [s for s in calls_of(tree, scope_of(tree, zero), "step") if tree.span(s).start > start]
    step = next(
        (s for s in later if _same(optimiser_of(tree, s), name)), later[0] if later else None
    )
    anchor = own_statement(tree, step) if step is not None else None
    if anchor is None:
        return None
    return make_fix(
        finding, f"Move `{name}.zero_grad()` after the step", move_after(tree, statement, anchor)
    )


def _step_before_backward(tree: FixTree, finding: Finding, step: cst.Call) -> Fix | None:
    statement = own_statement(tree, step)
    backward = _next_call(tree, step, "backward")
    anchor = own_statement(tree, backward) if backward is not None else None
    if statement is None or anchor is None or not reachable_block(tree, statement, anchor):
        return None
    return make_fix(
        finding, "Move the step after `.backward()`", move_after(tree, statement, anchor)
    )


def _clip_outside(tree: FixTree, finding: Finding, clip: cst.Call) -> Fix | None:
    statement = own_statement(tree, clip)
    if statement is None:
        return None
    start = tree.span(clip).start
    scope = scope_of(tree, clip)
    backward_before = any(tree.span(b).start < start for b in calls_of(tree, scope, "backward"))
    if not backward_before:
        backward = _next_call(tree, clip, "backward")
        anchor = own_statement(tree, backward) if backward is not None else None
        if anchor is None or not reachable_block(tree, statement, anchor):
            return None
        return make_fix(
            finding,
            "Move the clipping after `.backward()`",
            _unscaled(tree, scope, statement, anchor, True),
        )
    steps = [s for s in calls_of(tree, scope, "step") if tree.span(s).start < start]
    anchor = own_statement(tree, steps[-1]) if steps else None
    if anchor is None or tree.parent(anchor) is not tree.parent(statement):
        return None
    return make_fix(
        finding,
        "Move the clipping before the optimizer step",
        _unscaled(tree, scope, statement, anchor, False),
    )


def _unscaled(tree: FixTree, scope, statement, anchor, after: bool) -> list:
    """The clipping moved next to ``anchor``; under a GradScaler, the gradients unscaled first,
    or it would clip gradients multiplied by the scale."""
    from gradlint.fixes.unscale import unscale_call

    edits = move_after(tree, statement, anchor) if after else move_before(tree, statement, anchor)
    unscale = unscale_call(tree, scope, anchor)
    if unscale is None or edits is None:
        return edits
    indent = tree.indent_of(anchor)
    line = f"{indent}{unscale}{tree.newline}"
    insert = edits[1] if after else edits[0]  # the moved clipping, which the unscale precedes
    return [
        e
        if e is not insert
        else type(e)(e.start_line, e.start_column, e.end_line, e.end_column, line + e.replacement)
        for e in edits
    ]


def _next_call(tree: FixTree, node: cst.CSTNode, method: str) -> cst.Call | None:
    start = tree.span(node).start
    later = [c for c in calls_of(tree, scope_of(tree, node), method) if tree.span(c).start > start]
    return later[0] if later else None


def _same(a: str | None, b: str) -> bool:
    if a is None:
        return False
    return a == b or a.rsplit(".", 1)[-1] == b.rsplit(".", 1)[-1]


_REPAIRS = {
    "GL601": _missing_zero_grad,
    "GL602": _zero_grad_before_step,
    "GL603": _step_before_backward,
    "GL604": _clip_outside,
}
