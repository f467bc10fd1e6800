"""GL801: gradients clipped while still multiplied by the GradScaler's scale.

``scaler.unscale_(optimizer)`` is inserted on the line before the clipping, as PyTorch's
AMP recipe writes it, with the scaler of ``scaler.scale(loss).backward()`` and the
optimiser of ``scaler.step(optimizer)`` found in the same loop (or function).
"""

from __future__ import annotations

import libcst as cst

from gradlint.diagnostics import Finding, Fix
from gradlint.fixes import make_fix
from gradlint.fixes._moves import calls_of, own_statement, scope_of
from gradlint.fixes._tree import FixTree
from gradlint.names import dotted


def repair(tree: FixTree, finding: Finding) -> Fix | None:
    clip = tree.at(finding, (cst.Call,))
    statement = own_statement(tree, clip) if clip is not None else None
    if statement is None:
        return None
    scaler, optimizer = finding.extra.get("scaler"), finding.extra.get("optimizer")
    # the names the rule found (through attributes and helpers), else the loop's own
    scope = scope_of(tree, clip)
    if scaler and optimizer:  # as the rule found them, also through a helper that only clips
        code = _named_unscale(tree, scope, statement, scaler, optimizer)
    else:
        code = unscale_call(tree, scope, statement)
    if code is None:
        return None
    lines = tree.lines(statement)
    line = f"{tree.indent_of(statement)}{code}{tree.newline}"
    return make_fix(
        finding, f"Unscale before clipping: `{code}`", [tree.edit(lines.start, lines.start, line)]
    )


def unscale_call(tree: FixTree, scope: cst.CSTNode, at: cst.CSTNode) -> str | None:
    """``scaler.unscale_(optimizer)`` for the one scaler and optimiser of ``scope``, to go at
    ``at``; None when it has no scaler, unscales already, steps several optimisers through the
    scaler, or steps under a condition that ``at`` is not under: unscaling every micro-batch of
    an accumulation (a step every k) raises at the second ``unscale_`` before ``update()``."""
    scales = calls_of(tree, scope, "scale")
    if not scales or calls_of(tree, scope, "unscale_"):
        return None
    scaler = tree.code(scales[0].func.value)
    optimisers = []
    for step in calls_of(tree, scope, "step"):
        args = [a for a in step.args if a.keyword is None and not a.star]
        if tree.code(step.func.value) == scaler and len(args) == 1:
            if not _runs_whenever(tree, step, at, scope):
                return None
            name = tree.code(args[0].value)
            if name not in optimisers:
                optimisers.append(name)
    if len(optimisers) != 1:
        return None  # which optimiser's gradients the clipping covers is not for a fix to guess
    return f"{scaler}.unscale_({optimisers[0]})"


def _named_unscale(tree: FixTree, scope, at, scaler: str, optimizer: str) -> str | None:
    """``scaler.unscale_(optimizer)``, unless this optimiser is unscaled already, or its step
    runs under a condition ``at`` is not under."""
    for call in calls_of(tree, scope, "unscale_"):
        if any(dotted(a.value) == optimizer for a in call.args):
            return None
    for step in calls_of(tree, scope, "step"):
        args = [dotted(a.value) for a in step.args if a.keyword is None and not a.star]
        if args == [optimizer] and not _runs_whenever(tree, step, at, scope):
            return None
    return f"{scaler}.unscale_({optimizer})"


def _runs_whenever(tree: FixTree, step: cst.CSTNode, at: cst.CSTNode, scope: cst.CSTNode) -> bool:
    """Whether every condition the step sits under (inside ``scope``) holds for ``at`` too."""
    around = {id(up) for up in tree.ancestors(at)}
    for up in tree.ancestors(step):
        if up is scope:
            return True
        if type(up) in (cst.If, cst.While, cst.For, cst.Try) and id(up) not in around:
            return False
    return True
