"""Which parts of a model an optimiser holds, against the parts its losses send gradient to.

In one function (with the ``self.*`` attributes of its class), each optimiser built from
``torch.optim`` is resolved to the objects whose parameters it holds (``model.encoder`` for
``Adam(model.encoder.parameters())``, through lists, dicts of groups, ``chain``, ``filter``
and ``add_param_group``). Each ``step`` is paired with the losses backwarded since the steps
before it; each loss is traced back through the assignments to the module calls it is made of
(``model.decoder(...)``, or ``model(...)`` expanded by the file's own ``forward``). A part the
loss reaches that the optimiser does not hold, that no other optimiser holding it steps on a
loss reaching it, and that is not frozen (``requires_grad`` off, ``no_grad``, ``.detach()``)
gets a ``.grad`` every step that nothing applies.

Anything not resolved makes the analysis silent: an optimiser whose groups are not all
resolved is taken to hold everything, a loss traced into an unknown helper that receives the
model reaches everything, and a part whose root object is no optimiser's is not judged.
"""

from __future__ import annotations

from dataclasses import dataclass

import libcst as cst

from gradlint import torch_api
from gradlint.codefacts.optimiser_scope import (
    EVERYTHING,
    PARAMETER_ITERATORS,
    Scope,
    Unit,
    overlaps,
    root_of,
)
from gradlint.codefacts.syntax import (
    argument,
    cached_fact,
    children,
    function_params,
    imports_of,
    iter_functions,
    method_call,
    positional,
    walk,
)
from gradlint.names import canonical_torch, dotted

COMBINERS = frozenset({"list", "tuple", "chain", "itertools.chain", "filter", "set"})


@dataclass
class MissedParts:
    cls: str | None
    function: str
    optimiser: str  # the name it is bound to
    node: cst.Call  # the torch.optim construction
    holds: list[str]
    missed: list[str]  # parts the stepped losses reach that nothing steps
    losses: list[str]


def missed_parts(source) -> list[MissedParts]:
    def compute() -> list[MissedParts]:
        scope = Scope(source.module, imports_of(source))
        found: list[MissedParts] = []
        for func, owner in iter_functions(source.module):
            unit = Unit(func, owner.name.value if owner is not None else None, scope)
            found.extend(_judge(unit))
        return found

    return cached_fact(source, "optimiser_missed_parts", compute)


# -- what an optimiser holds -----------------------------------------------------------


def _optimisers(unit: Unit) -> dict[str, cst.Call]:
    built: dict[str, cst.Call] = {}
    for name, entries in unit.assigned.items():
        for _, value, _ in entries:
            if _is_optimiser(unit, value):
                built[name] = value
    if unit.owner is not None:
        for name, values in unit.scope.attributes.get(unit.owner, {}).items():
            for value in values:
                if name not in built and _is_optimiser(unit, value):
                    built[name] = value
    return built


def _is_optimiser(unit: Unit, value: cst.BaseExpression) -> bool:
    return type(value) is cst.Call and torch_api.optimiser_class(
        canonical_torch(unit.imports.qualify(value.func))
    )


def _holds(unit: Unit, name: str, call: cst.Call) -> set[str]:
    params = argument(call, 0, "params")
    held = _sources(unit, params, call, set()) if params is not None else {EVERYTHING}
    for extra in unit.appended.get(name, []):
        held |= _sources(unit, extra, extra, set())
    return held


def _sources(unit: Unit, expr, at, seen: set[int]) -> set[str]:
    """The dotted objects whose parameters ``expr`` yields ({EVERYTHING} when unknown)."""
    if id(expr) in seen:
        return set()
    seen = seen | {id(expr)}
    if type(expr) is cst.Call:
        found = method_call(expr)
        if found and found[1] in PARAMETER_ITERATORS:
            receiver = dotted(found[0])
            return {receiver} if receiver else {EVERYTHING}
        callee = unit.imports.qualify(expr.func) or ""
        if callee in COMBINERS or callee.rsplit(".", 1)[-1] in COMBINERS:
            args = positional(expr)
            if callee.endswith("filter"):
                args = args[1:]
            held: set[str] = set()
            for arg in args:
                held |= _sources(unit, arg, at, seen)
            return held or {EVERYTHING}
        return {EVERYTHING}
    if type(expr) in (cst.List, cst.Tuple, cst.Set):
        held = set()
        for element in expr.elements:
            held |= _sources(unit, element.value, at, seen)
        return held
    if type(expr) is cst.Dict:
        for element in expr.elements:
            if (
                type(element) is cst.DictElement
                and type(element.key) is cst.SimpleString
                and element.key.evaluated_value == "params"
            ):
                return _sources(unit, element.value, at, seen)
        return {EVERYTHING}
    if type(expr) is cst.BinaryOperation and type(expr.operator) is cst.Add:
        return _sources(unit, expr.left, at, seen) | _sources(unit, expr.right, at, seen)
    if type(expr) is cst.IfExp:
        return _sources(unit, expr.body, at, seen) | _sources(unit, expr.orelse, at, seen)
    if type(expr) in (cst.ListComp, cst.GeneratorExp, cst.SetComp):
        return _sources(unit, expr.for_in.iter, at, seen)
    name = dotted(expr)
    if name is None:
        return {EVERYTHING}
    values = unit.values(name, at)
    if values is None:
        # a Parameter attribute handed to the optimiser by itself (``[model.alpha]``), of a
        # model bound here: a loop variable's attribute (``v.bias``) is not resolved
        root = root_of(name)
        bound = root != name and unit.values(root, None) is not None
        return {name} if bound else {EVERYTHING}
    held = set()
    for value in values:
        held |= _sources(unit, value, value, seen)
    for extra in unit.appended.get(name, []):
        held |= _sources(unit, extra, extra, seen)
    return held


# -- which losses each optimiser steps ---------------------------------------------------


def _steps(unit: Unit, optimisers: dict[str, cst.Call]) -> dict[str, list[cst.BaseExpression]]:
    """Optimiser -> the loss expressions backwarded since the step before it."""
    stepped: dict[str, list[cst.BaseExpression]] = {}
    pending: list[cst.BaseExpression] = []
    after_step = False
    calls = [n for n in walk(unit.func.body) if type(n) is cst.Call]
    calls.sort(key=lambda n: unit.order.get(id(n), 0))
    for call in calls:
        found = method_call(call)
        qualified = canonical_torch(unit.imports.qualify(call.func)) or ""
        loss = None
        if found and found[1] == "backward":
            loss = _unscaled(found[0])
        elif qualified in torch_api.names("autograd.backward_functions") and call.args:
            loss = call.args[0].value
        if loss is not None:
            if after_step:
                pending, after_step = [], False
            pending.append(loss)
            continue
        if not found or found[1] != "step":
            continue
        target = dotted(found[0])
        if target not in optimisers:
            args = positional(call)  # scaler.step(optimizer)
            target = dotted(args[0]) if args else None
        if target in optimisers:
            stepped.setdefault(target, []).extend(pending)
            after_step = True
    return stepped


def _unscaled(expr: cst.BaseExpression) -> cst.BaseExpression:
    """``scaler.scale(loss)`` -> ``loss``."""
    if type(expr) is cst.Call:
        found = method_call(expr)
        if found and found[1] == "scale" and expr.args:
            return expr.args[0].value
    return expr


# -- which parts a loss reaches ------------------------------------------------------------


def _reach(unit: Unit, expr, roots: set[str], seen: set[int]) -> set[str]:
    """Parts (dotted, under ``roots``) whose parameters the value of ``expr`` depends on."""
    if id(expr) in seen or id(expr) in unit.no_grad:
        return set()
    seen.add(id(expr))
    reached: set[str] = set()
    if type(expr) is cst.Call:
        found = method_call(expr)
        if found and (
            found[1] in torch_api.names("tensors.detach_methods")
            or found[1] in torch_api.names("tensors.to_python_methods")
        ):
            return set()
        callee = dotted(expr.func)
        if callee is not None and root_of(callee) in roots:
            reached |= _parts_called(unit, callee)
        else:
            if found:
                reached |= _reach(unit, found[0], roots, seen)
            for arg in expr.args:
                name = dotted(arg.value)
                if name is not None and root_of(name) in roots:
                    reached.add(EVERYTHING)  # the model handed to a helper that is not read
        for arg in expr.args:
            reached |= _reach(unit, arg.value, roots, seen)
        return reached
    if type(expr) is cst.Attribute and expr.attr.value == "data":
        return set()
    name = dotted(expr) if type(expr) in (cst.Name, cst.Attribute) else None
    if name is not None:
        values = unit.values(name, expr)
        if values is None and type(expr) is cst.Attribute:
            return _reach(unit, expr.value, roots, seen)
        for value in values or []:
            if id(value) not in unit.no_grad:
                reached |= _reach(unit, value, roots, seen)
        return reached
    for child in children(expr):
        reached |= _reach(unit, child, roots, seen)
    return reached


def _parts_called(unit: Unit, callee: str) -> set[str]:
    """``model.decoder`` for ``model.decoder(...)``; ``model(...)`` expanded by its class."""
    root = root_of(callee)
    cls = _class_of(unit, root)
    rest = callee[len(root):].lstrip(".")
    if cls is None:
        if not rest:
            return {root}
        first = rest.split(".")[0]
        head = f"{root}.{first}"
        known = any(e == head or e.startswith(head + ".") for e in unit.scope.evidence) or (
            first in unit.scope.submodule_names and first not in unit.scope.method_names
        )
        return {head} if known else {EVERYTHING}
    info = unit.scope.info(cls)
    if not rest:
        if not info.submodules:
            return {root}
        return {f"{root}.{part}" for part in info.forward_parts} or {root}
    first = rest.split(".")[0]
    if first in info.submodules:
        return {f"{root}.{first}"}
    return {EVERYTHING}  # a method of the model: which parts it uses is not followed


def _class_of(unit: Unit, root: str) -> str | None:
    values = unit.values(root, None)
    if values is None:
        # a parameter annotated with a class of the file: ``def train(model: Net, ...)``
        for param in function_params(unit.func):
            if param.name.value == root and param.annotation is not None:
                name = dotted(param.annotation.annotation)
                return name if name in unit.scope.classes else None
        return None
    classes = {unit.scope.class_named(v) for v in values}
    return classes.pop() if len(classes) == 1 else None


def _module_roots(unit: Unit) -> set[str]:
    """Names bound here to a module with parameters: a class of the file with submodules,
    or a torch layer (a margin head, a loss with a classifier): judged even when no
    optimiser names them."""
    found = set()
    for name, entries in unit.assigned.items():
        if "." in name or len(entries) != 1 or entries[0][2]:
            continue
        value = entries[0][1]
        cls = unit.scope.class_named(value)
        if cls is not None and unit.scope.info(cls).submodules:
            found.add(name)
        elif type(value) is cst.Call:
            made = canonical_torch(unit.imports.qualify(value.func)) or ""
            layer = made.rsplit(".", 1)[-1] if made.startswith("torch.nn.") else ""
            quiet = torch_api.parameterless_modules()
            if layer in torch_api.layers() and layer not in quiet and made not in quiet:
                found.add(name)
    return found


# -- the verdict ---------------------------------------------------------------------------


def _judge(unit: Unit) -> list[MissedParts]:
    optimisers = _optimisers(unit)
    if not optimisers:
        return []
    stepped = _steps(unit, optimisers)
    if not stepped:
        return []
    holds = {name: _holds(unit, name, call) for name, call in optimisers.items()}
    roots = {root_of(s) for held in holds.values() for s in held if s != EVERYTHING}
    roots |= _module_roots(unit)
    reach: dict[str, set[str]] = {}
    for name, losses in stepped.items():
        reach[name] = set()
        for loss in losses:
            reach[name] |= _reach(unit, loss, roots, set())
        # a step whose loss is not traced may train anything: it covers every part
        reach[name] = reach[name] or {EVERYTHING}
    frozen = unit.scope.frozen
    found = []
    blamed: set[str] = set()  # a part missed by several optimisers: on the first one built
    order = sorted(reach, key=lambda n: unit.order.get(id(optimisers[n]), 0))
    for name in order:
        parts = reach[name]
        held = holds[name]
        if EVERYTHING in held or not stepped[name]:
            continue
        missed = []
        for part in sorted(parts - {EVERYTHING} - blamed):
            if any(overlaps(part, h) for h in held) or any(overlaps(part, f) for f in frozen):
                continue
            # stepped by another optimiser on a loss that reaches it: trained there
            if any(
                other != name
                and any(overlaps(part, h) for h in holds[other])
                and any(overlaps(part, r) for r in reach.get(other, set()))
                for other in holds
            ):
                continue
            if any(
                other != name
                and other not in stepped
                and any(overlaps(part, h) for h in holds[other])
                for other in holds
            ):
                continue  # held by an optimiser stepped elsewhere
            missed.append(part)
            blamed.add(part)
        if missed:
            found.append(
                MissedParts(
                    cls=unit.owner,
                    function=unit.func.name.value,
                    optimiser=name,
                    node=optimisers[name],
                    holds=sorted(held),
                    missed=missed,
                    losses=[dotted(loss) or "the loss" for loss in stepped[name]],
                )
            )
    return found
