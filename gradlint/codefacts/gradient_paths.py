"""Gradient sources through forward: which submodules reach the output, and where paths are cut.

A cut is told by what cuts (a ``CutKind``) and how it is spelled; which rule reports it, and in
what words, is the rules' business (``gradlint.checks.graph_cuts``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import libcst as cst

from gradlint import torch_api
from gradlint.codefacts.flow import Flow
from gradlint.codefacts.foreign import foreign_definition
from gradlint.codefacts.kinds import CutKind
from gradlint.codefacts.modules import ClassFacts
from gradlint.codefacts.syntax import (
    cached_fact,
    function_params,
    imports_of,
    method_call,
    positional,
    statements,
)
from gradlint.codefacts.words import CUT_TEXT
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
    via: str | None = None  # the helper of another file that cuts, called at ``node``


class ForwardDomain:
    """Evaluates a class's forward (and the methods it calls) into Grad values."""

    def __init__(
        self, facts: ClassFacts, imports: ImportMap, frozen: set[str], source: SourceFile
    ) -> None:
        self.facts = facts
        self.imports = imports
        self.frozen = frozen
        # not trained on purpose: run under no_grad freely. Worked out on first use (most
        # forwards run nothing under no_grad): ``untrained_of`` says how
        self.untrained_of: Callable[[], set[str]] = set
        self._untrained: set[str] | None = None
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
            if type(call) is cst.Call:
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

    def expression_statement(self, expr: cst.BaseExpression, env) -> bool:
        """``torch.set_grad_enabled(False)`` as a statement: grad mode stays off for the rest
        of forward (and for its caller), until a call turns it back on."""
        if type(expr) is not cst.Call:
            return False
        name = self.imports.qualify(expr.func)
        flag = positional(expr)[:1]
        if not (torch_api.grad_switch(name) and flag and dotted(flag[0]) in ("False", "True")):
            return False
        if dotted(flag[0]) == "False":
            self.no_grad.append(self._site(expr, CutKind.NO_GRAD, f"{name}(False)"))
        elif self.no_grad and self.sites[self.no_grad[-1]].node is not expr:
            self.no_grad.pop()
        return True

    def evaluate(self, expr: cst.BaseExpression, env) -> Grad:
        value = self.eval(expr, env)
        if self.no_grad and value.live:
            return self.cut(value, self.no_grad[-1])
        return value

    # -- values
    def _site(self, node: cst.CSTNode, kind: CutKind, spelling: str, via: str | None = None) -> int:
        key = id(node)
        self.sites.setdefault(key, Site(node, kind, spelling, via))
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
        if type(expr) is cst.Name:
            return env.get(expr.value, NONE)
        if type(expr) is cst.Attribute:
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
        if type(expr) is cst.Call:
            return self.call(expr, env)
        if type(expr) is cst.BinaryOperation:
            straight = self.straight_through(expr, env)
            if straight is not None:
                return straight
            return self.eval(expr.left, env) | self.eval(expr.right, env)
        if type(expr) is cst.UnaryOperation:
            return NONE if type(expr.operator) is cst.Not else self.eval(expr.expression, env)
        if type(expr) is cst.BooleanOperation:
            return self.eval(expr.left, env) | self.eval(expr.right, env)
        if type(expr) is cst.Comparison:
            return NONE
        if type(expr) is cst.IfExp:
            return self.eval(expr.body, env) | self.eval(expr.orelse, env)
        if type(expr) is cst.Subscript:
            return self.eval(expr.value, env)
        if type(expr) in (cst.Tuple, cst.List, cst.Set):
            return self._union(self.eval(e.value, env) for e in expr.elements)
        if type(expr) is cst.Dict:
            return self._union(
                self.eval(e.value, env) for e in expr.elements if type(e) is cst.DictElement
            )
        if type(expr) in (cst.ListComp, cst.GeneratorExp, cst.SetComp):
            inner = dict(env)
            comp = expr.for_in
            while comp is not None:
                inner = Flow(self).bind(comp.target, self.eval(comp.iter, inner), inner)
                comp = comp.inner_for_in
            return self.eval(expr.elt, inner)
        if type(expr) is cst.NamedExpr:
            return self.eval(expr.value, env)
        if type(expr) is cst.Await:
            return self.eval(expr.expression, env)
        return NONE

    def _union(self, values) -> Grad:
        out = NONE
        for v in values:
            out = out | v
        return out

    def straight_through(self, expr: cst.BinaryOperation, env) -> Grad | None:
        """``x + (q - x).detach()``: the detached difference is a deliberate estimator."""
        if type(expr.operator) is not cst.Add:
            return None
        code = self.source.code_of
        for keep, other in ((expr.left, expr.right), (expr.right, expr.left)):
            if type(other) is cst.Call:
                found = method_call(other)
                if found and found[1] == "detach" and type(found[0]) is cst.BinaryOperation:
                    diff = found[0]
                    if type(diff.operator) is cst.Subtract and code(keep).strip() in (
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
                return self.module_call(owner[5:], args, env)
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
        helper = self.foreign_call(call, qualified, args)
        if helper is not None:
            return helper
        func = (
            self.eval(call.func, env)
            if type(call.func) is not cst.Name
            else env.get(call.func.value, NONE)
        )
        if self.no_grad:
            func = self.trained(func)
        return self._union([func, *args])

    def foreign_call(self, call: cst.Call, qualified: str | None, args: list[Grad]) -> Grad | None:
        """A helper function of another file of the tree, run on what forward passes it; a
        cut inside it is reported at the call (numpy round trips through signal code)."""
        if not any(a.live for a in args) or self.depth >= MAX_CALL_DEPTH:
            return None
        if type(call.func) is cst.Name and call.func.value not in self.active:
            local = _top_functions(self.source).get(call.func.value)
            if local is not None:  # a helper function of this file
                return self.run_function(local, call, args)
        found = _cut_helper(self.source, qualified)
        if found is None:
            return None
        func, other = found
        inner = ForwardDomain(self.facts, imports_of(other), set(), other)
        inner.depth = self.depth
        result = inner.run_function(func, call, args)
        cut = set()
        for source, key in result.cut:
            site = inner.sites.get(key)
            if site is None:  # cut before the call, in this file
                cut.add((source, key))
                continue
            name = f"{func.name.value} ({Path(other.path).name})"
            cut.add((source, self._site(call, site.kind, site.spelling, name)))
        return Grad(result.live, frozenset(cut) | self._union(args).cut)

    def run_function(self, func: cst.FunctionDef, call: cst.Call, args: list[Grad]) -> Grad:
        params = [p.name.value for p in function_params(func)]
        bound = {
            p: v for p, v, a in zip(params, args, call.args) if a.keyword is None and not a.star
        }
        bound.update({a.keyword.value: v for a, v in zip(call.args, args) if a.keyword is not None})
        self.active.add(func.name.value)
        self.depth += 1
        try:
            flow = Flow(self)
            flow.run(list(statements(func.body)), bound)
        finally:
            self.depth -= 1
            self.active.discard(func.name.value)
        return flow.returned() or NONE

    @property
    def untrained(self) -> set[str]:
        if self._untrained is None:
            self._untrained = self.untrained_of()
        return self._untrained

    def trained(self, value: Grad) -> Grad:
        """Under no_grad, the submodules the code trains: a teacher, a target or EMA copy, a
        frozen module is run there on purpose."""
        if not value.live:
            return value
        return Grad(frozenset(s for s in value.live if s not in self.untrained), value.cut)

    def module_call(self, attr: str, args: list[Grad], env=None) -> Grad:
        value = self._union(args)
        if self.no_grad:
            return value | self.trained(self.source_of(attr))
        value = value | self.source_of(attr)
        if env is not None:
            for hook in self.facts.hooks.get(attr, ()):
                self.run_hook(hook, args, value, env)
        return value

    def run_hook(self, name: str, args: list[Grad], output: Grad, env) -> None:
        """A forward hook of ``self.<attr>``: what it stores on ``self`` (``self.feat =
        output.detach()``) is what forward later reads there."""
        method = self.facts.methods.get(name)
        if method is None or name in self.active or self.depth >= MAX_CALL_DEPTH:
            return
        params = [p.name.value for p in function_params(method)][1:]
        bound = dict(zip(params, [NONE, self._union(args), output]))
        self.active.add(name)
        self.depth += 1
        try:
            after = Flow(self).run(list(statements(method.body)), bound)
        finally:
            self.depth -= 1
            self.active.discard(name)
        env.update({k: v for k, v in after.items() if k.startswith("self.")})

    def self_call(self, name: str, call: cst.Call, args: list[Grad], env) -> Grad:
        method = self.facts.methods.get(name)
        if method is None or name in self.active or self.depth >= MAX_CALL_DEPTH:
            return self.module_call(name, args, env) if method is None else self._union(args)
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
                if type(method.body) is cst.IndentedBlock
                else [method.body],
                bound,
            )
            result = flow.returned()
        finally:
            self.depth -= 1
            self.active.discard(name)
        return result if result is not None else NONE


def _top_functions(source: SourceFile) -> dict[str, cst.FunctionDef]:
    """The file's top-level functions by name; of two with one name, the first."""
    def compute() -> dict[str, cst.FunctionDef]:
        found: dict[str, cst.FunctionDef] = {}
        for stmt in source.module.body:
            if type(stmt) is cst.FunctionDef:
                found.setdefault(stmt.name.value, stmt)
        return found

    return cached_fact(source, "top_functions", compute)


def _cut_helper(source: SourceFile, qualified: str | None):
    """``foreign_definition`` of a helper that may cut, asked once per file and name: the
    resolver's answer, and the dependency it records, are the same each time."""
    known = cached_fact(source, "cut_helpers", dict)
    if qualified not in known:
        known[qualified] = foreign_definition(source, qualified, also=CUT_TEXT.matches)
    return known[qualified]


def _undetached(expr: cst.BaseExpression) -> cst.BaseExpression:
    """``h`` for ``h.detach().cpu()``: the detach that ``.numpy()`` requires is part of that conversion."""
    inner = expr
    while type(inner) is cst.Call:
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
