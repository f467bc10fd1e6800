"""Submodules that a class keeps in a plain list, tuple or dict: a per-file fact.

``model.parameters()`` walks ``_modules`` and ``_parameters`` only; a module stored in a
plain Python container is invisible to it, so no optimiser built from it updates the
module. The analysis follows each method of a module class in source order: which local
names and attributes hold lists of constructed modules (comprehensions, literals,
``append``/``extend``, subscript stores, helpers that return such a list), and which of
those lists are later handed to a call (``nn.ModuleList(x)``, ``nn.Sequential(*x)``) or whose
elements are registered another way. No verdict: the GL701 rule words the finding.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import libcst as cst

from gradlint import torch_api
from gradlint.codefacts.modules import module_classes
from gradlint.codefacts.syntax import (
    cached_fact,
    children,
    function_params,
    imports_of,
    keyword,
    method_call,
    module_constants,
    number,
    positional,
)
from gradlint.names import canonical_torch, dotted
from gradlint.source import SourceFile

# builtins that read a list without keeping its modules anywhere torch would see them
_READERS = frozenset(
    {"len", "enumerate", "zip", "range", "print", "reversed", "sorted", "isinstance", "sum",
     "min", "max", "str", "any", "all", "iter", "next", "repr", "format", "type", "id"}
)
# what registers a module on its owner under a name
_REGISTERS = frozenset({"add_module", "register_module", "setattr", "register_parameter"})
_LIST_METHODS = frozenset({"append", "extend", "insert"})
_WRAPPERS = frozenset({"list", "tuple"})


@dataclass
class Held:
    """What one plain container holds: module type names, how many (None: unknown, built in
    a loop) and their parameter count when literal sizes tell it."""

    kind: str  # "list", "tuple" or "dict"
    types: list[str] = field(default_factory=list)
    count: int | None = 0
    params: int | None = 0
    weak: bool = False  # some element's class is imported: called like a module to count
    wrapped: bool = False  # handed to a call, or its elements registered one by one
    element_names: set[str] = field(default_factory=set)

    def add(self, kind: str, times: int | None, params: int | None) -> None:
        if kind not in self.types:
            self.types.append(kind)
        self.count = None if self.count is None or times is None else self.count + times
        if self.params is not None:
            self.params = None if params is None or times is None else self.params + params * times


@dataclass
class PlainContainer:
    """``cls``.``attr`` is a plain container of modules, stored by ``node``."""

    node: cst.CSTNode
    cls: str
    attr: str
    held: Held


def _int(expr: cst.BaseExpression | None, constants: dict[str, float]) -> int | None:
    value = None if expr is None else number(expr, constants)
    return int(value) if value is not None and value == int(value) else None


def _parameter_count(short: str, call: cst.Call, constants: dict[str, float]) -> int | None:
    """Parameters of a torch layer whose sizes are literal; None when not simple to tell."""
    args = positional(call)
    sizes = [_int(a, constants) for a in args[:3]]
    bias = keyword(call, "bias")
    with_bias = not (type(bias) is cst.Name and bias.value == "False")
    if short == "Linear" and len(args) >= 2 and None not in sizes[:2]:
        return sizes[0] * sizes[1] + (sizes[1] if with_bias else 0)
    if short in ("Conv1d", "Conv2d", "Conv3d") and len(args) >= 3 and None not in sizes:
        dims = int(short[4])
        return sizes[1] * sizes[0] * sizes[2] ** dims + (sizes[1] if with_bias else 0)
    if short == "Embedding" and len(args) >= 2 and None not in sizes[:2]:
        return sizes[0] * sizes[1]
    if short in ("LayerNorm", "BatchNorm1d", "BatchNorm2d", "GroupNorm") and args:
        width = _int(args[-1] if short == "GroupNorm" else args[0], constants)
        return None if width is None else 2 * width
    return None


class _Scan:
    """One class: its methods read in source order."""

    def __init__(self, source: SourceFile, local: set[str], helpers: dict) -> None:
        self.imports = imports_of(source)
        self.constants = cached_fact(source, "constants", lambda: module_constants(source.module))
        self.local = local  # module classes of the file
        self.helpers = helpers  # name -> FunctionDef: methods and top-level functions
        self.stored: dict[str, tuple[cst.CSTNode, Held]] = {}
        self.rebound: set[str] = set()  # attributes later bound to something else
        self.registered: set[str] = set()  # local names registered on self some other way

    # -- what an expression is ---------------------------------------------------------
    def module_type(self, expr: cst.BaseExpression, env: dict) -> tuple[str, int | None, bool] | None:
        """(type, parameters, weak) of a constructed module; None for anything else."""
        if type(expr) is cst.Name:
            found = env.get(expr.value)
            return found if isinstance(found, tuple) else None
        if type(expr) is not cst.Call:
            return None
        while (found := method_call(expr)) and found[1] in ("to", "cuda", "cpu", "float", "double"):
            if type(found[0]) is not cst.Call:
                return None
            expr = found[0]
        name = dotted(expr.func) or ""
        full = canonical_torch(self.imports.qualify(expr.func)) or ""
        short = full.rsplit(".", 1)[-1]
        if full.startswith("torch.nn.") and short[:1].isupper():
            if short in torch_api.parameterless_modules() or short in ("ModuleList", "ModuleDict"):
                return None  # nothing to train (or a container only its contents could be)
            return short, _parameter_count(short, expr, self.constants), False
        if name in self.local:
            return name, None, False
        if name[:1].isupper() and "." not in name and name in self.imports.aliases:
            return name, None, True  # an imported class: a module only if called like one
        return None

    def held(self, expr: cst.BaseExpression, env: dict, depth: int = 0) -> Held | None:
        """The plain container ``expr`` builds, when it holds (or is meant to hold) modules."""
        if type(expr) is cst.Call and dotted(expr.func) in _WRAPPERS and positional(expr):
            inner = self.held(positional(expr)[0], env, depth)
            if inner is not None:
                inner.kind = dotted(expr.func) or inner.kind
            return inner
        if type(expr) in (cst.ListComp, cst.GeneratorExp, cst.DictComp):
            element = expr.value if type(expr) is cst.DictComp else expr.elt
            found = self.module_type(element, env)
            if found is None:
                return None
            held = Held("dict" if type(expr) is cst.DictComp else "list", weak=found[2])
            times = self.times(expr.for_in)
            held.add(found[0], times, found[1])
            return held
        if type(expr) in (cst.List, cst.Tuple, cst.Dict):
            held = Held({cst.List: "list", cst.Tuple: "tuple", cst.Dict: "dict"}[type(expr)])
            for element in expr.elements:
                value = getattr(element, "value", None)
                found = None if value is None else self.module_type(value, env)
                if found is not None:
                    held.add(found[0], 1, found[1])
                    held.weak |= found[2]
                    if type(value) is cst.Name:
                        held.element_names.add(value.value)
            return held if held.types or not expr.elements else None
        if type(expr) is cst.Name and isinstance(env.get(expr.value), Held):
            return env[expr.value]
        if type(expr) is cst.Call and depth < 2:
            name = dotted(expr.func) or ""
            helper = self.helpers.get(name.removeprefix("self."))
            if helper is not None:
                return self.returned(helper, depth + 1)
        return None

    def times(self, for_in: cst.CompFor) -> int | None:
        if for_in.inner_for_in is not None or type(for_in.iter) is not cst.Call:
            return None
        if dotted(for_in.iter.func) != "range" or len(positional(for_in.iter)) != 1:
            return None
        return _int(positional(for_in.iter)[0], self.constants)

    def returned(self, func: cst.FunctionDef, depth: int) -> Held | None:
        env: dict = {}
        self.block(func, env, 1, depth)
        found = env.get("<return>")
        return found if isinstance(found, Held) and found.types and not found.wrapped else None

    # -- statements, in source order ----------------------------------------------------
    def method(self, func: cst.FunctionDef) -> None:
        env: dict = {}
        self.block(func, env, 1, 0)
        for _, held in self.stored.values():
            if held.element_names & self.registered:
                held.wrapped = True

    def block(self, node: cst.CSTNode, env: dict, times: int | None, depth: int) -> None:
        for child in children(node):
            self.visit(child, env, times, depth)

    def visit(self, node: cst.CSTNode, env: dict, times: int | None, depth: int) -> None:
        if type(node) is cst.For:
            self.reads(node.iter, env)
            self.registering_loop(node, env)
            count = None
            if type(node.iter) is cst.Call and dotted(node.iter.func) == "range":
                args = positional(node.iter)
                count = _int(args[0], self.constants) if len(args) == 1 else None
            inner = None if times is None or count is None else times * count
            self.block(node.body, env, inner, depth)
            if node.orelse is not None:
                self.block(node.orelse, env, times, depth)
            return
        if type(node) is cst.While:
            self.block(node, env, None, depth)
            return
        if type(node) is cst.Assign:
            for target in node.targets:
                self.bind(target.target, node.value, node, env, times)
            self.reads(node.value, env)
            return
        if type(node) is cst.AnnAssign and node.value is not None:
            self.bind(node.target, node.value, node, env, times)
            self.reads(node.value, env)
            return
        if type(node) is cst.AugAssign and type(node.operator) is cst.AddAssign:
            target = self.target_held(node.target, env)
            added = self.held(node.value, env)
            if target is not None and added is not None:
                for kind in added.types:
                    target.add(kind, None if times is None or added.count is None
                               else times * added.count, added.params)
                target.weak |= added.weak
                return
        if type(node) is cst.Return and node.value is not None:
            found = self.held(node.value, env, depth)
            if found is not None:
                env["<return>"] = found
            self.reads(node.value, env)
            return
        if type(node) is cst.Call:
            self.call(node, env, times)
            return
        self.block(node, env, times, depth)

    def bind(self, target, value, node, env: dict, times: int | None) -> None:
        found = self.held(value, env)
        name = dotted(target)
        if type(target) is cst.Subscript:
            held = self.target_held(target.value, env)
            element = self.module_type(value, env)
            if held is not None and element is not None:
                held.add(element[0], times, element[1])
                held.weak |= element[2]
                if type(value) is cst.Name:
                    held.element_names.add(value.value)
            return
        if name is None:
            return
        if name.startswith("self.") and name.count(".") == 1:
            attr = name[5:]
            if type(value) is cst.Name:
                self.registered.add(value.value)  # ``self.fc = layer``: registered by name
            if found is not None:
                self.stored.setdefault(attr, (node, found))
            elif attr in self.stored:
                self.rebound.add(attr)  # ``self.blocks = nn.ModuleList(self.blocks)``
        elif "." not in name:
            if found is not None:
                env[name] = found
            else:
                element = self.module_type(value, env)
                if element is not None:
                    env[name] = element
                else:
                    env.pop(name, None)

    def target_held(self, expr: cst.BaseExpression, env: dict) -> Held | None:
        name = dotted(expr) or ""
        if name.startswith("self.") and name[5:] in self.stored:
            return self.stored[name[5:]][1]
        found = env.get(name)
        return found if isinstance(found, Held) else None

    def call(self, node: cst.Call, env: dict, times: int | None) -> None:
        found = method_call(node)
        if found and found[1] in _LIST_METHODS:
            held = self.target_held(found[0], env)
            if held is not None:
                args = positional(node)
                value = args[-1] if args else None
                if found[1] == "extend" and value is not None:
                    added = self.held(value, env)
                    if added is not None:
                        for kind in added.types:
                            held.add(kind, None, added.params)
                        held.weak |= added.weak
                        return
                element = None if value is None else self.module_type(value, env)
                nested = None if value is None or element else self.held(value, env)
                if element is not None:
                    held.add(element[0], times, element[1])
                    held.weak |= element[2]
                    if type(value) is cst.Name:
                        held.element_names.add(value.value)
                elif nested is not None:  # ``self.hids.append([nn.Linear(h, h), nn.Tanh()])``
                    for kind in nested.types:
                        held.add(kind, None, nested.params)
                    held.weak |= nested.weak
                for arg in node.args:
                    self.visit(arg.value, env, times, 0)
                return
            args = positional(node)
            if args and type(args[-1]) is cst.Name and (dotted(found[0]) or "").startswith("self."):
                self.registered.add(args[-1].value)  # appended to an nn.ModuleList attribute
        callee = dotted(node.func) or ""
        short = callee.rsplit(".", 1)[-1]
        for arg in node.args:
            if short in _REGISTERS and type(arg.value) is cst.Name:
                self.registered.add(arg.value.value)
            if callee not in _READERS:
                held = self.target_held(arg.value, env)
                if held is not None:
                    held.wrapped = True  # nn.ModuleList(x), nn.Sequential(*x), helper(x)
            self.visit(arg.value, env, times, 0)
        self.visit(node.func, env, times, 0)

    def reads(self, expr: cst.CSTNode, env: dict) -> None:
        """Calls nested in an expression: a list handed to one is taken care of there."""
        self.visit(expr, env, None, 0)

    def registering_loop(self, node: cst.For, env: dict) -> None:
        """``for i, block in enumerate(blocks): self.add_module(str(i), block)``."""
        iterated = node.iter
        if type(iterated) is cst.Call and dotted(iterated.func) in ("enumerate", "zip"):
            args = positional(iterated)
            iterated = args[0] if args else iterated
        held = self.target_held(iterated, env)
        if held is None:
            return
        text = cst.Module(body=[]).code_for_node(node.body)
        if any(word + "(" in text for word in _REGISTERS) or ".append(" in text:
            held.wrapped = True


def _called_like_modules(cls_facts, attr: str) -> bool:
    """The container's elements are called outside ``__init__``: ``for b in self.x: h = b(h)``,
    ``self.x[i](h)``, ``self.x["k"](h)``."""
    pattern = re.compile(rf"self\.{attr}\[[^\]]*\]\(|for\s+(?:\w+\s*,\s*)?(\w+)\s+in\s+"
                         rf"(?:enumerate\(|zip\()?self\.{attr}\b")
    module = cst.Module(body=[])
    for name, func in cls_facts.methods.items():
        if name == "__init__":
            continue
        text = module.code_for_node(func)
        for match in pattern.finditer(text):
            if match.group(1) is None or re.search(rf"\b{match.group(1)}\(", text):
                return True
    return False


def plain_containers(source: SourceFile) -> list[PlainContainer]:
    def compute() -> list[PlainContainer]:
        classes = module_classes(source)
        local = {name for name, facts in classes.items() if facts.node.bases}
        functions = {
            stmt.name.value: stmt for stmt in source.module.body if type(stmt) is cst.FunctionDef
        }
        found = []
        for facts in classes.values():
            if not facts.node.bases:
                continue  # not an nn.Module: a plain object has no parameters() to miss
            scan = _Scan(source, local, {**functions, **facts.methods})
            for name, func in facts.methods.items():
                if name != "forward" and function_params(func):
                    scan.method(func)
            for attr, (node, held) in scan.stored.items():
                if attr in scan.rebound or held.wrapped or not held.types:
                    continue
                if held.weak and not _called_like_modules(facts, attr):
                    continue
                found.append(PlainContainer(node, facts.name, attr, held))
        return found

    return cached_fact(source, "plain_containers", compute)
