"""Gradient sources through forward: which submodules reach the output, and where paths are cut.

A cut is told by what cuts (a ``CutKind``) and how it is spelled; which rule reports it, and in
what words, is the rules' business (``gradlint.checks.graph_cuts``).
"""

from __future__ import annotations

from dataclasses import dataclass

import libcst as cst

from gradlint import torch_api
from gradlint.codefacts.flow import Flow
from gradlint.codefacts.kinds import CutKind
from gradlint.codefacts.modules import ClassFacts
from gradlint.codefacts.syntax import function_params, method_call, positional
from gradlint.names import ImportMap, dotted
from gradlint.source import SourceFile

MAX_CALL_DEPTH = 4



@dataclass(frozen=True)
class Grad:
    """Which gradient sources reach a value, and which were cut on the way (source, site)."""

    live: frozenset = frozenset()
    cut: frozenset = frozenset()

    def __or__(self, other: Grad) -> Grad:
        return Grad(self.live | other.live, self.cut | other.cut)


NONE = Grad()


@dataclass
class Site:
    node: cst.CSTNode
    kind: CutKind
    spelling: str


class ForwardDomain:
    """Evaluates a class's forward (and the methods it calls) into Grad values."""

    def __init__(
        self, facts: ClassFacts, imports: ImportMap, frozen: set[str], source: SourceFile
    ) -> None:
        self.facts = facts
        self.imports = imports
        self.frozen = frozen
        self.untrained: set[str] = set()  # not trained on purpose: run under no_grad freely
        self.source = source
        self.sites: dict[int, Site] = {}
        self.no_grad: list[int] = []
        self.depth = 0
        self.active: set[str] = set()

    # -- flow protocol
    def join(self, a: Grad, b: Grad) -> Grad:
        return a | b

    def element(self, value: Grad) -> Grad:
        return value

    def enter_with(self, node: cst.With, env) -> bool:
        for item in node.items:
            call = item.item
            if isinstance(call, cst.Call):
                name = self.imports.qualify(call.func)
                flag = positional(call)[:1]
                disabled = torch_api.grad_switch(name) and flag and dotted(flag[0]) == "False"
                if torch_api.no_grad_context(name) or disabled:
                    self.no_grad.append(self._site(node, CutKind.NO_GRAD, name))
                    return True
        return False

    def exit_with(self, token: bool) -> None:
        if token:
            self.no_grad.pop()

    def evaluate(self, expr: cst.BaseExpression, env) -> Grad:
        value = self.eval(expr, env)
        if self.no_grad and value.live:
            return self.cut(value, self.no_grad[-1])
        return value

    # -- values
    def _site(self, node: cst.CSTNode, kind: CutKind, spelling: str) -> int:
        key = id(node)
        self.sites.setdefault(key, Site(node, kind, spelling))
        return key

    def cut(self, value: Grad, site: int) -> Grad:
        return Grad(frozenset(), value.cut | {(source, site) for source in value.live})

    def source_of(self, attr: str) -> Grad:
        if attr in self.frozen or attr in self.facts.parameterless or attr in self.facts.plain:
            return NONE
        if attr in self.facts.parameters or attr in self.facts.submodules:
            return Grad(frozenset({attr}))
        return NONE

    def eval(self, expr: cst.BaseExpression, env) -> Grad:
        if isinstance(expr, cst.Name):
            return env.get(expr.value, NONE)
        if isinstance(expr, cst.Attribute):
            key = dotted(expr)
            if key is not None and key in env:
                return env[key]
            if key is not None and key.startswith("self.") and key.count(".") == 1:
                return self.source_of(key[5:])
            if expr.attr.value in torch_api.names("tensors.value_attributes"):
                return NONE
            base = self.eval(expr.value, env)
            if expr.attr.value == "data" and base.live:
                return self.cut(base, self._site(expr, CutKind.DATA, "data"))
            return base
        if isinstance(expr, cst.Call):
            return self.call(expr, env)
        if isinstance(expr, cst.BinaryOperation):
            straight = self.straight_through(expr, env)
            if straight is not None:
                return straight
            return self.eval(expr.left, env) | self.eval(expr.right, env)
        if isinstance(expr, cst.UnaryOperation):
            return NONE if isinstance(expr.operator, cst.Not) else self.eval(expr.expression, env)
        if isinstance(expr, cst.BooleanOperation):
            return self.eval(expr.left, env) | self.eval(expr.right, env)
        if isinstance(expr, cst.Comparison):
            return NONE
        if isinstance(expr, cst.IfExp):
            return self.eval(expr.body, env) | self.eval(expr.orelse, env)
        if isinstance(expr, cst.Subscript):
            return self.eval(expr.value, env)
        if isinstance(expr, (cst.Tuple, cst.List, cst.Set)):
            return self._union(self.eval(e.value, env) for e in expr.elements)
        if isinstance(expr, cst.Dict):
            return self._union(
                self.eval(e.value, env) for e in expr.elements if isinstance(e, cst.DictElement)
            )
        if isinstance(expr, (cst.ListComp, cst.GeneratorExp, cst.SetComp)):
            inner = dict(env)
            comp = expr.for_in
            while comp is not None:
                inner = Flow(self).bind(comp.target, self.eval(comp.iter, inner), inner)
                comp = comp.inner_for_in
            return self.eval(expr.elt, inner)
        if isinstance(expr, cst.NamedExpr):
            return self.eval(expr.value, env)
        if isinstance(expr, cst.Await):
            return self.eval(expr.expression, env)
        return NONE

    def _union(self, values) -> Grad:
        out = NONE
        for v in values:
            out = out | v
        return out

    def straight_through(self, expr: cst.BinaryOperation, env) -> Grad | None:
        """``x + (q - x).detach()``: the detached difference is a deliberate estimator."""
        if not isinstance(expr.operator, cst.Add):
            return None
        code = self.source.code_of
        for keep, other in ((expr.left, expr.right), (expr.right, expr.left)):
            if isinstance(other, cst.Call):
                found = method_call(other)
                if found and found[1] == "detach" and isinstance(found[0], cst.BinaryOperation):
                    diff = found[0]
                    if isinstance(diff.operator, cst.Subtract) and code(keep).strip() in (
                        code(diff.left).strip(),
                        code(diff.right).strip(),
                    ):
                        inner = self.eval(diff, env)
                        return self.eval(keep, env) | Grad(frozenset(), inner.cut)
        return None

    def call(self, call: cst.Call, env) -> Grad:
        args = [self.eval(a.value, env) for a in call.args]
        found = method_call(call)
        head = (dotted(call.func) or "").split(".")[0]
        if head in self.imports.aliases and head not in env:
            found = None  # torch.tensor(...), F.softplus(...): a function of a module, not a method
        if found is not None:
            receiver, name = found
            owner = dotted(receiver)
            if owner == "self":
                return self.self_call(name, call, args, env)
            if (
                owner
                and owner.startswith("self.")
                and owner.count(".") == 1
                and owner not in env
                and owner[5:] in self.facts.submodules
            ):
                # self.encoder.encode(x): a method of a submodule is the submodule at work
                return self.module_call(owner[5:], args)
            base = self.eval(receiver, env)
            if name in torch_api.names("tensors.detach_methods"):
                return (
                    self.cut(base, self._site(call, CutKind.DETACH, name)) if base.live else base
                )
            if name in torch_api.names("tensors.to_python_methods"):
                base = self.eval(_undetached(receiver), env)
                return (
                    self.cut(base, self._site(call, CutKind.TO_PYTHON, name))
                    if base.live
                    else base
                )
            if name in torch_api.names("gradients.no_gradient_methods"):
                return NONE
            if name in torch_api.names("gradients.fill_methods"):
                return base | (args[-1] if args else NONE)
            if name in torch_api.names("gradients.index_methods"):
                return base
            return self._union([base, *args])
        qualified = self.imports.qualify(call.func)
        if qualified in torch_api.names("tensors.to_python_functions") and args and args[0].live:
            return self.cut(args[0], self._site(call, CutKind.CAST, qualified))
        if qualified in torch_api.names("tensors.rewraps") and args and args[0].live:
            return self.cut(
                args[0],
                self._site(call, CutKind.REWRAP, self.source.code_of(call.func)),
            )
        no_gradient = torch_api.names("gradients.no_gradient_functions")
        if qualified in no_gradient or qualified in torch_api.names("gradients.no_gradient_builtins"):
            return NONE
        if qualified in torch_api.names("gradients.select_functions") and len(args) >= 3:
            return args[1] | args[2]
        if qualified in torch_api.names("gradients.index_functions") and args:
            return args[0]
        func = (
            self.eval(call.func, env)
            if not isinstance(call.func, cst.Name)
            else env.get(call.func.value, NONE)
        )
        if self.no_grad:
            func = self.trained(func)
        return self._union([func, *args])

    def trained(self, value: Grad) -> Grad:
        """Under no_grad, the submodules the code trains: a teacher, a target or EMA copy, a
        frozen module is run there on purpose."""
        return Grad(frozenset(s for s in value.live if s not in self.untrained), value.cut)

    def module_call(self, attr: str, args: list[Grad]) -> Grad:
        value = self._union(args)
        if self.no_grad:
            return value | self.trained(self.source_of(attr))
        return value | self.source_of(attr)

    def self_call(self, name: str, call: cst.Call, args: list[Grad], env) -> Grad:
        method = self.facts.methods.get(name)
        if method is None or name in self.active or self.depth >= MAX_CALL_DEPTH:
            return self.module_call(name, args) if method is None else self._union(args)
        params = [p for p in function_params(method)][1:]
        bound: dict[str, Grad] = {}
        positional_values = [v for a, v in zip(call.args, args) if a.keyword is None]
        for param, value in zip(params, positional_values):
            bound[param.name.value] = value
        for arg, value in zip(call.args, args):
            if arg.keyword is not None:
                bound[arg.keyword.value] = value
        self.active.add(name)
        self.depth += 1
        try:
            flow = Flow(self)
            flow.run(
                list(method.body.body)
                if isinstance(method.body, cst.IndentedBlock)
                else [method.body],
                bound,
            )
            result = flow.returned()
        finally:
            self.depth -= 1
            self.active.discard(name)
        return result if result is not None else NONE


def _undetached(expr: cst.BaseExpression) -> cst.BaseExpression:
    """``h`` for ``h.detach().cpu()``: the detach that ``.numpy()`` requires is part of that conversion."""
    inner = expr
    while isinstance(inner, cst.Call):
        found = method_call(inner)
        if found is None:
            break
        if found[1] in ("detach", "cpu", "clone", "float", "double"):
            if found[1] == "detach":
                return found[0]
            inner = found[0]
            continue
        break
    return expr
