"""GL203: a deep plain stack on PyTorch's default init, given He (or Xavier) init.

A loop over ``self.modules()`` is added at the end of the model's ``__init__``: every
layer of the kinds the class builds gets ``kaiming_normal_`` (``xavier_normal_`` where
the rule's reference is Xavier) and a zero bias. Unsafe: it changes the initial weights,
and so every run's numbers, which a user may rely on (a seed, a reproduced paper).
"""

from __future__ import annotations

import libcst as cst

from gradlint.diagnostics import Finding, Fix
from gradlint.fixes import make_fix
from gradlint.fixes._moves import insert_after
from gradlint.fixes._tree import FixTree
from gradlint.names import dotted

_LAYERS = ("Linear", "Conv1d", "Conv2d", "Conv3d")


def repair(tree: FixTree, finding: Finding) -> Fix | None:
    layer = tree.at(finding, (cst.Call,))
    prefix = tree.nn_prefix()
    owner = _model_of(tree, layer) if layer is not None else None
    if owner is None or prefix is None:
        return None
    init = next(
        (
            s
            for s in owner.body.body
            if type(s) is cst.FunctionDef and s.name.value == "__init__"
        ),
        None,
    )
    if init is None or type(init.body) is not cst.IndentedBlock or not init.body.body:
        return None
    helper = tree.enclosing(layer, cst.FunctionDef)
    built = list(_constructors(init)) + (list(_constructors(helper)) if helper is not init else [])
    kinds = sorted({name.rsplit(".", 1)[-1] for name in built if name.startswith(prefix + ".")})
    kinds = [k for k in kinds if k in _LAYERS]
    if not kinds:
        return None
    last = init.body.body[-1]
    if type(last) is cst.SimpleStatementLine and any(
        type(s) is cst.Return for s in last.body
    ):
        return None
    xavier = finding.extra.get("reference") == "Xavier"
    weight = (
        "nn.init.xavier_normal_(module.weight)"
        if xavier
        else ('nn.init.kaiming_normal_(module.weight, nonlinearity="relu")')
    )
    weight = weight.replace("nn.", f"{prefix}.", 1)
    classes = ", ".join(f"{prefix}.{k}" for k in kinds)
    classes = f"({classes})" if len(kinds) > 1 else classes
    step = tree.indent_of(init.body.body[0])[len(tree.indent_of(init)) :] or "    "
    n = tree.newline
    base = tree.indent_of(last)
    code = (
        f"for module in self.modules():{n}"
        f"{base}{step}if isinstance(module, {classes}):{n}"
        f"{base}{step * 2}{weight}{n}"
        f"{base}{step * 2}if module.bias is not None:{n}"
        f"{base}{step * 3}{prefix}.init.zeros_(module.bias)"
    )
    name = "Xavier" if xavier else "He"
    return make_fix(
        finding,
        f"Initialise the layers with {name} init",
        [insert_after(tree, last, code)],
        "unsafe",
    )


def _model_of(tree: FixTree, layer: cst.CSTNode) -> cst.ClassDef | None:
    """The class whose layers these are: the one around the layer, or the one class of the
    file whose ``__init__`` calls the module-level helper that builds it."""
    owner = tree.enclosing(layer, cst.ClassDef)
    helper = tree.enclosing(layer, cst.FunctionDef)
    if owner is not None or helper is None or tree.parent(helper) is not tree.module:
        return owner
    callers = [
        c
        for c in tree.module.body
        if type(c) is cst.ClassDef and helper.name.value in set(_constructors(c))
    ]
    return callers[0] if len(callers) == 1 else None


def _constructors(node: cst.CSTNode):
    stack = [node]
    while stack:
        current = stack.pop()
        if type(current) is cst.Call:
            name = dotted(current.func)
            if name:
                yield name
        stack.extend(current.children)
