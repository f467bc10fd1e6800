"""Small questions about libcst nodes that every code rule asks."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterator

import libcst as cst

from gradlint import torch_api
from gradlint.codefacts.words import NEEDS_FORWARD
from gradlint.names import dotted
from gradlint.statements import class_statements, iter_statements

_FIELDS: dict[type, tuple[str, ...]] = {}
# Fields that only ever hold layout or punctuation: never walked.
_LAYOUT_FIELD = re.compile(
    r"whitespace|^(lpar|rpar|comma|semicolon|leading_lines|lines_after_decorators|header|footer|newline"
    r"|equal|colon|dot|operator|asterisk|first_line|empty_lines|lbracket|rbracket|lbrace|rbrace)$"
)
_LAYOUT = (
    cst.BaseParenthesizableWhitespace,
    cst.Comment,
    cst.EmptyLine,
    cst.Newline,
    cst.TrailingWhitespace,
    cst.LeftParen,
    cst.RightParen,
)


def children(node: cst.CSTNode) -> list[cst.CSTNode]:
    """The child nodes of ``node`` without layout, in source order.

    libcst's own ``children`` re-visits the node on every access, which dominates
    the run time of a walk over a whole file; a list, not a generator, for the same reason
    (a walk asks every node of a file for its children).
    """
    names = _FIELDS.get(type(node))
    if names is None:
        names = _FIELDS[type(node)] = tuple(
            f.name for f in dataclasses.fields(node) if not _LAYOUT_FIELD.search(f.name)
        )
    found = []
    known = _NODE_TYPES
    for name in names:
        value = getattr(node, name)
        kind = type(value)
        if kind is list or kind is tuple:
            for item in value:
                is_node = known.get(type(item))
                if is_node is None:
                    is_node = _is_node(type(item))
                if is_node:
                    found.append(item)
        else:
            is_node = known.get(kind)
            if is_node is None:
                is_node = _is_node(kind)
            if is_node:
                found.append(value)
    return found


_NODE_TYPES: dict[type, bool] = {}


def _is_node(kind: type) -> bool:
    """A cached subclass test: isinstance against libcst's ABCs is slow in a hot loop."""
    known = _NODE_TYPES.get(kind)
    if known is None:
        known = _NODE_TYPES[kind] = issubclass(kind, cst.CSTNode) and not issubclass(kind, _LAYOUT)
    return known


def walk(node: cst.CSTNode) -> Iterator[cst.CSTNode]:
    """``node`` and everything below it, depth first (the last child's subtree first)."""
    stack = [node]
    while stack:
        current = stack.pop()
        yield current
        stack.extend(children(current))


def in_source_order(node: cst.CSTNode) -> Iterator[cst.CSTNode]:
    """Everything below ``node``, depth first and in source order."""
    stack = children(node)
    stack.reverse()
    while stack:
        current = stack.pop()
        yield current
        below = children(current)
        below.reverse()
        stack.extend(below)


def method_call(call: cst.Call) -> tuple[cst.BaseExpression, str] | None:
    """``(receiver, name)`` for ``receiver.name(...)``."""
    if type(call.func) is cst.Attribute:
        return call.func.value, call.func.attr.value
    return None


def positional(call: cst.Call) -> list[cst.BaseExpression]:
    return [a.value for a in call.args if a.keyword is None and not a.star]


def keyword(call: cst.Call, name: str) -> cst.BaseExpression | None:
    for arg in call.args:
        if arg.keyword is not None and arg.keyword.value == name:
            return arg.value
    return None


def argument(call: cst.Call, index: int, name: str) -> cst.BaseExpression | None:
    """The argument passed by position ``index`` or by keyword ``name``."""
    value = keyword(call, name)
    if value is not None:
        return value
    args = positional(call)
    return args[index] if len(args) > index else None


def last_name(expr: cst.BaseExpression) -> str | None:
    """``opt`` for ``self.opt``, ``opt`` for ``opt``; None for anything else."""
    if type(expr) is cst.Name:
        return expr.value
    if type(expr) is cst.Attribute:
        return expr.attr.value
    if type(expr) is cst.Subscript:
        return last_name(expr.value)
    return None


def strip_chain(expr: cst.BaseExpression) -> cst.BaseExpression:
    """``Net().to(device).train()`` -> ``Net()``: the object a method chain starts from."""
    while type(expr) is cst.Call:
        found = method_call(expr)
        if found is None or found[1] not in torch_api.names("tensors.pass_through_methods"):
            break
        expr = found[0]
    return expr


def function_params(func: cst.FunctionDef) -> list[cst.Param]:
    p = func.params
    return (
        [*p.posonly_params, *p.params, *p.kwonly_params]
        + ([p.star_arg] if type(p.star_arg) is cst.Param else [])
        + ([p.star_kwarg] if p.star_kwarg is not None else [])
    )


def statements(block: cst.BaseSuite) -> list[cst.BaseStatement]:
    if type(block) is cst.IndentedBlock:
        return list(block.body)
    return [block]  # SimpleStatementSuite: ``if x: y`` on one line


def iter_functions(
    module: cst.Module,
) -> Iterator[tuple[cst.FunctionDef, cst.ClassDef | None]]:
    """Every function at any depth, with the class it is a method of (None elsewhere)."""
    for stmt, owner in iter_statements(module):
        if type(stmt) is cst.FunctionDef:
            yield stmt, owner


def iter_classes(module: cst.Module) -> Iterator[cst.ClassDef]:
    return iter(class_statements(module))


def methods(cls: cst.ClassDef) -> dict[str, cst.FunctionDef]:
    found = {}
    for stmt in statements(cls.body):
        if type(stmt) is cst.FunctionDef:
            found[stmt.name.value] = stmt
    return found


def has_decorator(func: cst.FunctionDef, *suffixes: str) -> bool:
    for dec in func.decorators:
        expr = dec.decorator.func if type(dec.decorator) is cst.Call else dec.decorator
        name = dotted(expr) or ""
        if any(name == s or name.endswith("." + s) for s in suffixes):
            return True
    return False


def calls_in_order(node: cst.CSTNode) -> list[cst.Call]:
    """Calls inside ``node`` in evaluation order: arguments before the call that takes them."""
    found: list[cst.Call] = []

    def visit(n: cst.CSTNode) -> None:
        if type(n) in (cst.Lambda, cst.FunctionDef, cst.ClassDef):
            return
        for child in children(n):
            visit(child)
        if type(n) is cst.Call:
            found.append(n)

    visit(node)
    return found


def number(expr: cst.BaseExpression, constants: dict[str, float] | None = None) -> float | None:
    """The value of a numeric literal expression (``3e-4``, ``-1``, ``1 / 1000``, ``LR``)."""
    if type(expr) in (cst.Integer, cst.Float):
        return float(expr.evaluated_value)
    if type(expr) is cst.UnaryOperation:
        inner = number(expr.expression, constants)
        if inner is None:
            return None
        if type(expr.operator) is cst.Minus:
            return -inner
        if type(expr.operator) is cst.Plus:
            return inner
        return None
    if type(expr) is cst.BinaryOperation:
        left, right = number(expr.left, constants), number(expr.right, constants)
        if left is None or right is None:
            return None
        op = expr.operator
        try:
            if type(op) is cst.Add:
                return left + right
            if type(op) is cst.Subtract:
                return left - right
            if type(op) is cst.Multiply:
                return left * right
            if type(op) is cst.Divide:
                return left / right
            if type(op) is cst.Power:
                return float(left**right)
        except (ZeroDivisionError, OverflowError):
            return None
        return None
    if type(expr) is cst.Name and constants is not None:
        return constants.get(expr.value)
    return None


def module_constants(module: cst.Module) -> dict[str, float]:
    """Module-level names bound exactly once to a numeric literal (``LR = 3e-4``)."""
    seen: dict[str, list[cst.BaseExpression]] = {}
    for stmt in module.body:
        if type(stmt) is cst.SimpleStatementLine:
            for small in stmt.body:
                if type(small) is cst.Assign and len(small.targets) == 1:
                    target = small.targets[0].target
                    if type(target) is cst.Name:
                        seen.setdefault(target.value, []).append(small.value)
                elif (
                    type(small) is cst.AnnAssign
                    and type(small.target) is cst.Name
                    and small.value
                ):
                    seen.setdefault(small.target.value, []).append(small.value)
    constants = {}
    for name, values in seen.items():
        if len(values) == 1:
            value = number(values[0])
            if value is not None:
                constants[name] = value
    return constants


def cached_fact(source, key: str, compute):
    """Compute a per-file fact once, however many rules of a family ask for it."""
    store = source.__dict__.setdefault("_code_facts", {})
    if key not in store:
        store[key] = compute()
    return store[key]


def classes_of(source) -> list[cst.ClassDef]:
    """Every ``class`` statement of the file, in source order, found once per file."""
    return source.definitions[0]


def imports_of(source):
    """The file's import map, built once for all the code rules."""
    from gradlint.names import ImportMap

    return cached_fact(source, "imports", lambda: ImportMap(source.module))


def defines_forward(text: str) -> bool:
    return NEEDS_FORWARD.matches(text)


def mentions(source, *words: str) -> bool:
    """A cheap text filter in front of the analyses: most files of a tree train nothing."""
    return any(word in source.text for word in words)
