"""Loss terms turned into Python numbers before they are added to the loss that ``backward``
is called on: the network behind such a term never gets a gradient from it.

``loss_adv = criterion(net_d(fake), valid).item()`` then ``loss = loss_rec + w * loss_adv``:
the adversarial term moves the value of ``loss`` and nothing else. A number used as a weight
of a live term (``(l1 / l2).item() * l2``) is a weight on purpose and is left alone.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import libcst as cst

from gradlint.codefacts.syntax import cached_fact, imports_of, iter_functions, method_call, walk
from gradlint.names import dotted
from gradlint.source import SourceFile

_BACKWARD = re.compile(r"backward\s*\(")


@dataclass
class NumberTerm:
    name: str  # the local holding the number
    node: cst.Call  # the .item() / float() call
    spelling: str  # "item" or "float"
    backward: cst.Call  # the backward call of the loss it is added to


def number_terms(source: SourceFile) -> list[NumberTerm]:
    def compute() -> list[NumberTerm]:
        if "backward" not in source.text:
            return []  # a term is one only where a .backward() call sums it
        imports = imports_of(source)
        found: list[NumberTerm] = []
        for func, _ in iter_functions(source.module):
            text = source.function_text(func)
            if text is None or (_BACKWARD.search(text) and ("item(" in text or "float(" in text)):
                found.extend(_in_function(func, imports))
        return found

    return cached_fact(source, "number_terms", compute)


def _to_number(value: cst.BaseExpression, imports) -> tuple[cst.Call, str] | None:
    """``<tensor expression>.item()`` or ``float(<tensor expression>)`` of a computation."""
    if type(value) is not cst.Call:
        return None
    found = method_call(value)
    if found is not None and found[1] == "item" and not value.args:
        inner = found[0]
        spelling = "item"
    elif imports.qualify(value.func) == "float" and len(value.args) == 1:
        inner = value.args[0].value
        spelling = "float"
    else:
        return None
    if any(type(n) is cst.Call for n in walk(inner)):
        return value, spelling
    return None


def _in_function(func: cst.FunctionDef, imports) -> list[NumberTerm]:
    numbers: dict[str, tuple[cst.Call, str]] = {}
    tensors: set[str] = set()  # locals computed by calls: live terms
    sums: dict[str, list[cst.BaseExpression]] = {}  # what each local is assigned or added
    backwards: list[tuple[str, cst.Call]] = []
    for node in walk(func):
        if type(node) is cst.Assign and len(node.targets) == 1:
            name = dotted(node.targets[0].target)
            if name is None:
                continue
            number = _to_number(node.value, imports)
            if number is not None:
                numbers[name] = number
            elif any(type(n) is cst.Call for n in walk(node.value)):
                tensors.add(name)
            sums.setdefault(name, []).append(node.value)
        elif type(node) is cst.AugAssign and type(node.operator) in (cst.AddAssign, cst.SubtractAssign):
            name = dotted(node.target)
            if name is not None:
                sums.setdefault(name, []).append(node.value)
        elif type(node) is cst.Call:
            found = method_call(node)
            if found is not None and found[1] == "backward":
                target = dotted(found[0])
                if target is not None:
                    backwards.append((target, node))
    tensors -= set(numbers)
    terms: list[NumberTerm] = []
    for target, call in backwards:
        if target in numbers:
            continue
        for name in _summands(target, sums, numbers, tensors):
            node, spelling = numbers[name]
            terms.append(NumberTerm(name, node, spelling, call))
    return terms


def _summands(target: str, sums: dict, numbers: dict, tensors: set[str]) -> list[str]:
    """Number locals added (not multiplied into a live term) to ``target``, through the
    locals it is built from."""
    found: list[str] = []
    seen: set[str] = set()
    stack = [target]
    while stack:
        name = stack.pop()
        if name in seen:
            continue
        seen.add(name)
        for value in sums.get(name, []):
            for term in _additive_terms(value):
                names = [dotted(n) for n in walk(term) if type(n) in (cst.Name, cst.Attribute)]
                names = [n for n in names if n is not None]
                held = [n for n in names if n in numbers]
                live = [n for n in names if n in tensors]
                if held and not live and not any(type(n) is cst.Call for n in walk(term)):
                    found.extend(n for n in held if n not in found)
                stack.extend(n for n in names if n in sums and n not in numbers)
    return found


def _additive_terms(expr: cst.BaseExpression) -> list[cst.BaseExpression]:
    if type(expr) is cst.BinaryOperation and type(expr.operator) in (cst.Add, cst.Subtract):
        return _additive_terms(expr.left) + _additive_terms(expr.right)
    return [expr]
