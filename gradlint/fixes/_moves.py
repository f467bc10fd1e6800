"""Statements moved or inserted whole lines at a time, as the training-loop fixes need."""

from __future__ import annotations

import re

import libcst as cst

from gradlint.diagnostics import Edit
from gradlint.fixes._tree import FixTree, calls_in
from gradlint.names import dotted

_SCHEDULER = re.compile(r"sched|lr|warmup", re.IGNORECASE)


def own_statement(tree: FixTree, node: cst.CSTNode) -> cst.SimpleStatementLine | None:
    """The one-statement line holding ``node``; None for ``a; b`` or ``if x: a``."""
    statement = tree.statement(node)
    return statement if statement is not None and tree.alone_on_its_lines(statement) else None


def scope_of(tree: FixTree, node: cst.CSTNode) -> cst.CSTNode:
    """The innermost loop, function or module around ``node``: where an iteration's calls are."""
    for up in tree.ancestors(node):
        if type(up) in (cst.For, cst.While, cst.FunctionDef):
            return up
    return tree.module


def calls_of(tree: FixTree, scope: cst.CSTNode, method: str) -> list[cst.Call]:
    """``x.method(...)`` calls of ``scope`` in source order; optimiser steps only for "step"."""
    found = list(calls_in(scope, method))
    if method == "step":
        found = [c for c in found if not _SCHEDULER.search(tree.code(c.func.value))]
    return sorted(found, key=lambda c: tree.span(c).start)


def optimiser_of(tree: FixTree, step: cst.Call) -> str | None:
    """``opt`` for ``opt.step()`` and for ``scaler.step(opt)``; None for anything else."""
    args = [a for a in step.args if a.keyword is None and a.star == ""]
    if len(args) == 1 and dotted(args[0].value) is not None:
        return dotted(args[0].value)
    return dotted(step.func.value)


def empties_its_block(
    tree: FixTree, statement: cst.CSTNode, anchor: cst.CSTNode | None = None
) -> bool:
    """Whether taking ``statement`` away (to ``anchor``, if given) leaves its block empty."""
    found = tree.block_of(statement)
    if found is None:
        return True
    body, _ = found
    if len(body) > 1:
        return False
    home = tree.parent(statement)
    return anchor is None or not any(up is home for up in tree.ancestors(anchor))


def reachable_block(tree: FixTree, statement: cst.CSTNode, anchor: cst.CSTNode) -> bool:
    """Whether ``anchor`` runs whenever ``statement`` would at its place: the same block,
    or a block inside ``with`` statements of it (not a branch, not a loop)."""
    home = tree.parent(statement)
    for up in tree.ancestors(anchor):
        if up is home:
            return True
        if type(up) in (cst.IndentedBlock, cst.With, cst.SimpleStatementSuite):
            continue
        if isinstance(up, cst.BaseStatement) and type(up) is not cst.With:
            return False
    return False


def _reindented(tree: FixTree, statement: cst.CSTNode, indent: str) -> str:
    lines = tree.lines(statement)
    text = tree.text[lines.start : lines.end]
    old = tree.indent_of(statement)
    out = []
    for line in text.splitlines(keepends=True):
        out.append(indent + line[len(old) :] if line.startswith(old) else line)
    moved = "".join(out)
    return moved if moved.endswith(("\n", "\r")) else moved + tree.newline


def _after(tree: FixTree, anchor: cst.CSTNode) -> tuple[int, str]:
    """Where a line goes after ``anchor``'s lines, and a line end to put first if it has none."""
    end = tree.lines(anchor).end
    lead = "" if tree.text[:end].endswith(("\n", "\r")) else tree.newline
    return end, lead


def insert_after(tree: FixTree, anchor: cst.CSTNode, code: str) -> Edit:
    at, lead = _after(tree, anchor)
    return tree.edit(at, at, lead + tree.indent_of(anchor) + code + tree.newline)


def move_after(tree: FixTree, statement: cst.CSTNode, anchor: cst.CSTNode) -> list[Edit] | None:
    if empties_its_block(tree, statement, anchor):
        return None
    moved = _reindented(tree, statement, tree.indent_of(anchor))
    lines = tree.lines(statement)
    at, lead = _after(tree, anchor)
    return [tree.edit(lines.start, lines.end, ""), tree.edit(at, at, lead + moved)]


def move_before(tree: FixTree, statement: cst.CSTNode, anchor: cst.CSTNode) -> list[Edit] | None:
    if empties_its_block(tree, statement, anchor):
        return None
    moved = _reindented(tree, statement, tree.indent_of(anchor))
    lines = tree.lines(statement)
    at = tree.lines(anchor).start
    return [tree.edit(at, at, moved), tree.edit(lines.start, lines.end, "")]
