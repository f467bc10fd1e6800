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

from dataclasses import dataclass, field

import libcst as cst

from gradlint import torch_api
from gradlint.codefacts.syntax import (
    argument,
    cached_fact,
    children,
    function_params,
    imports_of,
    iter_classes,
    iter_functions,
    method_call,
    methods,
    positional,
    walk,
)
from gradlint.names import ImportMap, canonical_torch, dotted

EVERYTHING = "*"  # an unresolved source or reach: overlaps every part
# methods whose receiver is certainly a module: evidence that ``root.attr`` is a submodule
MODULE_METHODS = frozenset(
    {"parameters", "named_parameters", "requires_grad_", "modules", "children", "state_dict",
     "load_state_dict", "zero_grad"}
)
PARAMETER_ITERATORS = frozenset({"parameters", "named_parameters"})
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


@dataclass
class _ClassInfo:
    submodules: set[str] = field(default_factory=set)  # attributes that hold modules/params
    forward_parts: set[str] = field(default_factory=set)  # of those, the ones forward uses


def _overlaps(a: str, b: str) -> bool:
    if EVERYTHING in (a, b):
        return True
    return a == b or a.startswith(b + ".") or b.startswith(a + ".")


def _root(name: str) -> str:
    head, _, rest = name.partition(".")
    if head == "self" and rest:
        return "self." + rest.partition(".")[0]
    return head


class _Unit:
    """One function: its bindings in textual order, and the class attributes it may read."""

    def __init__(self, func, owner, scope) -> None:
        self.func = func
        self.owner = owner
        self.scope = scope
        self.imports: ImportMap = scope.imports
        self.order: dict[int, int] = {}
        self.assigned: dict[str, list[tuple[int, cst.BaseExpression, bool]]] = {}
        self.no_grad: set[int] = set()  # ids of statements run under no_grad
        self.appended: dict[str, list[cst.BaseExpression]] = {}
        self._index(func.body, False)

    def _index(self, node: cst.CSTNode, quiet: bool) -> None:
        stack = [(node, quiet)]
        count = 0
        while stack:
            current, silent = stack.pop()
            count += 1
            self.order[id(current)] = count
            if silent:
                self.no_grad.add(id(current))
            if isinstance(current, (cst.FunctionDef, cst.ClassDef, cst.Lambda)):
                continue  # nested definitions bind their own names
            inner = silent
            if isinstance(current, cst.With) and any(
                isinstance(item.item, cst.Call)
                and torch_api.no_grad_context(
                    canonical_torch(self.imports.qualify(item.item.func))
                )
                for item in current.items
            ):
                inner = True
            self._record(current)
            stack.extend((child, inner) for child in reversed(list(children(current))))

    def _record(self, node: cst.CSTNode) -> None:
        if isinstance(node, cst.Assign):
            for target in node.targets:
                self._bind(target.target, node.value, node, False)
        elif isinstance(node, cst.AnnAssign) and node.value is not None:
            self._bind(node.target, node.value, node, False)
        elif isinstance(node, cst.AugAssign):
            self._bind(node.target, node.value, node, True)
        elif isinstance(node, cst.Call):
            found = method_call(node)
            if found and found[1] in ("append", "extend", "add_param_group", "insert"):
                name = dotted(found[0])
                if name and node.args:
                    self.appended.setdefault(name, []).append(node.args[-1].value)

    def _bind(self, target, value, node, augmented: bool) -> None:
        if isinstance(target, (cst.Tuple, cst.List)):
            for element in target.elements:
                name = dotted(element.value)
                if name:
                    # one of several unpacked values: its own part is not known
                    self.assigned.setdefault(name, []).append((id(node), value, True))
            return
        name = dotted(target)
        if name:
            self.assigned.setdefault(name, []).append((id(node), value, augmented))

    def values(self, name: str, before: cst.CSTNode | None) -> list[cst.BaseExpression] | None:
        """The expressions ``name`` holds at ``before``: the last plain assignment that
        precedes it and the augmented ones after it; all of them when none precedes."""
        found = self.assigned.get(name)
        if found is None:
            return self.scope.attribute_values(self.owner, name) if name.startswith(
                "self."
            ) else None
        limit = self.order.get(id(before), 0) if before is not None else 0
        earlier = [f for f in found if self.order.get(f[0], 0) < limit] if limit else []
        if not earlier:
            return [value for _, value, _ in found]
        chosen: list[cst.BaseExpression] = []
        for _, value, augmented in reversed(earlier):
            chosen.append(value)
            if not augmented:
                break
        return chosen


def _freeze_target(node: cst.CSTNode) -> str | None:
    """The dotted object a freeze acts on ("" when not a plain name); None: no freeze."""
    if isinstance(node, cst.Call):
        found = method_call(node)
        if found and found[1] == "requires_grad_":
            flag = argument(node, 0, "requires_grad")
            if isinstance(flag, cst.Name) and flag.value == "False":
                return dotted(found[0]) or ""
    elif isinstance(node, cst.Assign) and (
        isinstance(node.value, cst.Name) and node.value.value == "False"
    ):
        for target in node.targets:
            name = dotted(target.target) or ""
            if name.endswith(".requires_grad"):
                return name.rsplit(".", 1)[0]
    return None


def _iterated(expr: cst.BaseExpression) -> set[str]:
    """The objects a loop's parameters or modules come from."""
    if isinstance(expr, cst.Call):
        found = method_call(expr)
        if found and dotted(found[0]) and found[1] in (
            *PARAMETER_ITERATORS, "children", "modules", "named_children", "named_modules"
        ):
            return {dotted(found[0])}
    if isinstance(expr, (cst.List, cst.Tuple)):
        names = {dotted(e.value) for e in expr.elements}
        if None not in names:
            return names
    return {EVERYTHING}


class _Scope:
    def __init__(self, module: cst.Module, imports: ImportMap) -> None:
        self.module = module
        self.imports = imports
        self.classes: dict[str, cst.ClassDef] = {c.name.value: c for c in iter_classes(module)}
        self.infos: dict[str, _ClassInfo] = {}
        self.attributes: dict[str, dict[str, list[cst.BaseExpression]]] = {}
        self.evidence: set[str] = set()  # dotted receivers of module-only methods
        self.frozen: set[str] = set()
        for node in walk(module):
            if isinstance(node, cst.Call):
                found = method_call(node)
                receiver = dotted(found[0]) if found else None
                if found and found[1] in MODULE_METHODS and receiver:
                    self.evidence.add(receiver)
        self._freezes(module)
        self.method_names: set[str] = set()
        self.submodule_names: set[str] = set()
        for cls in self.classes.values():
            values: dict[str, list[cst.BaseExpression]] = {}
            for method in methods(cls).values():
                self.method_names.add(method.name.value)
                for node in walk(method):
                    if isinstance(node, cst.Assign):
                        for target in node.targets:
                            name = dotted(target.target)
                            if name and name.startswith("self."):
                                values.setdefault(name, []).append(node.value)
            self.attributes[cls.name.value] = values
        for cls in self.classes.values():
            self.submodule_names |= self.info(cls.name.value).submodules

    def _freezes(self, module: cst.Module) -> None:
        """What the file freezes: ``X.requires_grad_(False)``, ``X.weight.requires_grad =
        False``, and either of them on the variable of ``for p in X.parameters()`` (or of a
        loop over a list of modules); a freeze whose object is not resolved freezes all."""
        done: set[int] = set()
        for loop in walk(module):
            if not isinstance(loop, cst.For):
                continue
            variables = {dotted(e.value) for e in getattr(loop.target, "elements", [])}
            variables |= {dotted(loop.target)}
            sites = [n for n in walk(loop.body) if _freeze_target(n) is not None]
            sites = [n for n in sites if _root(_freeze_target(n) or "") in variables]
            if not sites:
                continue
            done |= {id(n) for n in sites}
            self.frozen |= _iterated(loop.iter)
        for node in walk(module):
            if id(node) not in done:
                target = _freeze_target(node)
                if target is not None:
                    self.frozen.add(target or EVERYTHING)

    def attribute_values(self, owner: str | None, name: str) -> list[cst.BaseExpression] | None:
        if owner is None:
            return None
        return self.attributes.get(owner, {}).get(name)

    def class_named(self, expr: cst.BaseExpression) -> str | None:
        while isinstance(expr, cst.Call):
            found = method_call(expr)
            if found and found[1] in torch_api.names("tensors.pass_through_methods"):
                expr = found[0]
                continue
            name = dotted(expr.func)
            return name if name in self.classes else None
        return None

    def info(self, cls_name: str) -> _ClassInfo:
        if cls_name in self.infos:
            return self.infos[cls_name]
        info = self.infos[cls_name] = _ClassInfo()
        cls = self.classes[cls_name]
        own = methods(cls)
        init = own.get("__init__")
        if init is None or "forward" not in own:
            return info
        for node in walk(init):
            if not (isinstance(node, cst.Assign) and isinstance(node.value, cst.Call)):
                continue
            made = canonical_torch(self.imports.qualify(node.value.func)) or ""
            module_like = (
                made.startswith("torch.nn.") and made.rsplit(".", 1)[-1][:1].isupper()
            ) or made in self.classes
            if not module_like:
                continue
            for target in node.targets:
                name = dotted(target.target)
                if name and name.count(".") == 1 and name.startswith("self."):
                    info.submodules.add(name.split(".", 1)[1])
        used: set[str] = set()
        seen: set[str] = set()
        pending = ["forward"]
        while pending:
            name = pending.pop()
            if name in seen or name not in own:
                continue
            seen.add(name)
            for node in walk(own[name]):
                if isinstance(node, cst.Attribute) and dotted(node.value) == "self":
                    attr = node.attr.value
                    if attr in own:
                        pending.append(attr)
                    else:
                        used.add(attr)
        info.forward_parts = info.submodules & used
        return info


def missed_parts(source) -> list[MissedParts]:
    def compute() -> list[MissedParts]:
        scope = _Scope(source.module, imports_of(source))
        found: list[MissedParts] = []
        for func, owner in iter_functions(source.module):
            unit = _Unit(func, owner.name.value if owner is not None else None, scope)
            found.extend(_judge(unit))
        return found

    return cached_fact(source, "optimiser_missed_parts", compute)


# -- what an optimiser holds -----------------------------------------------------------


def _optimisers(unit: _Unit) -> dict[str, cst.Call]:
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


def _is_optimiser(unit: _Unit, value: cst.BaseExpression) -> bool:
    return isinstance(value, cst.Call) and torch_api.optimiser_class(
        canonical_torch(unit.imports.qualify(value.func))
    )


def _holds(unit: _Unit, name: str, call: cst.Call) -> set[str]:
    params = argument(call, 0, "params")
    held = _sources(unit, params, call, set()) if params is not None else {EVERYTHING}
    for extra in unit.appended.get(name, []):
        held |= _sources(unit, extra, extra, set())
    return held


def _sources(unit: _Unit, expr, at, seen: set[int]) -> set[str]:
    """The dotted objects whose parameters ``expr`` yields ({EVERYTHING} when unknown)."""
    if id(expr) in seen:
        return set()
    seen = seen | {id(expr)}
    if isinstance(expr, cst.Call):
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
    if isinstance(expr, (cst.List, cst.Tuple, cst.Set)):
        held = set()
        for element in expr.elements:
            held |= _sources(unit, element.value, at, seen)
        return held
    if isinstance(expr, cst.Dict):
        for element in expr.elements:
            if (
                isinstance(element, cst.DictElement)
                and isinstance(element.key, cst.SimpleString)
                and element.key.evaluated_value == "params"
            ):
                return _sources(unit, element.value, at, seen)
        return {EVERYTHING}
    if isinstance(expr, cst.BinaryOperation) and isinstance(expr.operator, cst.Add):
        return _sources(unit, expr.left, at, seen) | _sources(unit, expr.right, at, seen)
    if isinstance(expr, cst.IfExp):
        return _sources(unit, expr.body, at, seen) | _sources(unit, expr.orelse, at, seen)
    if isinstance(expr, (cst.ListComp, cst.GeneratorExp, cst.SetComp)):
        return _sources(unit, expr.for_in.iter, at, seen)
    name = dotted(expr)
    if name is None:
        return {EVERYTHING}
    values = unit.values(name, at)
    if values is None:
        # a Parameter attribute handed to the optimiser by itself (``[model.alpha]``), of a
        # model bound here: a loop variable's attribute (``v.bias``) is not resolved
        root = _root(name)
        bound = root != name and unit.values(root, None) is not None
        return {name} if bound else {EVERYTHING}
    held = set()
    for value in values:
        held |= _sources(unit, value, value, seen)
    for extra in unit.appended.get(name, []):
        held |= _sources(unit, extra, extra, seen)
    return held


# -- which losses each optimiser steps ---------------------------------------------------


def _steps(unit: _Unit, optimisers: dict[str, cst.Call]) -> dict[str, list[cst.BaseExpression]]:
    """Optimiser -> the loss expressions backwarded since the step before it."""
    stepped: dict[str, list[cst.BaseExpression]] = {}
    pending: list[cst.BaseExpression] = []
    after_step = False
    calls = [n for n in walk(unit.func.body) if isinstance(n, cst.Call)]
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
    if isinstance(expr, cst.Call):
        found = method_call(expr)
        if found and found[1] == "scale" and expr.args:
            return expr.args[0].value
    return expr


# -- which parts a loss reaches ------------------------------------------------------------


def _reach(unit: _Unit, expr, roots: set[str], seen: set[int]) -> set[str]:
    """Parts (dotted, under ``roots``) whose parameters the value of ``expr`` depends on."""
    if id(expr) in seen or id(expr) in unit.no_grad:
        return set()
    seen.add(id(expr))
    reached: set[str] = set()
    if isinstance(expr, cst.Call):
        found = method_call(expr)
        if found and (
            found[1] in torch_api.names("tensors.detach_methods")
            or found[1] in torch_api.names("tensors.to_python_methods")
        ):
            return set()
        callee = dotted(expr.func)
        if callee is not None and _root(callee) in roots:
            reached |= _parts_called(unit, callee)
        else:
            if found:
                reached |= _reach(unit, found[0], roots, seen)
            for arg in expr.args:
                name = dotted(arg.value)
                if name is not None and _root(name) in roots:
                    reached.add(EVERYTHING)  # the model handed to a helper that is not read
        for arg in expr.args:
            reached |= _reach(unit, arg.value, roots, seen)
        return reached
    if isinstance(expr, cst.Attribute) and expr.attr.value == "data":
        return set()
    name = dotted(expr) if isinstance(expr, (cst.Name, cst.Attribute)) else None
    if name is not None:
        values = unit.values(name, expr)
        if values is None and isinstance(expr, cst.Attribute):
            return _reach(unit, expr.value, roots, seen)
        for value in values or []:
            if id(value) not in unit.no_grad:
                reached |= _reach(unit, value, roots, seen)
        return reached
    for child in children(expr):
        reached |= _reach(unit, child, roots, seen)
    return reached


def _parts_called(unit: _Unit, callee: str) -> set[str]:
    """``model.decoder`` for ``model.decoder(...)``; ``model(...)`` expanded by its class."""
    root = _root(callee)
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


def _class_of(unit: _Unit, root: str) -> str | None:
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


def _module_roots(unit: _Unit) -> set[str]:
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
        elif isinstance(value, cst.Call):
            made = canonical_torch(unit.imports.qualify(value.func)) or ""
            layer = made.rsplit(".", 1)[-1] if made.startswith("torch.nn.") else ""
            quiet = torch_api.parameterless_modules()
            if layer in torch_api.layers() and layer not in quiet and made not in quiet:
                found.add(name)
    return found


# -- the verdict ---------------------------------------------------------------------------


def _judge(unit: _Unit) -> list[MissedParts]:
    optimisers = _optimisers(unit)
    if not optimisers:
        return []
    stepped = _steps(unit, optimisers)
    if not stepped:
        return []
    holds = {name: _holds(unit, name, call) for name, call in optimisers.items()}
    roots = {_root(s) for held in holds.values() for s in held if s != EVERYTHING}
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
            if any(_overlaps(part, h) for h in held) or any(_overlaps(part, f) for f in frozen):
                continue
            # stepped by another optimiser on a loss that reaches it: trained there
            if any(
                other != name
                and any(_overlaps(part, h) for h in holds[other])
                and any(_overlaps(part, r) for r in reach.get(other, set()))
                for other in holds
            ):
                continue
            if any(
                other != name
                and other not in stepped
                and any(_overlaps(part, h) for h in holds[other])
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
