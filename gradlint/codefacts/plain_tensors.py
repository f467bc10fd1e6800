"""Learnable tensors that are not parameters, and parameters made anew on every call.

Two per-file facts about module classes:

- ``plain_weights``: an attribute bound to a tensor (``torch.randn(...)``, ``Variable(...)``)
  that is meant to learn (``requires_grad=True``, an ``nn.init`` call, or a use in forward
  as the weight of a matmul, ``F.linear`` or a convolution) but is never an ``nn.Parameter``
  nor a buffer: ``model.parameters()`` does not list it.
- ``built_in_forward``: an ``nn.Parameter``, a tensor with ``requires_grad=True`` or a layer
  with parameters constructed in ``forward`` (or a method it calls) without being cached
  on first use: every call starts from a fresh, untrained value.

No verdict: the GL702 and GL703 rules word the findings.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import libcst as cst

from gradlint import torch_api
from gradlint.codefacts.modules import module_classes
from gradlint.codefacts.syntax import (
    cached_fact,
    children,
    imports_of,
    in_source_order,
    keyword,
    method_call,
)
from gradlint.names import canonical_torch, dotted
from gradlint.source import SourceFile

_FACTORIES = torch_api.tensor_factory_names() | torch_api.names("tensors.weight_inits")
_VARIABLE = torch_api.names("autograd.variable_classes")
_PARAMETER = torch_api.names("modules.parameter_classes")
_BUFFER = frozenset(n.rsplit(".", 1)[-1] for n in torch_api.names("modules.buffer_classes"))
# calls whose weight argument (first or second) is a learnable matrix, by their last name
_WEIGHT_CALLS = frozenset(n.rsplit(".", 1)[-1] for n in torch_api.names("tensors.weight_functions"))
# names of fixed tables: masks, positions, frequencies, grids, random projections
_FIXED = re.compile(r"mask|pos|pe$|^pe|freq|causal|tril|anchor|grid|eye|ident|index|idx|rand"
                    r"|noise|fixed|const|buffer|table|sin|cos|scale_factor", re.IGNORECASE)
# names that say "a learned weight": enough with a read in forward, for a tensor nothing else
# (requires_grad, nn.init, a matmul) marks as learnable
_LEARNABLE = re.compile(r"^w(?:_?[a-z]{0,3}\d?)$|weight|alpha|slope|prototype|centroid",
                        re.IGNORECASE)
# factories a weight starts from; ``torch.ones``/``torch.tensor([...])`` are as often class
# weights of a loss or constants
_WEIGHT_INITS = torch_api.names("tensors.weight_inits")
# an ``if`` that builds on first use: ``if self.w is None``, ``if not hasattr(self, "w")``
_CACHED = re.compile(r"None|hasattr|not\s+in\b|\bin\s+self|initiali[sz]ed|built|_init")


@dataclass
class PlainWeight:
    node: cst.CSTNode  # the assignment
    cls: str
    attr: str
    spelling: str  # the factory as written
    reason: str  # "requires_grad" | "init" | "weight"
    use: cst.CSTNode | None  # where forward reads it (first read)


@dataclass
class BuiltInForward:
    node: cst.Call
    cls: str
    method: str
    what: str  # "nn.Parameter(...)", "nn.Linear(...)", as the message names it


def _true(expr: cst.BaseExpression | None) -> bool:
    return type(expr) is cst.Name and expr.value == "True"


def _self_attr(expr: cst.BaseExpression) -> str | None:
    name = dotted(expr) or ""
    return name[5:] if name.startswith("self.") and name.count(".") == 1 else None


def _tensor_made(value: cst.BaseExpression, imports) -> tuple[str, bool] | None:
    """(factory, requires_grad) for ``torch.randn(...)`` and the like, through ``* 0.01``,
    ``.to(device)``, ``.requires_grad_()`` and ``Variable(...)``."""
    grad = False
    while True:
        if type(value) is cst.BinaryOperation:
            value = value.left if type(value.left) is cst.Call else value.right
            continue
        if type(value) is not cst.Call:
            return None
        found = method_call(value)
        full = canonical_torch(imports.qualify(value.func)) or ""
        if found and not full.startswith("torch.") and type(found[0]) is cst.Call:
            if found[1] == "requires_grad_":
                flag = value.args[0].value if value.args else None
                grad = grad or flag is None or _true(flag)
            value = found[0]
            continue
        if full in _VARIABLE or full.rsplit(".", 1)[-1] == "Variable":
            inner = value.args[0].value if value.args else None
            made = None if inner is None else _tensor_made(inner, imports)
            if made is None:
                return None
            return made[0], grad or made[1] or _true(keyword(value, "requires_grad"))
        if full in _FACTORIES:
            return full, grad or _true(keyword(value, "requires_grad"))
        return None


def _ordered(node: cst.CSTNode, parents: tuple = ()):
    """Nodes below ``node`` in source order, each with its ancestors. A stack, not nested
    generators: those cost every yielded node a step through each level above it."""
    stack = [(iter(children(node)), parents)]
    while stack:
        below, above = stack[-1]
        child = next(below, None)
        if child is None:
            stack.pop()
            continue
        yield child, above
        stack.append((iter(children(child)), (*above, child)))


def _weight_uses(func: cst.FunctionDef, imports) -> tuple[dict, dict]:
    """Attributes read by ``func`` (first read) and those read as a weight, and the attributes
    added to a weight's product in the same expression (a bias)."""
    reads: dict[str, cst.CSTNode] = {}
    weights: dict[str, cst.CSTNode] = {}
    for node, parents in _ordered(func):
        attr = _self_attr(node) if type(node) is cst.Attribute else None
        if attr is not None:
            reads.setdefault(attr, node)
        if type(node) is cst.BinaryOperation and type(node.operator) is cst.MatrixMultiply:
            operands = [node.left, node.right]
        elif type(node) is cst.Call:
            name = (dotted(node.func) or "").rsplit(".", 1)[-1]
            operands = [a.value for a in node.args[:3]] if name in _WEIGHT_CALLS else []
        else:
            continue
        for operand in operands:
            while type(operand) in (cst.Call, cst.Subscript, cst.Attribute):
                base = _self_attr(operand) if type(operand) is cst.Attribute else None
                if base is not None:
                    weights.setdefault(base, operand)
                    break
                if type(operand) is cst.Call and method_call(operand):
                    operand = method_call(operand)[0]  # self.w.t(), self.w.to(x)
                elif type(operand) is cst.Subscript or type(operand) is cst.Attribute and operand.attr.value == "T":
                    operand = operand.value
                else:
                    break
        # ``x @ self.w + self.b``: the bias of a weight is learnable too
        for parent in reversed(parents):
            if type(parent) is cst.BinaryOperation and type(parent.operator) is cst.Add:
                for side in (parent.left, parent.right):
                    attr = _self_attr(side)
                    if attr is not None:
                        weights.setdefault(attr, side)
                break
    return reads, weights


_SELF_CALL = re.compile(r"\bself\s*\.\s*(\w+)\s*\(")


def _reached(source: SourceFile, facts) -> list[str]:
    """``forward`` and the methods it calls, transitively (``__init__`` never); worked out
    once per class for both analyses below."""
    memo = cached_fact(source, "methods_reached", dict)
    if facts.name not in memo:
        memo[facts.name] = _reached_from(source, facts.methods)
    return memo[facts.name]


def _reached_from(source: SourceFile, methods: dict[str, cst.FunctionDef]) -> list[str]:
    seen, todo = [], ["forward"]
    while todo:
        name = todo.pop()
        if name in seen or name not in methods or name == "__init__":
            continue
        seen.append(name)
        text = source.function_text(methods[name])
        if text is not None and not set(_SELF_CALL.findall(text)) & methods.keys():
            continue  # it calls no method of the class: nothing to walk for
        for node in in_source_order(methods[name]):
            if type(node) is cst.Call:
                callee = dotted(node.func) or ""
                if callee.startswith("self.") and callee.count(".") == 1:
                    todo.append(callee[5:])
    return seen


def plain_weights(source: SourceFile) -> list[PlainWeight]:
    def compute() -> list[PlainWeight]:
        imports = imports_of(source)
        found = []
        for facts in module_classes(source).values():
            if not facts.node.bases or not _may_make_tensors(source, facts.node, imports):
                continue
            made: dict[str, tuple[cst.CSTNode, str, bool]] = {}
            registered: set[str] = set()
            grad_later: set[str] = set()
            initialised: set[str] = set()
            for name, func in facts.methods.items():
                for node in in_source_order(func):
                    if type(node) is cst.Assign and len(node.targets) == 1:
                        target = node.targets[0].target
                        attr = _self_attr(target)
                        if attr is None:
                            # ``self.w.requires_grad = True``
                            owner = getattr(target, "value", None)
                            named = getattr(getattr(target, "attr", None), "value", "")
                            grad = named == "requires_grad" and _true(node.value)
                            if grad and owner is not None and _self_attr(owner):
                                grad_later.add(_self_attr(owner))
                            continue
                        tensor = _tensor_made(node.value, imports)
                        if tensor is not None and name != "forward" and attr not in made:
                            made[attr] = (node, *tensor)
                        elif tensor is None:
                            registered.add(attr)  # rebound: nn.Parameter(self.w), a module
                    elif type(node) is cst.Call:
                        full = canonical_torch(imports.qualify(node.func)) or ""
                        call = method_call(node)
                        first = node.args[0].value if node.args else None
                        if call and call[1] in ("register_buffer", "register_parameter"):
                            if type(first) is cst.SimpleString:
                                registered.add(first.evaluated_value)
                        elif call and call[1] == "requires_grad_" and _self_attr(call[0]):
                            grad_later.add(_self_attr(call[0]))
                        elif full.startswith("torch.nn.init.") and first is not None:
                            if _self_attr(first):
                                initialised.add(_self_attr(first))
                        elif full in _PARAMETER and first is not None and _self_attr(first):
                            registered.add(_self_attr(first))
            if not made:
                continue  # no tensor stored on the module: nothing to report
            reads: dict = {}
            weights: dict = {}
            for name in _reached(source, facts):
                method_reads, method_weights = _weight_uses(facts.methods[name], imports)
                for attr, node in method_reads.items():
                    reads.setdefault(attr, node)
                for attr, node in method_weights.items():
                    weights.setdefault(attr, node)
            for attr, (node, spelling, grad) in made.items():
                if attr in registered or attr not in reads:
                    continue
                if grad or attr in grad_later:
                    reason = "requires_grad"
                elif attr in initialised:
                    reason = "init"
                elif _FIXED.search(attr):
                    continue
                elif attr in weights or (_LEARNABLE.search(attr) and spelling in _WEIGHT_INITS):
                    reason = "weight"
                else:
                    continue
                found.append(PlainWeight(node, facts.name, attr, spelling, reason,
                                         weights.get(attr, reads[attr])))
        return found

    return cached_fact(source, "plain_weights", compute)


def built_in_forward(source: SourceFile) -> list[BuiltInForward]:
    def compute() -> list[BuiltInForward]:
        imports = imports_of(source)
        classes = module_classes(source)
        builders = _builders(imports, classes)
        found = []
        for facts in classes.values():
            bases = " ".join(dotted(b.value) or "" for b in facts.node.bases)
            if not facts.node.bases or "Lazy" in bases:
                continue  # a lazy module builds its parameters on the first call, once
            for name in _reached(source, facts):
                if not _may_build(source, facts.methods[name], builders, imports):
                    continue
                if _memoised(facts.methods[name], source.module, imports):
                    continue
                for node, parents in _ordered(facts.methods[name]):
                    if type(node) is not cst.Call:
                        continue
                    what = _builds(node, imports, classes)
                    if what is None or _cached(parents) or _inside_built(parents, imports, classes):
                        continue
                    if _frozen_after(facts.methods[name], node):
                        continue
                    found.append(BuiltInForward(node, facts.name, name, what))
        return found

    return cached_fact(source, "built_in_forward", compute)


def _short_names(names) -> set[str]:
    return {name.rsplit(".", 1)[-1] for name in names}


# a tensor is made by a call of one of these, written with its own name
_MAKERS = "|".join(sorted(map(re.escape, _short_names(_FACTORIES | _VARIABLE) | {"Variable"})))
_MADE_BY = re.compile(rf"\b(?:{_MAKERS})\s*\(")
# what a parameter or a layer built in forward is spelled with
_BUILT_BY = re.compile(r"\b(?:Parameter|Variable)\s*\(|requires_grad|\bnn\.[A-Z]|\btorch\.nn\.[A-Z]")


_SPELLED = _short_names(_FACTORIES | _VARIABLE | _PARAMETER) | {"Variable", "nn"}


def _renamed(imports) -> bool:
    """A name the filters below look for, imported under another one (``from torch import
    randn as r``, ``from torch import nn as tnn``): they keep every class then."""
    for alias, qualified in imports.aliases.items():
        last = qualified.rsplit(".", 1)[-1]
        if last in _SPELLED and alias != last:
            return True
    return False


def _may_make_tensors(source: SourceFile, cls: cst.ClassDef, imports) -> bool:
    """Whether the class's text may store a tensor factory's result (a text filter)."""
    text = source.class_text(cls)
    return text is None or _renamed(imports) or _MADE_BY.search(text) is not None


def _builders(imports, classes) -> re.Pattern:
    """Calls that may build a parameter or a layer, as text: a torch spelling, a torch.nn
    class imported by name, or a class of the file that holds parameters."""
    names = {
        alias
        for alias, qualified in imports.aliases.items()
        if alias[:1].isupper() and (canonical_torch(qualified) or "").startswith("torch.nn.")
    }
    names |= {
        name
        for name, facts in classes.items()
        if facts.node.bases and (facts.parameters or set(facts.submodules) - facts.parameterless)
    }
    if not names:
        return _BUILT_BY
    called = "|".join(sorted(map(re.escape, names)))
    return re.compile(rf"{_BUILT_BY.pattern}|\b(?:{called})\s*\(")


def _may_build(source: SourceFile, method: cst.FunctionDef, builders: re.Pattern, imports) -> bool:
    """Whether a method's text may build a parameter or a layer (a text filter)."""
    text = source.function_text(method)
    return text is None or _renamed(imports) or builders.search(text) is not None


def _builds(call: cst.Call, imports, classes) -> str | None:
    full = canonical_torch(imports.qualify(call.func)) or ""
    short = full.rsplit(".", 1)[-1]
    if full in _PARAMETER:
        flag = keyword(call, "requires_grad")
        frozen = type(flag) is cst.Name and flag.value == "False"
        return None if frozen else "nn.Parameter(...)"
    if full in _VARIABLE or short == "Variable" and "Variable" in imports.aliases:
        return "Variable(..., requires_grad=True)" if _true(keyword(call, "requires_grad")) else None
    if full in _FACTORIES and _true(keyword(call, "requires_grad")):
        return f"{full}(..., requires_grad=True)"
    if full.startswith("torch.nn.") and short[:1].isupper() and "." not in full[9:]:
        # parameterless layers and losses, lazy layers (built once), buffers, paddings
        if (short in torch_api.parameterless_modules() or short.startswith("Lazy")
                or short.endswith("Loss") or short in _BUFFER or "Pad" in short):
            return None
        if short in torch_api.containers() or short == torch_api.module_base():
            return None  # a container: the layers in it are reported, if any
        return f"nn.{short}(...)"
    name = dotted(call.func) or ""
    facts = classes.get(name)
    if facts is not None and facts.node.bases and (facts.parameters or set(facts.submodules)
                                                   - facts.parameterless):
        return f"{name}(...)"
    return None


# decorators that keep a method's first result
_MEMOISING = frozenset({"functools.cache", "functools.lru_cache", "functools.cached_property"})
# a decorator of the file that stores the result on the instance and returns it when it is there
_STORES_ON_INSTANCE = re.compile(r"\bsetattr\s*\(\s*self\b")
_READS_INSTANCE = re.compile(r"\b(?:getattr|hasattr)\s*\(\s*self\b")


def _memoised(method: cst.FunctionDef, module: cst.Module, imports) -> bool:
    """Built once: the method's decorator caches what it returns (``@functools.cache``, or a
    decorator of the file whose wrapper returns ``getattr(self, key)`` when set and otherwise
    calls the method and ``setattr(self, key, made)``)."""
    for decorator in method.decorators:
        expr = decorator.decorator
        expr = expr.func if type(expr) is cst.Call else expr
        if imports.qualify(expr) in _MEMOISING:
            return True
        name = dotted(expr)
        for statement in module.body:
            if type(statement) is cst.FunctionDef and statement.name.value == name:
                text = module.code_for_node(statement)
                if _STORES_ON_INSTANCE.search(text) and _READS_INSTANCE.search(text):
                    return True
    return False


def _cached(parents: tuple) -> bool:
    """Built once: inside ``if self.w is None:`` (a ``hasattr`` / ``not in`` test), or an
    ``if`` on a flag of the module whose body stores on the module (``if self.expand: ...
    self.bias = new; self.expand = False``)."""
    module = cst.Module(body=[])
    for parent in parents:
        if type(parent) is not cst.If:
            continue
        test = module.code_for_node(parent.test)
        if _CACHED.search(test):
            return True
        if "self." in test and re.search(r"^\s*self\.\w+\s*=", module.code_for_node(parent.body),
                                         re.MULTILINE):
            return True
    return False


def _frozen_after(func: cst.FunctionDef, call: cst.Call) -> bool:
    """``self.weight = nn.Parameter(w)`` then ``self.weight.requires_grad = False`` (or
    ``detach_()``): a table rebuilt on purpose, not something to learn."""
    for node in in_source_order(func):
        if type(node) is cst.Assign and node.value is call and len(node.targets) == 1:
            name = dotted(node.targets[0].target)
            text = cst.Module(body=[]).code_for_node(func)
            return name is not None and bool(re.search(
                rf"{re.escape(name)}\.(?:requires_grad\s*=\s*False|detach_\(|requires_grad_\(False)",
                text))
    return False


def _inside_built(parents: tuple, imports, classes) -> bool:
    """``nn.Parameter(torch.randn(..., requires_grad=True))``: reported once, outermost."""
    return any(type(p) is cst.Call and _builds(p, imports, classes) for p in parents)
