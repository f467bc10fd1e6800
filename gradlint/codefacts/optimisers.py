"""Optimisers built in a file, their literal learning rates, and whether a schedule owns the rate."""

from __future__ import annotations

import re
from dataclasses import dataclass

import libcst as cst

from gradlint import torch_api
from gradlint.codefacts.syntax import argument, children, module_constants, number
from gradlint.names import ImportMap, canonical_torch, dotted

# Hand-written wrappers that set the rate each step (the Annotated Transformer's NoamOpt, ScheduledOptim).
WRAPPER_NAME = re.compile(r"noam|sched|warmup|wrapper", re.IGNORECASE)


@dataclass
class LiteralRate:
    optimiser: str  # the torch.optim class name
    expr: cst.BaseExpression
    value: float


def literal_rates(module: cst.Module, imports: ImportMap) -> list[LiteralRate]:
    constants = module_constants(module)
    builds: list[tuple[cst.Call, cst.CSTNode | None]] = []
    rescheduled: set[str] = set()
    stack: list[tuple[cst.CSTNode, cst.CSTNode | None]] = [(module, None)]
    while stack:
        node, parent = stack.pop()
        stack.extend((child, node) for child in children(node))
        if type(node) is not cst.Call:
            continue
        qualified = canonical_torch(imports.qualify(node.func)) or ""
        if torch_api.optimiser_class(qualified):
            builds.append((node, parent))
        elif qualified in torch_api.rescaling_schedulers() or WRAPPER_NAME.search(
            qualified.rsplit(".", 1)[-1]
        ):
            for arg in node.args:
                name = dotted(arg.value)
                if name is not None:
                    rescheduled.add(name)
                elif type(arg.value) is cst.Call:
                    rescheduled.add(f"<call {id(arg.value)}>")
    rates: list[LiteralRate] = []
    assigned = _assignments(module)
    by_hand = _rates_set_by_hand(module)
    for call, parent in builds:
        if f"<call {id(call)}>" in rescheduled or assigned.get(id(call), set()) & rescheduled:
            continue
        if {name.rsplit(".", 1)[-1] for name in assigned.get(id(call), set())} & by_hand:
            continue
        optimiser = (canonical_torch(imports.qualify(call.func)) or "").rsplit(".", 1)[-1]
        for expr in _rate_expressions(call, module):
            value = number(expr, constants)
            if value is not None:
                rates.append(LiteralRate(optimiser, expr, value))
    return rates


def _assignments(module: cst.Module) -> dict[int, set[str]]:
    """Call node id -> the names it is assigned to (``self.opt = Adam(...)``)."""
    found: dict[int, set[str]] = {}
    stack: list[cst.CSTNode] = [module]
    while stack:
        node = stack.pop()
        stack.extend(children(node))
        if type(node) is cst.Assign and type(node.value) is cst.Call:
            names = {dotted(t.target) for t in node.targets} - {None}
            found.setdefault(id(node.value), set()).update(names)
    return found


def _group_sets_rate(group: cst.BaseExpression) -> bool:
    if type(group) is cst.Dict:
        return any(
            type(e) is cst.DictElement and type(e.key) is cst.SimpleString
            and e.key.evaluated_value == "lr" for e in group.elements
        )
    if type(group) is cst.Call and dotted(group.func) == "dict":
        return any(a.keyword is not None and a.keyword.value == "lr" for a in group.args)
    return False


def _every_group_sets_its_rate(groups, module: cst.Module | None) -> bool:
    """``SGD([dict(params=head, lr=0.3), ...], 0)``: each group brings its own rate, so the
    constructor's is a placeholder. A named list is read where the file builds it (its
    literal and every ``.append``)."""
    if type(groups) in (cst.List, cst.Tuple):
        return bool(groups.elements) and all(_group_sets_rate(e.value) for e in groups.elements)
    name = dotted(groups) if groups is not None else None
    if name is None or module is None:
        return False
    built: list[cst.BaseExpression] = []
    stack: list[cst.CSTNode] = [module]
    while stack:
        node = stack.pop()
        stack.extend(children(node))
        if type(node) is cst.Assign and any(dotted(t.target) == name for t in node.targets):
            if type(node.value) not in (cst.List, cst.Tuple):
                return False
            built.extend(e.value for e in node.value.elements)
        elif (
            type(node) is cst.Call
            and type(node.func) is cst.Attribute
            and dotted(node.func.value) == name
            and node.func.attr.value in ("append", "extend", "insert")
        ):
            if node.func.attr.value != "append" or not node.args:
                return False
            built.append(node.args[-1].value)
    return bool(built) and all(_group_sets_rate(g) for g in built)


def _rates_set_by_hand(module: cst.Module) -> set[str]:
    """Last names of the optimisers whose groups get a new rate in a loop of the file:
    ``for g in optimizer.param_groups: g["lr"] = schedule[it]``, a hand-written schedule that
    owns the rate (the constructor's is a placeholder, often 0)."""
    owners: set[str] = set()
    stack: list[cst.CSTNode] = [module]
    while stack:
        node = stack.pop()
        stack.extend(children(node))
        if type(node) is not cst.For:
            continue
        groups = node.iter
        if type(groups) is cst.Call and groups.args:  # enumerate(opt.param_groups)
            groups = groups.args[0].value
        if not (type(groups) is cst.Attribute and groups.attr.value == "param_groups"):
            continue
        group = dotted(node.target)
        if type(node.target) is cst.Tuple and node.target.elements:
            group = dotted(node.target.elements[-1].value)
        if group is not None and _writes_rate(node.body, group):
            owner = dotted(groups.value)
            if owner is not None:
                owners.add(owner.rsplit(".", 1)[-1])
    return owners


def _writes_rate(body: cst.CSTNode, group: str) -> bool:
    stack: list[cst.CSTNode] = [body]
    while stack:
        node = stack.pop()
        stack.extend(children(node))
        if type(node) in (cst.Assign, cst.AugAssign):
            targets = [t.target for t in node.targets] if type(node) is cst.Assign else [node.target]
            for target in targets:
                if (
                    type(target) is cst.Subscript
                    and dotted(target.value) == group
                    and len(target.slice) == 1
                    and type(target.slice[0].slice) is cst.Index
                    and type(target.slice[0].slice.value) is cst.SimpleString
                    and target.slice[0].slice.value.evaluated_value == "lr"
                ):
                    return True
    return False


def _rate_expressions(call: cst.Call, module: cst.Module | None = None) -> list[cst.BaseExpression]:
    found = []
    lr = argument(call, 1, "lr")
    groups = argument(call, 0, "params")
    if lr is not None and not _every_group_sets_its_rate(groups, module):
        found.append(lr)
    if type(groups) in (cst.List, cst.Tuple):
        for element in groups.elements:
            if type(element.value) is cst.Dict:
                for item in element.value.elements:
                    if (
                        type(item) is cst.DictElement
                        and type(item.key) is cst.SimpleString
                        and item.key.evaluated_value == "lr"
                    ):
                        found.append(item.value)
    return found
