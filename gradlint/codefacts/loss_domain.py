"""What each local of a function holds as the loss analysis walks it: a tensor's last
activation, a model, a loss; and the mismatches it records at loss calls."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import libcst as cst

from gradlint import torch_api
from gradlint.codefacts.syntax import (
    argument,
    children,
    method_call,
    positional,
)
from gradlint.names import canonical_torch, dotted
from gradlint.source import SourceFile

if TYPE_CHECKING:
    from gradlint.codefacts.output_activations import FileAnalysis

# Tensor values are ("out", kind, site); callables are ("type", name), ("makes", kind, site),
# ("loss", kind). A module built in the file that makes a kind is ("makes", kind, site, "module"):
# called directly, it applies its activation at the call.
# What a value is follows from what built it, in gradlint.torch_api: activations that output a
# distribution, and losses that expect something other than plain values.
MODULE_VALUES = frozenset(
    {"instance", "foreign_instance", "type", "foreign_type", "makes", "loss", "loss_type"}
)


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
EMPTY_SEQUENTIAL = frozenset({("makes", "other", None, "seq")})
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


def first_site(sites) -> Where | None:
    """The earliest of the places an activation was applied (several paths may agree on the
    kind): the same one whatever order a set gives them in."""
    known = [s for s in sites if s is not None]
    if not known:
        return None
    return min(known, key=lambda w: (str(w.source.path), w.source.location(w.node).line or 0,
                                     w.source.location(w.node).column or 0))


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
                type(item.item) is cst.Call
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
        if type(expr) is cst.Name:
            if expr.value in env:
                return env[expr.value]
            return self.a.globals.get(expr.value) or self.reference(expr)
        if type(expr) is cst.Attribute:
            key = dotted(expr)
            if key is not None and key in env:
                return env[key]
            reference = self.reference(expr)
            if reference:
                return reference
            return frozenset()
        if type(expr) is cst.Call:
            return self.call(expr, env)
        if type(expr) is cst.Tuple and not any(
            type(e) is cst.StarredElement for e in expr.elements
        ):
            return frozenset({("tuple", tuple(self.evaluate(e.value, env) for e in expr.elements))})
        if type(expr) in (cst.Tuple, cst.List):
            value = frozenset()
            for element in expr.elements:
                value |= self.evaluate(element.value, env)
            return value
        if type(expr) is cst.Dict and expr.elements and all(
            type(e) is cst.DictElement and type(e.key) is cst.SimpleString
            for e in expr.elements
        ):
            return frozenset({("dict", tuple(
                (e.key.evaluated_value, self.evaluate(e.value, env)) for e in expr.elements
            ))})
        if type(expr) is cst.Subscript:
            index = expr.slice[0].slice if len(expr.slice) == 1 else None
            base = _layers_picked(self.evaluate(expr.value, env), index)
            if type(index) is cst.Index and type(index.value) is cst.Integer:
                return self.unpack(base, int(index.value.value), None)
            if type(index) is cst.Index and type(index.value) is cst.SimpleString:
                return self.entry(base, index.value.evaluated_value)
            found = frozenset(item for item in base if item[0] not in ("tuple", "dict"))
            for item in base:  # MODELS[args.arch]: a registry lookup, any of its entries
                if item[0] == "dict":
                    for _, value in item[1]:
                        found |= value
            return found
        if type(expr) is cst.IfExp:
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

    def entry(self, value, key: str) -> frozenset:
        """``output["exist"]``: the value a dict built with that key holds."""
        found = frozenset()
        for item in value:
            if item[0] == "dict":
                found |= next((v for k, v in item[1] if k == key), frozenset())
            elif item[0] != "tuple":
                found |= {item}
        return found

    def unpack(self, value, index: int, count: int | None) -> frozenset:
        """Element ``index`` of a tuple value; other values unpack to themselves."""
        parts = frozenset()
        for item in value:
            if item[0] == "tuple":
                if (count is None or len(item[1]) == count) and index < len(item[1]):
                    parts |= item[1][index]
            elif item[0] != "dict":
                parts |= {item}
        return parts

    def reference(self, expr) -> frozenset:
        """A function or class named directly: ``F.cross_entropy``, ``nn.Softmax``, ``Net``."""
        name = dotted(expr)
        if name in self.a.classes:
            return frozenset({("type", name)})
        qualified = canonical_torch(self.a.imports.qualify_name(name))
        loss = loss_kind(torch_api.loss_function(qualified))
        if loss is not None:
            return frozenset({("loss", loss)})
        loss = loss_kind(torch_api.loss_module(qualified))
        if loss is not None:  # the class itself, handed to what builds it: criterion=nn.BCELoss
            return frozenset({("loss_type", loss)})
        kind = distribution_kind(torch_api.activation_function(qualified))
        if kind is not None:
            return frozenset({("makes", kind, self.where(expr))})
        key = self.a.foreign_class(qualified)
        return frozenset({("foreign_type", key)}) if key else frozenset()

    def call(self, call: cst.Call, env):
        args = [self.evaluate(a.value, env) for a in call.args]
        func_name = dotted(call.func)
        plain = self.a.imports.qualify_name(func_name)
        qualified = canonical_torch(plain)
        loss = loss_kind(torch_api.loss_module(qualified))
        if loss is not None:
            return frozenset({("loss", loss)})
        kind = distribution_kind(torch_api.activation_module(qualified))
        if kind is not None:
            return frozenset({("makes", kind, self.where(call), "module")})
        if qualified == "torch.nn.Sequential":
            layers = positional(call)
            return self.sequential_tail(args[-1]) if layers else EMPTY_SEQUENTIAL
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
            owner = dotted(receiver)
            if type(receiver) is cst.Call:  # crit(out, y).item(): the loss call is inside
                self.evaluate(receiver, env)
            if owner == "self" and "self" in env and self.scope.count(".") == 1:
                method = self.a.run_method(self.scope.split(".")[0], name, call, args, self.record)
                if method is not None:
                    return method
            if name in ("add_module", "append") and owner in env and args and all(
                item[3:] == ("seq",) for item in env[owner]
            ):  # a Sequential filled layer by layer: the last one added ends it
                env[owner] = self.sequential_tail(args[-1])
                return OTHER
        if (
            type(call.func) is cst.Name
            and call.func.value in self.a.functions
            and call.func.value not in env
        ):
            self.a.bind_call(call.func.value, call, args)
            built = self.a.returned_by(call.func.value)
            if built and built != OTHER:  # a builder: build_model(cfg) returns the model
                return built
        elif (func_name or "").split(".")[0] not in env and not self.a.globals.get(
            (func_name or "").split(".")[0]
        ):
            built = self.a.foreign_builder(plain)
            if built:  # a builder of another file of the tree
                return built
        callee = (
            self.evaluate(call.func, env)
            if type(call.func) is not cst.Name
            else (
                env.get(call.func.value)
                or self.a.globals.get(call.func.value)
                or self.reference(call.func)
            )
        )
        if not callee and self.looks_like_model(call.func, env):
            callee = self.a.candidates()
        name = func_name or ""
        if not callee and name.rsplit(".", 1)[-1][:1].isupper() and name not in self.a.functions:
            self.wrapper(call, args)  # a constructor of a library class
        return self.apply(callee, call, env) if callee else OTHER

    def wrapper(self, call: cst.Call, args: list) -> None:
        """A library wrapper handed a model and its loss apart (skorch's
        ``NeuralNetClassifier(Net, criterion=nn.CrossEntropyLoss)``): it calls the loss on
        the model's output. Judged only where exactly one argument is a loss and one a model
        of this tree."""
        losses = [item[1] for value in args for item in value if item[0] in ("loss", "loss_type")]
        models = [value for value in args
                  if value and all(i[0] in ("type", "instance", "foreign_type") for i in value)]
        if len(losses) != 1 or len(models) != 1 or not self.record or self.no_grad:
            return
        if torch_api.losses()[losses[0]].expects != "logits":
            return  # skorch takes the log of probabilities itself for NLLLoss
        output = self.apply(models[0], call, {})
        output = self.apply(output, call, {}) if all(i[0] == "instance" for i in output) else output
        kinds = {item[1] for item in output if item[0] == "out"}
        if len(kinds) == 1 and len(output) == 1 and "other" not in kinds:
            site = first_site(item[2] for item in output)
            if site is not None:
                self.a.mismatches.setdefault(id(call), Mismatch(losses[0], kinds.pop(), call, site))

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
                value |= {(*item[:3], "seq")}  # applied inside the container: known by its constructor
            else:
                value |= {("makes", "other", None, "seq")}
        return value or EMPTY_SEQUENTIAL

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
            elif item[0] == "loss_type":
                result |= {("loss", item[1])}
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
        site = first_site(item[2] for item in value)
        if kind != "other" and site is not None:
            self.a.mismatches.setdefault(id(call), Mismatch(loss, kind, call, site))


def _layers_picked(value: frozenset, index) -> frozenset:
    """``head[0]``, ``head[:-1]`` of a Sequential: layers short of its last, whose activation
    they do not apply (a confidence head's logits, read for the loss before its sigmoid);
    ``head[-1]``, ``head[1:]`` and an index nothing knows still end with it."""
    tails = frozenset(item for item in value if item[0] == "makes" and item[3:] == ("seq",))
    if not tails:
        return value
    if type(index) is cst.Slice:
        short = index.upper is not None
    elif type(index) is cst.Index:
        number = index.value
        last = (type(number) is cst.UnaryOperation and type(number.operator) is cst.Minus
                and type(number.expression) is cst.Integer and number.expression.value == "1")
        short = type(number) is cst.Integer or (type(number) is cst.UnaryOperation and not last)
    else:
        short = False
    return value - tails if short else value
