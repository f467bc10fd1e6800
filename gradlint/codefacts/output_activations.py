"""What a model's output ends in (softmax, sigmoid, ...) as it reaches each loss call of a file."""

from __future__ import annotations

import re
from dataclasses import dataclass

import libcst as cst

from gradlint import torch_api
from gradlint.codefacts.flow import Flow
from gradlint.codefacts.modules import (
    ClassFacts,
    module_classes,
    root_classes,
    top_level_statements,
)
from gradlint.codefacts.syntax import (
    argument,
    cached_fact,
    children,
    defines_forward,
    function_params,
    imports_of,
    iter_classes,
    iter_functions,
    method_call,
    positional,
    statements,
)
from gradlint.codefacts.words import NEEDS_LOSS
from gradlint.names import canonical_torch, dotted, word_search
from gradlint.source import SourceFile

# Tensor values are ("out", kind, site); callables are ("type", name), ("makes", kind, site),
# ("loss", kind). A module built in the file that makes a kind is ("makes", kind, site, "module"):
# called directly, it applies its activation at the call.
# What a value is follows from what built it, in gradlint.torch_api: activations that output a
# distribution, and losses that expect something other than plain values.
MODULE_VALUES = frozenset({"instance", "foreign_instance", "type", "foreign_type", "makes", "loss"})


def distribution_kind(kind: str | None) -> str | None:
    """The activation kind, when it outputs (log-)probabilities; None for any other."""
    return kind if kind is not None and torch_api.distribution(kind) else None


def loss_kind(key: str | None) -> str | None:
    """The loss, when what it expects is not plain values."""
    return key if key is not None and torch_api.losses()[key].expects != "values" else None


def loss_of(qualified: str | None) -> str | None:
    """A loss module or function, by its qualified name."""
    return loss_kind(torch_api.loss_module(qualified) or torch_api.loss_function(qualified))


OTHER = frozenset({("out", "other", None)})
MAX_CLASS_DEPTH = 4
MAX_FILE_DEPTH = 2  # imports followed from the checked file: a model file, and its blocks
# The last layer of torchvision / timm / transformers classifiers, replaced for transfer learning.
HEAD_NAMES = frozenset({"fc", "classifier", "head", "last_linear"})


@dataclass(frozen=True)
class Where:
    """Where an activation was applied; its line is resolved only for a finding."""

    node: cst.CSTNode
    scope: str
    source: SourceFile

    def __hash__(self) -> int:
        return id(self.node)

    def __eq__(self, other) -> bool:
        return isinstance(other, Where) and other.node is self.node


@dataclass
class Mismatch:
    loss: str
    activation: str
    call: cst.Call
    where: Where


class LossDomain:
    """Tracks what each local holds: a tensor's last activation, a model, a loss."""

    def __init__(self, analysis: FileAnalysis, scope: str, record: bool) -> None:
        self.a = analysis
        self.scope = scope
        self.record = record
        self.no_grad = 0

    def join(self, a, b):
        return a | b

    def element(self, value):
        return frozenset()

    def enter_with(self, node: cst.With, env) -> bool:
        for item in node.items:
            if (
                isinstance(item.item, cst.Call)
                and torch_api.no_grad_context(self.a.imports.qualify(item.item.func))
            ):
                self.no_grad += 1
                return True
        return False

    def exit_with(self, token: bool) -> None:
        if token:
            self.no_grad -= 1

    def where(self, node: cst.CSTNode) -> Where:
        return Where(node, self.scope, self.a.source)

    def evaluate(self, expr, env):
        if isinstance(expr, cst.Name):
            if expr.value in env:
                return env[expr.value]
            return self.a.globals.get(expr.value) or self.reference(expr)
        if isinstance(expr, cst.Attribute):
            key = dotted(expr)
            if key is not None and key in env:
                return env[key]
            reference = self.reference(expr)
            if reference:
                return reference
            return frozenset()
        if isinstance(expr, cst.Call):
            return self.call(expr, env)
        if isinstance(expr, cst.Tuple) and not any(
            isinstance(e, cst.StarredElement) for e in expr.elements
        ):
            return frozenset({("tuple", tuple(self.evaluate(e.value, env) for e in expr.elements))})
        if isinstance(expr, (cst.Tuple, cst.List)):
            value = frozenset()
            for element in expr.elements:
                value |= self.evaluate(element.value, env)
            return value
        if isinstance(expr, cst.Subscript):
            base = self.evaluate(expr.value, env)
            index = expr.slice[0].slice if len(expr.slice) == 1 else None
            if isinstance(index, cst.Index) and isinstance(index.value, cst.Integer):
                return self.unpack(base, int(index.value.value), None)
            return frozenset(item for item in base if item[0] != "tuple")
        if isinstance(expr, cst.IfExp):
            return self.evaluate(expr.body, env) | self.evaluate(expr.orelse, env)
        for child in children(expr):  # arguments of operators may hold loss calls
            if isinstance(child, cst.BaseExpression):
                self.evaluate(child, env)
        return OTHER

    def bind_attribute(self, target: cst.Attribute, value, env) -> None:
        """``model.fc = nn.Sequential(..., nn.Softmax(1))``: a new head decides what the model returns."""
        owner = dotted(target.value)
        if owner is None or owner == "self" or target.attr.value not in HEAD_NAMES:
            return
        made = frozenset(item for item in value if item[0] == "makes")
        if (
            made
            and made == value
            and not any(i[0] in ("instance", "foreign_instance") for i in env.get(owner, ()))
        ):
            env[owner] = made

    def unpack(self, value, index: int, count: int | None) -> frozenset:
        """Element ``index`` of a tuple value; other values unpack to themselves."""
        parts = frozenset()
        for item in value:
            if item[0] == "tuple":
                if (count is None or len(item[1]) == count) and index < len(item[1]):
                    parts |= item[1][index]
            else:
                parts |= {item}
        return parts

    def reference(self, expr) -> frozenset:
        """A function or class named directly: ``F.cross_entropy``, ``nn.Softmax``, ``Net``."""
        name = dotted(expr)
        if name in self.a.classes:
            return frozenset({("type", name)})
        qualified = canonical_torch(self.a.imports.qualify(expr))
        loss = loss_kind(torch_api.loss_function(qualified))
        if loss is not None:
            return frozenset({("loss", loss)})
        kind = distribution_kind(torch_api.activation_function(qualified))
        if kind is not None:
            return frozenset({("makes", kind, self.where(expr))})
        key = self.a.foreign_class(qualified)
        return frozenset({("foreign_type", key)}) if key else frozenset()

    def call(self, call: cst.Call, env):
        args = [self.evaluate(a.value, env) for a in call.args]
        qualified = canonical_torch(self.a.imports.qualify(call.func))
        loss = loss_kind(torch_api.loss_module(qualified))
        if loss is not None:
            return frozenset({("loss", loss)})
        kind = distribution_kind(torch_api.activation_module(qualified))
        if kind is not None:
            return frozenset({("makes", kind, self.where(call), "module")})
        if qualified == "torch.nn.Sequential":
            layers = positional(call)
            return self.sequential_tail(args[-1]) if layers else frozenset()
        kind = distribution_kind(torch_api.activation_function(qualified))
        if kind is not None:
            return frozenset({("out", kind, self.where(call))})
        loss = loss_kind(torch_api.loss_function(qualified))
        if loss is not None:
            self.check(loss, call, env)
            return OTHER
        found = method_call(call)
        if found is not None:
            receiver, name = found
            kind = distribution_kind(torch_api.activation_method(name))
            if kind is not None and not self.module_attribute(receiver, call.func, env):
                return frozenset({("out", kind, self.where(call))})
            if name in torch_api.names("tensors.pass_through_methods"):
                return self.evaluate(receiver, env)
            if name == "forward":
                return self.apply(self.evaluate(receiver, env), call, env)
        if (
            isinstance(call.func, cst.Name)
            and call.func.value in self.a.functions
            and call.func.value not in env
        ):
            self.a.bind_call(call.func.value, call, args)
        callee = (
            self.evaluate(call.func, env)
            if not isinstance(call.func, cst.Name)
            else (
                env.get(call.func.value)
                or self.a.globals.get(call.func.value)
                or self.reference(call.func)
            )
        )
        if not callee and self.looks_like_model(call.func, env):
            callee = self.a.candidates()
        return self.apply(callee, call, env) if callee else OTHER

    def module_attribute(self, receiver: cst.BaseExpression, func: cst.BaseExpression, env) -> bool:
        """``self.softmax(x)``: a module's attribute, not the tensor method of that name. What
        it is follows from what built it (its binding in ``env``), never from its name; one
        built elsewhere is not known at all."""
        owner = dotted(receiver)
        if owner == "self" or dotted(func) in env:
            return True
        return owner in env and any(item[0] in MODULE_VALUES for item in env[owner])

    def looks_like_model(self, func: cst.BaseExpression, env) -> bool:
        """An unresolved name bound in this scope (a parameter) or ``self.<attr>``."""
        name = dotted(func)
        if name is None:
            return False
        if name.startswith("self.") and name.count(".") == 1:
            return True
        return name in env and "." not in name

    def sequential_tail(self, last) -> frozenset:
        value = frozenset()
        for item in last:
            if item[0] in ("makes", "type"):
                value |= {item[:3]}  # applied inside the container: known by its constructor
            else:
                value |= {("makes", "other", None)}
        return value or frozenset({("makes", "other", None)})

    def apply(self, callee, call: cst.Call, env) -> frozenset:
        result = frozenset()
        for item in callee:
            if item[0] == "type":
                result |= {("instance", item[1])}
            elif item[0] == "instance":
                result |= self.a.output_of(item[1])
            elif item[0] == "foreign_type":
                result |= {("foreign_instance", item[1])}
            elif item[0] == "foreign_instance":
                result |= self.a.foreign_output(item[1])
            elif item[0] == "makes":
                site = self.where(call) if item[3:] == ("module",) else item[2]
                result |= {("out", item[1], site)}
            elif item[0] == "loss":
                self.check(item[1], call, env)
                result |= OTHER
            else:
                result |= OTHER
        return result or OTHER

    def check(self, loss: str, call: cst.Call, env) -> None:
        if not self.record or self.no_grad:
            return
        given = argument(call, 0, "input")
        if given is None:
            return
        value = self.evaluate(given, env)
        kinds = {item[1] for item in value if item[0] == "out"}
        if len(kinds) != 1 or len(value) != len([i for i in value if i[0] == "out"]):
            return  # unknown, or different activations on different paths
        kind = kinds.pop()
        site = next(item[2] for item in value)
        if kind != "other" and site is not None:
            self.a.mismatches.setdefault(id(call), Mismatch(loss, kind, call, site))


class FileAnalysis:
    def __init__(self, source: SourceFile, depth: int = 0) -> None:
        self.source = source
        self.depth = depth
        self.foreign: dict[str, tuple[FileAnalysis, str]] = {}
        self.imports = imports_of(source)
        self.facts: dict[str, ClassFacts] = module_classes(source)
        self.classes = self.facts
        self.outputs: dict[str, frozenset] = {}
        self.mismatches: dict[int, Mismatch] = {}
        self.globals: dict = {}
        self.attributes: dict[str, dict] = {}
        self._candidates: frozenset | None = None
        self.functions = {
            s.name.value: s for s in source.module.body if isinstance(s, cst.FunctionDef)
        }
        self.call_args: dict[str, dict[str, frozenset]] = {}

    def bind_call(self, name: str, call: cst.Call, values: list) -> None:
        """What a call in this file passes to each parameter of a function of this file."""
        params = [p.name.value for p in function_params(self.functions[name])]
        bound = self.call_args.setdefault(name, {})
        position = 0
        for arg, value in zip(call.args, values):
            if arg.star:
                return
            if arg.keyword is not None:
                key = arg.keyword.value
            elif position < len(params):
                key = params[position]
                position += 1
            else:
                continue
            bound[key] = bound.get(key, frozenset()) | value

    def run(self) -> list[Mismatch]:
        domain = LossDomain(self, "<module>", record=False)
        self.globals = Flow(domain).run(top_level_statements(self.source.module), {})
        may_record = self.may_record()
        for func, owner in iter_functions(self.source.module):
            if may_record(func, owner):
                self.run_function(func, owner)
        domain = LossDomain(self, "<module>", record=True)
        Flow(domain).run(top_level_statements(self.source.module), {})
        for name, bound in list(self.call_args.items()):
            # again, with what the file's own calls pass to the parameters
            self.run_function(self.functions[name], None, bound)
        return list(self.mismatches.values())

    def may_record(self):
        """Which functions may call a loss, decided on their text: running the others would
        record nothing. A mismatch is recorded only at a loss call, and a function reaches
        one only through a name in its text: a loss (or an alias of one), a global holding
        one, a function of the file that may call one (a call binds what it passes, and the
        callee runs again with it), or a class that may hold one (or, for a method, its own
        class). Most methods of a large model file name none of these."""
        names = {name for name, value in self.globals.items() if any(item[0] == "loss" for item in value)}
        for local, qualified in self.imports.aliases.items():
            if loss_of(canonical_torch(qualified)) is not None:
                names.add(local)
        units = {cls: self.source.class_text(cls) for cls in iter_classes(self.source.module)}
        units.update((func, self.source.function_text(func)) for func in self.functions.values())
        worded = {unit for unit, text in units.items() if text is None or NEEDS_LOSS.matches(text)}
        bearing: set = set()
        while True:  # naming a unit that may reach a loss makes a unit one too
            pattern = _names_pattern(names)
            found = {unit for unit, text in units.items()
                     if unit not in bearing and (unit in worded or _names_any(pattern, text))}
            if not found:
                break
            bearing |= found
            names.update(unit.name.value for unit in found)

        def may_record(func: cst.FunctionDef, owner: cst.ClassDef | None) -> bool:
            if owner is not None and owner in bearing:
                return True
            text = self.source.function_text(func)
            return text is None or NEEDS_LOSS.matches(text) or _names_any(pattern, text)

        return may_record

    def initial_env(self, func: cst.FunctionDef, owner: cst.ClassDef | None) -> dict:
        env: dict = {}
        if owner is not None:
            env.update(self.class_attributes(owner))
            if owner.name.value in self.classes:
                env["self"] = frozenset({("instance", owner.name.value)})
        for param in function_params(func):
            value = frozenset()
            if param.annotation is not None:
                name = dotted(param.annotation.annotation)
                if name in self.classes:
                    value = frozenset({("instance", name)})
                elif name is not None:
                    key = self.foreign_class(self.imports.qualify(param.annotation.annotation))
                    value = frozenset({("foreign_instance", key)}) if key else frozenset()
            if param.name.value != "self":
                env[param.name.value] = value
            elif owner is None or owner.name.value not in self.classes:
                env.pop("self", None)
        return env

    def class_attributes(self, owner: cst.ClassDef) -> dict:
        key = owner.name.value
        if key not in self.attributes:
            self.attributes[key] = {}
            init = next(
                (
                    s
                    for s in statements(owner.body)
                    if isinstance(s, cst.FunctionDef) and s.name.value == "__init__"
                ),
                None,
            )
            if init is not None:
                env = {
                    p.name.value: frozenset()
                    for p in function_params(init)
                    if p.name.value != "self"
                }
                after = Flow(LossDomain(self, f"{key}.__init__", record=False)).run(
                    list(statements(init.body)), env
                )
                self.attributes[key] = {k: v for k, v in after.items() if k.startswith("self.")}
        return self.attributes[key]

    def run_function(
        self, func: cst.FunctionDef, owner: cst.ClassDef | None, bound: dict | None = None
    ) -> None:
        scope = f"{owner.name.value}.{func.name.value}" if owner is not None else func.name.value
        env = self.initial_env(func, owner)
        for key, value in (bound or {}).items():
            if key in env and not env[key]:
                env[key] = value
        Flow(LossDomain(self, scope, record=True)).run(list(statements(func.body)), env)

    def output_of(self, cls: str) -> frozenset:
        """What ``cls.forward`` returns, joined over its return statements."""
        if cls in self.outputs:
            return self.outputs[cls]
        self.outputs[cls] = frozenset()  # recursion guard: unknown while being computed
        facts = self.classes[cls]
        forward = facts.methods["forward"]
        flow = Flow(LossDomain(self, f"{cls}.forward", record=False))
        flow.run(list(statements(forward.body)), self.initial_env(forward, facts.node))
        result = flow.returned() or frozenset()
        self.outputs[cls] = frozenset(result)
        return self.outputs[cls]

    def foreign_class(self, qualified: str | None) -> str | None:
        """A model class imported from another file of the tree, parsed on demand."""
        if not qualified or qualified.startswith("torch") or self.depth >= MAX_FILE_DEPTH:
            return None
        module, _, name = qualified.rpartition(".")
        resolver = self.source.resolver
        if resolver is None or not module or not name[:1].isupper():
            return None
        # only a class with a forward of its own is one of the other file's models; most
        # files are turned down on their text, unparsed
        other = resolver.imported_source(
            self.source.path, module, lambda text: f"class {name}" in text and defines_forward(text)
        )
        if other is None:
            return None
        key = f"{other.path}:{name}"
        if key not in self.foreign:
            analysis = FileAnalysis(other, self.depth + 1)
            if name not in analysis.classes:
                return None
            self.foreign[key] = (analysis, name)
        return key

    def foreign_output(self, key: str) -> frozenset:
        analysis, name = self.foreign[key]
        return analysis.output_of(name)

    def candidates(self) -> frozenset:
        """The model an unresolved ``model(x)`` runs: any root class, when all roots return alike."""
        if self._candidates is None:
            roots = root_classes(self.classes, self.imports)
            shapes = {_shape(self.output_of(name)) for name in roots}
            self._candidates = (
                frozenset({("instance", roots[0])}) if len(shapes) == 1 else frozenset()
            )
        return self._candidates


def _names_pattern(names: set[str]) -> re.Pattern | None:
    """Any of ``names`` as a whole word, once word_search has checked where it starts."""
    if not names:
        return None
    alternatives = "|".join(re.escape(name) for name in sorted(names))
    return re.compile(rf"(?:{alternatives})\b")


def _names_any(pattern: re.Pattern | None, text: str) -> bool:
    return pattern is not None and word_search(pattern, text)


def _shape(value: frozenset):
    """A value without its source positions, to compare what two models return."""
    out = set()
    for item in value:
        if item[0] == "tuple":
            out.add(("tuple", tuple(_shape(part) for part in item[1])))
        else:
            out.add(item[:2])
    return frozenset(out)


def mismatches(source: SourceFile) -> list[Mismatch]:
    return cached_fact(source, "loss_mismatches", lambda: FileAnalysis(source).run())


