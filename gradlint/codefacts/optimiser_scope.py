"""The bindings GL704's analysis reads: one function's assignments in textual order (with
what runs under ``no_grad``), and the file's classes, their submodules, what their forward
uses, and what the file freezes. ``optimiser_cover`` judges with them."""

from __future__ import annotations

from dataclasses import dataclass, field

import libcst as cst

from gradlint import torch_api
from gradlint.codefacts.syntax import (
    argument,
    children,
    iter_classes,
    method_call,
    methods,
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


@dataclass
class ClassInfo:
    submodules: set[str] = field(default_factory=set)  # attributes that hold modules/params
    forward_parts: set[str] = field(default_factory=set)  # of those, the ones forward uses


def overlaps(a: str, b: str) -> bool:
    if EVERYTHING in (a, b):
        return True
    return a == b or a.startswith(b + ".") or b.startswith(a + ".")


def root_of(name: str) -> str:
    head, _, rest = name.partition(".")
    if head == "self" and rest:
        return "self." + rest.partition(".")[0]
    return head


class Unit:
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
            if type(current) in (cst.FunctionDef, cst.ClassDef, cst.Lambda):
                continue  # nested definitions bind their own names
            inner = silent
            if type(current) is cst.With and any(
                type(item.item) is cst.Call
                and torch_api.no_grad_context(
                    canonical_torch(self.imports.qualify(item.item.func))
                )
                for item in current.items
            ):
                inner = True
            self._record(current)
            stack.extend((child, inner) for child in reversed(list(children(current))))

    def _record(self, node: cst.CSTNode) -> None:
        if type(node) is cst.Assign:
            for target in node.targets:
                self._bind(target.target, node.value, node, False)
        elif type(node) is cst.AnnAssign and node.value is not None:
            self._bind(node.target, node.value, node, False)
        elif type(node) is cst.AugAssign:
            self._bind(node.target, node.value, node, True)
        elif type(node) is cst.Call:
            found = method_call(node)
            if found and found[1] in ("append", "extend", "add_param_group", "insert"):
                name = dotted(found[0])
                if name and node.args:
                    self.appended.setdefault(name, []).append(node.args[-1].value)

    def _bind(self, target, value, node, augmented: bool) -> None:
        if type(target) in (cst.Tuple, cst.List):
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
    if type(node) is cst.Call:
        found = method_call(node)
        if found and found[1] == "requires_grad_":
            flag = argument(node, 0, "requires_grad")
            if type(flag) is cst.Name and flag.value == "False":
                return dotted(found[0]) or ""
    elif type(node) is cst.Assign and (
        type(node.value) is cst.Name and node.value.value == "False"
    ):
        for target in node.targets:
            name = dotted(target.target) or ""
            if name.endswith(".requires_grad"):
                return name.rsplit(".", 1)[0]
    return None


def _iterated(expr: cst.BaseExpression) -> set[str]:
    """The objects a loop's parameters or modules come from."""
    if type(expr) is cst.Call:
        found = method_call(expr)
        if found and dotted(found[0]) and found[1] in (
            *PARAMETER_ITERATORS, "children", "modules", "named_children", "named_modules"
        ):
            return {dotted(found[0])}
    if type(expr) in (cst.List, cst.Tuple):
        names = {dotted(e.value) for e in expr.elements}
        if None not in names:
            return names
    return {EVERYTHING}


class Scope:
    def __init__(self, module: cst.Module, imports: ImportMap) -> None:
        self.module = module
        self.imports = imports
        self.classes: dict[str, cst.ClassDef] = {c.name.value: c for c in iter_classes(module)}
        self.infos: dict[str, ClassInfo] = {}
        self.attributes: dict[str, dict[str, list[cst.BaseExpression]]] = {}
        self.evidence: set[str] = set()  # dotted receivers of module-only methods
        self.frozen: set[str] = set()
        for node in walk(module):
            if type(node) is cst.Call:
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
                    if type(node) is cst.Assign:
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
            if type(loop) is not cst.For:
                continue
            variables = {dotted(e.value) for e in getattr(loop.target, "elements", [])}
            variables |= {dotted(loop.target)}
            sites = [n for n in walk(loop.body) if _freeze_target(n) is not None]
            sites = [n for n in sites if root_of(_freeze_target(n) or "") in variables]
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
        while type(expr) is cst.Call:
            found = method_call(expr)
            if found and found[1] in torch_api.names("tensors.pass_through_methods"):
                expr = found[0]
                continue
            name = dotted(expr.func)
            return name if name in self.classes else None
        return None

    def info(self, cls_name: str) -> ClassInfo:
        if cls_name in self.infos:
            return self.infos[cls_name]
        info = self.infos[cls_name] = ClassInfo()
        cls = self.classes[cls_name]
        own = methods(cls)
        init = own.get("__init__")
        if init is None or "forward" not in own:
            return info
        for node in walk(init):
            if not (type(node) is cst.Assign and type(node.value) is cst.Call):
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
                if type(node) is cst.Attribute and dotted(node.value) == "self":
                    attr = node.attr.value
                    if attr in own:
                        pending.append(attr)
                    else:
                        used.add(attr)
        info.forward_parts = info.submodules & used
        return info
