"""GL605: a hand-written update that climbs the loss, turned round.

The update's operator is flipped and nothing else is touched: ``p += lr * g`` becomes
``p -= lr * g``, ``p.add_(g, alpha=lr)`` becomes ``p.sub_(g, alpha=lr)``,
``p = p + lr * g`` becomes ``p = p - lr * g``.
"""

from __future__ import annotations

import libcst as cst

from gradlint.diagnostics import Finding, Fix
from gradlint.fixes import make_fix
from gradlint.fixes._tree import FixTree

_AUG = {cst.AddAssign: "-=", cst.SubtractAssign: "+="}
_BINARY = {cst.Add: "-", cst.Subtract: "+"}
_METHOD = {"add_": "sub_", "sub_": "add_"}


def repair(tree: FixTree, finding: Finding) -> Fix | None:
    node = tree.at(finding, (cst.AugAssign, cst.Assign, cst.Call))
    if type(node) is cst.AugAssign and type(node.operator) in _AUG:
        return _flip(tree, finding, node.operator, _AUG[type(node.operator)])
    if type(node) is cst.Assign and type(node.value) is cst.BinaryOperation:
        op = node.value.operator
        if type(op) in _BINARY:
            return _flip(tree, finding, op, _BINARY[type(op)])
    if type(node) is cst.Call and type(node.func) is cst.Attribute:
        name = node.func.attr
        if name.value in _METHOD:
            span = tree.span(name)
            edit = tree.edit(span.start, span.end, _METHOD[name.value])
            return make_fix(
                finding, f"Descend: `{_METHOD[name.value]}` instead of `{name.value}`", [edit]
            )
    return None


def _flip(tree: FixTree, finding: Finding, operator: cst.CSTNode, new: str) -> Fix:
    """The operator's own characters replaced; the spaces around it stay the user's."""
    span = tree.span(operator)
    text = tree.text[span.start : span.end]
    old = text.strip()
    at = span.start + text.index(old)
    edit = tree.edit(at, at + len(old), new)
    return make_fix(finding, f"Descend: `{new}` instead of `{old}`", [edit])
