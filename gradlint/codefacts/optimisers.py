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
        if not isinstance(node, cst.Call):
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
                elif isinstance(arg.value, cst.Call):
                    rescheduled.add(f"<call {id(arg.value)}>")
    rates: list[LiteralRate] = []
    assigned = _assignments(module)
    for call, parent in builds:
        if f"<call {id(call)}>" in rescheduled or assigned.get(id(call), set()) & rescheduled:
            continue
        optimiser = (canonical_torch(imports.qualify(call.func)) or "").rsplit(".", 1)[-1]
        for expr in _rate_expressions(call):
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
        if isinstance(node, cst.Assign) and isinstance(node.value, cst.Call):
            names = {dotted(t.target) for t in node.targets} - {None}
            found.setdefault(id(node.value), set()).update(names)
    return found


def _rate_expressions(call: cst.Call) -> list[cst.BaseExpression]:
    found = []
    lr = argument(call, 1, "lr")
    if lr is not None:
        found.append(lr)
    groups = argument(call, 0, "params")
    if isinstance(groups, (cst.List, cst.Tuple)):
        for element in groups.elements:
            if isinstance(element.value, cst.Dict):
                for item in element.value.elements:
                    if (
                        isinstance(item, cst.DictElement)
                        and isinstance(item.key, cst.SimpleString)
                        and item.key.evaluated_value == "lr"
                    ):
                        found.append(item.value)
    return found
