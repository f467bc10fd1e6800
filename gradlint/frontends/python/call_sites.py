"""Where a constructor's arguments come from outside it: the calls of the class in its own
file (``MLP(hidden_dim, hidden_dim, 4, 3)``), and the constructors of the tree it passes
them on to unchanged (``Encoder(..., attn_resolutions=attn_resolutions)``), whose use of
them says what they are (``gradlint.frontends.python.arguments``)."""

from __future__ import annotations

from typing import Any

import libcst as cst

from gradlint.codefacts.syntax import walk
from gradlint.frontends.python.shared import Abort
from gradlint.frontends.python.values import UNKNOWN, ClassVal, FuncVal

Pass = tuple[str, FuncVal, cst.Param, ClassVal]


def required_params(init: cst.FunctionDef) -> list[cst.Param]:
    return [p for p in [*_positional(init), *init.params.kwonly_params] if p.default is None]


def _positional(function: cst.FunctionDef) -> list[cst.Param]:
    """The positional parameters after ``self``."""
    return (list(function.params.posonly_params) + list(function.params.params))[1:]


def passed_on(interp: Any, passes: list[Pass], judged, depth: int = 2) -> set[str]:
    """Names the constructor passes on, unchanged (``passes``, from ``passes_of``), to a class
    of the tree whose constructor ``judged`` picks them (``Encoder(..., attn_resolutions=
    attn_resolutions)``, tested with ``in`` there; ``num_res_blocks``, looped over there): of
    that kind here too."""
    passed: set[str] = set()
    for name, target, param, _ in passes:
        further = passed_on(interp, passes_of(interp, target), judged, depth - 1) if depth > 1 else set()
        if param.name.value in judged(target.node) | further:
            passed.add(name)
    return passed


def flags_passed_on(passes: list[Pass]) -> dict[str, tuple[bool, str]]:
    """Switches the constructor only passes on (``Attention(..., use_flash=use_flash)``), each
    with the default the receiving constructor gives it and that class's name, where every
    such call agrees."""
    seen: dict[str, set] = {}
    for name, _, param, owner in passes:
        default = param.default
        value = {"True": True, "False": False}.get(default.value) if type(default) is cst.Name else None
        seen.setdefault(name, set()).add((value, owner.name) if value is not None else None)
    return _agreeing(seen)


def _agreeing(seen: dict[str, set]) -> dict[str, Any]:
    """The names whose values all agree on one that is known (not None), with it."""
    return {name: values.pop() for name, values in seen.items() if len(values) == 1 and None not in values}


def passes_of(interp: Any, init: FuncVal) -> list[Pass]:
    """(required parameter, the tree's constructor it is passed to unchanged, the parameter
    there, that constructor's class) for every such argument of a call in the constructor."""
    names = {p.name.value for p in required_params(init.node)}
    found: list[Pass] = []
    for call in walk(init.node.body):
        if type(call) is not cst.Call:
            continue
        given = [(i, a) for i, a in enumerate(a for a in call.args if not a.star)
                 if type(a.value) is cst.Name and a.value.value in names]
        callee = _quietly(interp, init, call.func) if given and type(call.func) in (cst.Name, cst.Attribute) else None
        target = interp.class_attr(callee, "__init__")[0] if isinstance(callee, ClassVal) else None
        if not isinstance(target, FuncVal) or type(target.node) is not cst.FunctionDef:
            continue
        params = _params(target.node)
        positional = _positional(target.node)
        for position, arg in given:
            if arg.keyword is not None:
                param = next((p for p in params if p.name.value == arg.keyword.value), None)
            else:
                param = positional[position] if position < len(positional) else None
            if param is not None:
                found.append((arg.value.value, target, param, callee))  # type: ignore[attr-defined, arg-type]
    return found


def given_in_file(cls: ClassVal, init: cst.FunctionDef) -> dict[str, Any]:
    """Arguments every call of ``cls`` in its own file passes as one number: written there
    (``MLP(hidden_dim, hidden_dim, 4, 3)``), or the default of the calling function's parameter
    passed on (``MLP(..., iou_head_depth)``). A block its model builds inside the file needs
    nothing else to know a layer count nothing else passes."""
    source = cls.file.source if cls.file is not None else None
    if source is None:
        return {}
    names = [p.name.value for p in _positional(init)]
    seen: dict[str, set] = {}
    for caller, call in _calls_of(source.module, cls.name):
        defaults = {p.name.value: _number(p.default) for p in _params(caller) if p.default is not None}
        if any(a.star for a in call.args):
            return {}
        for position, arg in enumerate(a for a in call.args if a.keyword is None):
            if position < len(names):
                seen.setdefault(names[position], set()).add(_number(arg.value, defaults))
        for arg in call.args:
            if arg.keyword is not None:
                seen.setdefault(arg.keyword.value, set()).add(_number(arg.value, defaults))
    return _agreeing(seen)


# the calls of the last modules read, by name (a module holds no weak reference); a file's
# classes ask one after another
_CALLS: dict[int, tuple[cst.Module, dict[str, list]]] = {}


def _calls_of(module: cst.Module, name: str) -> list[tuple[cst.FunctionDef | None, cst.Call]]:
    """The calls ``name(...)`` in ``module``, each with the function whose body makes it; the
    module is read once, for every name."""
    kept = _CALLS.get(id(module))
    calls = kept[1] if kept is not None and kept[0] is module else None
    if calls is None:
        if len(_CALLS) >= 8:
            _CALLS.clear()
        calls = {}
        _CALLS[id(module)] = (module, calls)

        class Calls(cst.CSTVisitor):
            def __init__(self) -> None:
                self.functions: list[cst.FunctionDef] = []

            def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
                self.functions.append(node)

            def leave_FunctionDef(self, original_node: cst.FunctionDef) -> None:
                self.functions.pop()

            def visit_Call(self, node: cst.Call) -> None:
                if type(node.func) is cst.Name:
                    calls.setdefault(node.func.value, []).append((self.functions[-1] if self.functions else None, node))

        module.visit(Calls())
    return calls.get(name, [])


def _params(function: cst.FunctionDef | None) -> list[cst.Param]:
    if function is None:
        return []
    p = function.params
    return [*p.posonly_params, *p.params, *p.kwonly_params]


def _number(node: cst.BaseExpression, defaults: dict[str, Any] | None = None) -> int | float | None:
    """An int or float written as such, or a parameter whose default is one; else None."""
    if type(node) is cst.Integer:
        return int(node.evaluated_value)
    if type(node) is cst.Float:
        return float(node.evaluated_value)
    if type(node) is cst.Name and defaults is not None:
        return defaults.get(node.value)
    return None


def _quietly(interp: Any, init: FuncVal, node: cst.BaseExpression) -> Any:
    """``node``'s value at module level, leaving no mark on the build in progress (a name
    local to the constructor is unknown there, which is no reason to doubt the model)."""
    before = interp.incomplete, len(interp.reasons)
    try:
        return evaluate(interp, init, node)
    finally:
        interp.incomplete, interp.reasons[before[1]:] = before[0], []


def evaluate(interp: Any, init: FuncVal, node: cst.BaseExpression) -> Any:
    from gradlint.frontends.python.shared import Frame

    try:
        return interp.eval(node, Frame(init.file))
    except (Abort, RecursionError):
        return UNKNOWN
