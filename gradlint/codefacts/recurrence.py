"""Recurrent models trained without gradient clipping: the model the file trains (built in
the file, or a class imported from another file of the tree), whether it recurs in time
(torch's recurrent layers, or a hand-written cell applied in a Python loop), and the
learning rate of its update.

Reads the event trees of ``loop_order.event_units``; returns causes, never messages.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

import libcst as cst

from gradlint import torch_api
from gradlint.codefacts.event_tree import Event, flatten, loops
from gradlint.codefacts.events import BACKWARD, CLIP, STEP
from gradlint.codefacts.loop_order import event_units
from gradlint.codefacts.optimisers import literal_rates
from gradlint.codefacts.syntax import (
    argument,
    cached_fact,
    imports_of,
    iter_classes,
    method_call,
    module_constants,
    number,
    walk,
)
from gradlint.names import dotted
from gradlint.source import SourceFile

MAX_RESOLVE = 4


@dataclass
class RecurrentRisk:
    step: cst.CSTNode  # the update that applies unclipped gradients
    optimiser: str  # the torch.optim class, or "manual" for a hand-written update
    rate: float
    recurrent: str  # what recurs, as the message names it
    steps: tuple[int, str] | None = None  # the depth in time, and the name the file gives it


def _recurrent_layer() -> re.Pattern:
    names = sorted(n for n, layer in torch_api.layers().items() if layer.op == "recurrent")
    return re.compile(rf"\b(?:{'|'.join(names)})\s*\(")


def recurrent_risks(source: SourceFile) -> list[RecurrentRisk]:
    def compute() -> list[RecurrentRisk]:
        units = event_units(source)
        every = [e for tree, _, _ in units for e in flatten(tree)]
        if any(e.kind == CLIP for e in every):
            return []
        steps = _training_steps(units)
        if not steps:
            return []
        recurrent = _recurrent_model(source)
        if recurrent is None:
            return []
        depth = depth_in_time(source.module)
        if depth is not None and depth[0] <= 1:
            return []  # one step in time: no product of recurrent Jacobians to grow
        risks = []
        for rate in literal_rates(source.module, imports_of(source)):
            risks.append(RecurrentRisk(steps[0].node, rate.optimiser, rate.value, recurrent, depth))
        for step in steps:
            if step.target == "manual":
                value = _manual_rate(step.node, source.module)
                if value is not None:
                    risks.append(RecurrentRisk(step.node, "manual", value, recurrent, depth))
        return risks

    return cached_fact(source, "recurrent_risks", compute)


# names a file gives the steps in time it backpropagates through (truncated BPTT's window)
TIME_NAMES = frozenset({
    "bptt", "seq_len", "seq_length", "sequence_length", "num_steps", "n_steps", "time_steps",
    "timesteps", "chunk_len", "chunk_length", "window_size", "look_back", "lookback",
})


def depth_in_time(module: cst.Module) -> tuple[int, str] | None:
    """The steps in time the file's sequences run: an argparse default (``--bptt 35``) or a
    number bound once to a name such as ``bptt``, ``seq_len`` or ``SEQ_LENGTH``; None when
    no such name, or when the file binds it to different numbers."""
    for name, value in sorted(_argparse_defaults(module).items()):
        if name.lower() in TIME_NAMES and _whole(value):
            return int(value), f"`--{name}` default"
    constants = module_constants(module)
    bound: dict[str, list[float | None]] = {}
    for node in walk(module):
        if type(node) is cst.Assign and len(node.targets) == 1:
            target = node.targets[0].target
            if type(target) is cst.Name and target.value.lower() in TIME_NAMES:
                bound.setdefault(target.value, []).append(number(node.value, constants))
    for name, values in sorted(bound.items()):
        value = values[0]
        if value is not None and all(v == value for v in values) and _whole(value):
            return int(value), f"`{name}`"
    return None


def _whole(value: float) -> bool:
    """A finite whole number (``1e999`` is neither a count nor an int())."""
    return math.isfinite(value) and value == int(value)


def _training_steps(units) -> list[Event]:
    """The steps of loops that also call backward."""
    found: list[Event] = []
    for tree, _, _ in units:
        for loop in loops(tree):
            events = flatten(loop.body)
            if any(e.kind == BACKWARD for e in events):
                found.extend(e for e in events if e.kind == STEP and e not in found)
    return found


def _recurrent_model(source: SourceFile) -> str | None:
    """How the model trained here recurs: a class of this file or one it imports."""
    layer = _recurrent_layer()
    own = {cls.name.value: cls for cls in iter_classes(source.module)}
    for cls in own.values():
        what = _recurs(cls, source.module.code_for_node(cls), layer)
        if what:
            return what
    imports = imports_of(source)
    resolver = source.resolver
    for node in walk(source.module):
        if type(node) is not cst.Call:
            continue
        qualified = imports.qualify(node.func) or ""
        module, _, name = qualified.rpartition(".")
        if qualified.startswith("torch") or not module or not name[:1].isupper():
            continue
        if resolver is None:
            continue
        other = resolver.imported_source(
            source.path, module, lambda text, n=name: f"class {n}" in text and layer.search(text)
        )
        if other is None:
            continue
        for cls in iter_classes(other.module):
            if cls.name.value == name:
                what = _recurs(cls, other.module.code_for_node(cls), layer)
                if what:
                    return what
    if layer.search(source.text):
        return "a recurrent layer"
    return None


def _recurs(cls: cst.ClassDef, text: str, layer: re.Pattern) -> str | None:
    found = layer.search(text)
    if found:
        return f"`{found.group(0).rstrip('( ')}` in {cls.name.value}"
    if any(type(node) is cst.For and _feeds_back(node) for node in walk(cls)):
        return f"a cell applied in a loop over time in {cls.name.value}"
    return None


def _feeds_back(loop: cst.For) -> bool:
    """``for t in range(x.size(0)): h = torch.tanh(self.w(x[t]) + self.u(h))``: a loop over time
    (its variable indexes an input, ``x[t]``, not a list of layers) in which a module computes a
    value from itself."""
    if type(loop.target) is not cst.Name:
        return False
    step = loop.target.value
    over_time = any(
        type(node) is cst.Subscript
        and type(node.value) is cst.Name
        and any(type(n) is cst.Name and n.value == step for n in walk(node.slice[0]) if node.slice)
        for node in walk(loop.body)
    )
    if not over_time:
        return False
    for node in walk(loop.body):
        if type(node) is not cst.Assign or len(node.targets) != 1:
            continue
        target = node.targets[0].target
        elements = target.elements if type(target) is cst.Tuple else []
        names = {dotted(e.value) for e in elements} if elements else {dotted(target)}
        names.discard(None)
        read = {n.value for n in walk(node.value) if type(n) is cst.Name}
        calls_module = any(
            type(n) is cst.Call and (dotted(n.func) or "").startswith("self.")
            for n in walk(node.value)
        )
        if calls_module and names & read:
            return True
    return False


def _manual_rate(node: cst.CSTNode, module: cst.Module) -> float | None:
    """``p.data.add_(p.grad, alpha=-lr)``, ``p.data -= lr * p.grad``: the rate's value."""
    if type(node) is cst.Call:
        found = method_call(node)
        expr = argument(node, 1, "alpha") if found else None
        if expr is None and node.args and type(node.args[0].value) in (cst.Integer, cst.Float, cst.UnaryOperation, cst.Name):
            expr = node.args[0].value  # the old add_(-lr, grad)
    elif type(node) in (cst.AugAssign, cst.Assign):
        expr = node.value
    else:
        return None
    if expr is None:
        return None
    values = [_resolve(e, module, 0) for e in [expr, *walk(expr)] if type(e) in (cst.Name, cst.Attribute, cst.Integer, cst.Float)]
    known = [abs(v) for v in values if v is not None]
    return max(known) if known else None


def _resolve(expr: cst.BaseExpression, module: cst.Module, depth: int) -> float | None:
    """A number, a module constant, a module-level name bound once, or ``args.NAME``'s
    argparse default."""
    value = number(expr, module_constants(module))
    if value is not None or depth >= MAX_RESOLVE:
        return value
    if type(expr) is cst.UnaryOperation:
        inner = _resolve(expr.expression, module, depth + 1)
        return None if inner is None else -inner
    if type(expr) is cst.Name:
        bound = [
            small.value
            for stmt in module.body
            if type(stmt) is cst.SimpleStatementLine
            for small in stmt.body
            if type(small) is cst.Assign
            and len(small.targets) == 1
            and dotted(small.targets[0].target) == expr.value
        ]
        return _resolve(bound[0], module, depth + 1) if len(bound) == 1 else None
    if type(expr) is cst.Attribute:
        return _argparse_defaults(module).get(expr.attr.value)
    return None


def _argparse_defaults(module: cst.Module) -> dict[str, float]:
    found: dict[str, float] = {}
    for node in walk(module):
        if type(node) is cst.Call and (method_call(node) or (None, ""))[1] == "add_argument":
            flag = node.args[0].value if node.args else None
            default = argument(node, 99, "default")
            if type(flag) is cst.SimpleString and default is not None:
                value = number(default)
                if value is not None:
                    found[str(flag.evaluated_value).lstrip("-").replace("-", "_")] = value
    return found
