"""Hand-written parameter updates: which names are parameters, and which way an update moves them."""

from __future__ import annotations

import re

import libcst as cst

from gradlint.codefacts.syntax import argument, keyword, method_call, positional, walk
from gradlint.names import dotted

# A name read as a positive step size when it multiplies a gradient.
STEP_SIZE = re.compile(
    r"^(lr|learning_rate|eta|step_size|alpha|rate|step|gamma|lr_\w+|\w+_lr|\w+_rate)$",
    re.IGNORECASE,
)
SIGN_PRESERVING = frozenset({"sign", "clone", "detach", "data", "abs"})


_PARAMETER_NAMES: dict[int, tuple[cst.CSTNode, set[str]]] = {}


def parameter_names(func: cst.CSTNode) -> set[str]:
    """Cached by node: the event builder asks again for every call it follows."""
    cached = _PARAMETER_NAMES.get(id(func))
    if cached is not None and cached[0] is func:
        return cached[1]
    names = _parameter_names(func)
    if len(_PARAMETER_NAMES) > 4096:
        _PARAMETER_NAMES.clear()
    _PARAMETER_NAMES[id(func)] = (func, names)
    return names


def _parameter_names(func: cst.CSTNode) -> set[str]:
    """Loop variables that range over parameters: ``for p in model.parameters()``,
    ``for name, p in model.named_parameters()``, ``for p in group["params"]``,
    ``for p in params`` where ``params = list(model.parameters())``."""
    lists: set[str] = set()
    names: set[str] = set()
    for node in walk(func):
        if type(node) is cst.Assign and _is_parameter_source(node.value, lists):
            for target in node.targets:
                if type(target.target) is cst.Name:
                    lists.add(target.target.value)
    for node in walk(func):
        if type(node) is cst.Assign and _is_weight_tensor(node.value):
            for target in node.targets:
                if type(target.target) is cst.Name:
                    names.add(target.target.value)
        if type(node) is cst.For and _is_parameter_source(node.iter, lists):
            target = node.target
            if type(target) is cst.Tuple and target.elements:
                target = target.elements[-1].value
            if type(target) is cst.Name:
                names.add(target.value)
    return names


WEIGHT_FACTORIES = frozenset(
    {"randn", "rand", "zeros", "ones", "empty", "full", "normal", "tensor", "Parameter"}
)


def _is_weight_tensor(expr: cst.BaseExpression) -> bool:
    """``torch.randn(D, H, requires_grad=True)`` or ``nn.Parameter(...)``: a weight made by hand.

    Inputs made differentiable for an attack (``x.clone().requires_grad_()``) are not weights.
    """
    if type(expr) is not cst.Call:
        return False
    name = (dotted(expr.func) or "").rsplit(".", 1)[-1]
    if name == "Parameter":
        return True
    flag = keyword(expr, "requires_grad")
    return name in WEIGHT_FACTORIES and type(flag) is cst.Name and flag.value == "True"


def _is_parameter_source(expr: cst.BaseExpression, lists: set[str]) -> bool:
    if type(expr) is cst.Call:
        found = method_call(expr)
        if found and found[1] in ("parameters", "named_parameters"):
            return True
        name = dotted(expr.func)
        if name in ("list", "tuple", "enumerate", "zip") and positional(expr):
            return any(_is_parameter_source(a, lists) for a in positional(expr))
        return False
    if type(expr) is cst.Subscript:
        index = expr.slice[0].slice if expr.slice else None
        if type(index) is cst.Index and type(index.value) is cst.SimpleString:
            return index.value.evaluated_value == "params"
        return False
    if type(expr) is cst.Name:
        return expr.value in lists or expr.value in ("params", "parameters", "model_params")
    return False


def base_name(expr: cst.BaseExpression) -> str | None:
    """``p`` for ``p``, ``p.data``; the whole dotted name for ``model.fc.weight``."""
    name = dotted(expr)
    if name is None:
        return None
    name = name.removesuffix(".data")
    return name


def is_parameter(expr: cst.BaseExpression, params: set[str]) -> bool:
    name = base_name(expr)
    if name is None:
        return False
    return name in params or name.rsplit(".", 1)[-1] in ("weight", "bias")


def grad_sign(expr: cst.BaseExpression, owner: str) -> int | None:
    """+1 / -1: the sign with which ``owner.grad`` enters ``expr``; None when unknown or absent."""
    if _is_grad_of(expr, owner):
        return 1
    if type(expr) is cst.UnaryOperation and type(expr.operator) is cst.Minus:
        inner = grad_sign(expr.expression, owner)
        return -inner if inner is not None else None
    if type(expr) is cst.BinaryOperation:
        left, right = _mentions(expr.left, owner), _mentions(expr.right, owner)
        if left == right:
            return None
        op = expr.operator
        if type(op) is cst.Add:
            return grad_sign(expr.left if left else expr.right, owner)
        if type(op) is cst.Subtract:
            inner = grad_sign(expr.left if left else expr.right, owner)
            return None if inner is None else (inner if left else -inner)
        if type(op) in (cst.Multiply, cst.Divide):
            inner = grad_sign(expr.left if left else expr.right, owner)
            other = factor_sign(expr.right if left else expr.left)
            return None if inner is None or other is None else inner * other
        return None
    if type(expr) is cst.Call:
        found = method_call(expr)
        if found and found[1] in SIGN_PRESERVING and not expr.args:
            return grad_sign(found[0], owner)
        if dotted(expr.func) in ("torch.sign",) and positional(expr):
            return grad_sign(positional(expr)[0], owner)
    return None


def factor_sign(expr: cst.BaseExpression) -> int | None:
    """The sign of a step-size factor: literals, ``lr``-like names, their negations."""
    if type(expr) in (cst.Integer, cst.Float):
        value = float(expr.evaluated_value)
        return 1 if value > 0 else (-1 if value < 0 else None)
    if type(expr) is cst.UnaryOperation and type(expr.operator) is cst.Minus:
        inner = factor_sign(expr.expression)
        return -inner if inner is not None else None
    if type(expr) is cst.BinaryOperation and type(expr.operator) in (cst.Multiply, cst.Divide):
        a, b = factor_sign(expr.left), factor_sign(expr.right)
        return None if a is None or b is None else a * b
    if type(expr) in (cst.Name, cst.Attribute):
        last = expr.value if type(expr) is cst.Name else expr.attr.value
        return 1 if STEP_SIZE.match(last) else None
    if type(expr) is cst.Subscript:
        index = expr.slice[0].slice if expr.slice else None
        if type(index) is cst.Index and type(index.value) is cst.SimpleString:
            return 1 if STEP_SIZE.match(index.value.evaluated_value) else None
    return None


def _is_grad_of(expr: cst.BaseExpression, owner: str) -> bool:
    name = dotted(expr)
    return name is not None and name in (
        f"{owner}.grad",
        f"{owner}.grad.data",
        f"{owner}.data.grad",
    )


def _mentions(expr: cst.BaseExpression, owner: str) -> bool:
    return any(_is_grad_of(n, owner) for n in walk(expr) if isinstance(n, cst.BaseExpression))


def update_direction(node: cst.CSTNode, params: set[str]) -> tuple[int, cst.BaseExpression] | None:
    """(+1 ascent / -1 descent, the updated parameter) for a hand-written update of a parameter."""
    if type(node) is cst.AugAssign and is_parameter(node.target, params):
        owner = base_name(node.target)
        sign = grad_sign(node.value, owner)
        if sign is None:
            return None
        if type(node.operator) is cst.AddAssign:
            return sign, node.target
        if type(node.operator) is cst.SubtractAssign:
            return -sign, node.target
        return None
    if (
        type(node) is cst.Assign
        and len(node.targets) == 1
        and is_parameter(node.targets[0].target, params)
    ):
        owner = base_name(node.targets[0].target)
        value = node.value
        if type(value) is cst.BinaryOperation and base_name(value.left) == owner:
            sign = grad_sign(value, owner)
            if sign is not None:
                return sign, node.targets[0].target
        return None
    if type(node) is cst.Call:
        found = method_call(node)
        if found is None or found[1] not in ("add_", "sub_") or not is_parameter(found[0], params):
            return None
        owner = base_name(found[0])
        args = positional(node)
        alpha = keyword(node, "alpha")
        if len(args) == 2:  # the old add_(scalar, tensor) signature
            alpha, tensor = args
        else:
            tensor = argument(node, 0, "other")
        if tensor is None:
            return None
        sign = grad_sign(tensor, owner)
        if sign is None:
            return None
        if alpha is not None:
            alpha_sign = factor_sign(alpha)
            if alpha_sign is None:
                return None
            sign *= alpha_sign
        return (sign if found[1] == "add_" else -sign), found[0]
    return None
