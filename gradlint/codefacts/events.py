"""Training-loop events in program order: backward, zero_grad, optimizer step, gradient clipping.

A function body becomes a tree of events, branches and loops; calls of functions and
methods defined in the same file are followed, as is the closure handed to ``step``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import libcst as cst

from gradlint import torch_api
from gradlint.codefacts.event_tree import Branch, Event, Loop, changed, flatten
from gradlint.codefacts.foreign import foreign_definition as foreign
from gradlint.codefacts.syntax import (
    cached_fact,
    calls_in_order,
    children,
    imports_of,
    last_name,
    method_call,
    positional,
    statements,
    walk,
)
from gradlint.codefacts.updates import parameter_names, update_direction
from gradlint.names import ImportMap, canonical_torch, dotted

BACKWARD, ZERO, STEP, CLIP = "backward", "zero", "step", "clip"
PARAMETER = "<parameter>"  # the target of a zero that clears one tensor's gradient
# mixed precision: a scaler's unscale_ and update, an autocast context, a model cast to half
UNSCALE, UPDATE, AUTOCAST, HALF = "unscale", "update", "autocast", "half"
# how a backward was called: on a loss a scaler scaled, or by a framework that scales itself
SCALED, MANAGED = "scaled", "managed"
MAX_INLINE_DEPTH = 2
OPTIMIZER_NAME = re.compile(r"opt", re.IGNORECASE)
SCHEDULER_NAME = re.compile(r"sched|lr_", re.IGNORECASE)
SCALER_NAME = re.compile(r"scaler", re.IGNORECASE)
# functions that evaluate, export or sample from a model: their float16 casts train nothing
INFERENCE_NAME = re.compile(r"eval|test|infer|predict|export|valid|sampl|generat|demo", re.IGNORECASE)
FRAMEWORK_NAME = re.compile(r"accelerat|fabric|engine|trainer|deepspeed|lightning|strategy")


@dataclass
class FileScope:
    """What the file defines that event extraction needs to look up."""

    module: cst.Module
    imports: ImportMap
    source: object = None  # the SourceFile, through whose resolver helpers of other files are read
    functions: dict[str, cst.FunctionDef] = field(default_factory=dict)
    methods: dict[str, dict[str, cst.FunctionDef]] = field(default_factory=dict)
    optimizers: set[str] = field(default_factory=set)
    schedulers: set[str] = field(default_factory=set)
    scalers: set[str] = field(default_factory=set)

    @classmethod
    def of(cls, module: cst.Module, imports: ImportMap, source=None) -> FileScope:
        scope = cls(module, imports, source)
        for stmt in module.body:
            if type(stmt) is cst.FunctionDef:
                scope.functions[stmt.name.value] = stmt
            elif type(stmt) is cst.ClassDef:
                scope.methods[stmt.name.value] = {
                    s.name.value: s for s in statements(stmt.body) if type(s) is cst.FunctionDef
                }
        stack: list[cst.CSTNode] = [module]
        while stack:
            node = stack.pop()
            stack.extend(children(node))
            if type(node) is cst.Assign and type(node.value) is cst.Call:
                made = canonical_torch(scope.imports.qualify(node.value.func)) or ""
                names = {last_name(t.target) for t in node.targets} - {None}
                if torch_api.scheduler_class(made):
                    scope.schedulers |= names
                elif torch_api.optimiser_class(made):
                    scope.optimizers |= names
                elif torch_api.scaler_class(made):
                    scope.scalers |= names
        return scope


class EventBuilder:
    def __init__(self, scope: FileScope, owner: str | None) -> None:
        self.scope = scope
        self.owner = owner
        self.depth = 0
        self.params: set[str] = set()
        self.local_defs: dict[str, cst.FunctionDef] = {}
        self.scaled: set[str] = set()  # names bound to ``scaler.scale(loss)``

    def function(self, func: cst.FunctionDef) -> list:
        saved = self.params, self.local_defs
        self.params = saved[0] | parameter_names(func)
        self.local_defs = dict(saved[1])
        try:
            return self.block(statements(func.body))
        finally:
            self.params, self.local_defs = saved

    def block(self, stmts) -> list:
        items: list = []
        for stmt in stmts:
            items.extend(self.statement(stmt))
        return items

    def statement(self, stmt: cst.CSTNode) -> list:
        if type(stmt) in (cst.SimpleStatementLine, cst.SimpleStatementSuite):
            items: list = []
            for small in stmt.body:
                items.extend(self.small(small))
            return items
        if type(stmt) is cst.If:
            other = self.statement(stmt.orelse) if stmt.orelse is not None else []
            return [
                *self.calls(stmt.test),
                Branch([self.block(statements(stmt.body)), other], stmt.test),
            ]
        if type(stmt) is cst.Else:
            return self.block(statements(stmt.body))
        if type(stmt) in (cst.For, cst.While):
            head = self.calls(stmt.iter if type(stmt) is cst.For else stmt.test)
            return [*head, Loop(stmt, self.block(statements(stmt.body)))]
        if type(stmt) is cst.With:
            body = self.block(statements(stmt.body))
            if any(self.disables_grad(item.item) for item in stmt.items):
                body = _without_casts(body)  # evaluation inside the training function
            return [*[e for item in stmt.items for e in self.calls(item.item)], *body]
        if type(stmt) is cst.Try:
            items = self.block(statements(stmt.body))
            if stmt.finalbody is not None:
                items += self.block(statements(stmt.finalbody.body))
            return items
        if type(stmt) is cst.FunctionDef:
            self.local_defs[stmt.name.value] = stmt
        return []

    def small(self, node: cst.BaseSmallStatement) -> list:
        items = self.calls(node)
        if type(node) is cst.Assign:
            targets = [dotted(t.target) for t in node.targets]
            if self.is_scale(node.value):
                self.scaled.update(t for t in targets if t)
            for event in items:
                if isinstance(event, Event) and event.kind == HALF and event.target is None and targets[0]:
                    event.target = targets[0]  # model = Net().half()
            for target in node.targets:
                name = dotted(target.target) or ""
                if (
                    name.endswith(".grad")
                    and type(node.value) is cst.Name
                    and node.value.value == "None"
                ):  # one tensor's gradient: some of the parameters, perhaps on purpose
                    items.append(Event(ZERO, node, PARAMETER))
        if type(node) in (cst.AugAssign, cst.Assign) and update_direction(node, self.params):
            items.append(Event(STEP, node, "manual"))
        return items

    def calls(self, node: cst.CSTNode) -> list:
        items: list = []
        for call in calls_in_order(node):
            items.extend(self.call(call))
        return items

    def call(self, call: cst.Call) -> list:
        found = method_call(call)
        qualified = canonical_torch(self.scope.imports.qualify(call.func)) or ""
        if torch_api.clips_gradients(qualified) and not _clipping_off(call):
            return [Event(CLIP, call)]
        if qualified in torch_api.names("autograd.distributed_backward_functions"):
            return []  # gradients go to the context, which each iteration opens afresh
        if qualified in torch_api.names("autograd.backward_functions"):
            return [Event(BACKWARD, call)]
        if qualified in torch_api.names("precision.autocast_contexts"):
            return [Event(AUTOCAST, call, qualified)]
        if found is not None:
            receiver, name = found
            receiver_name = last_name(receiver) or ""
            receiver_text = dotted(receiver) or ""
            if name in ("backward", "manual_backward"):
                wrapped = self.own_backward(call, receiver_text, name)
                if wrapped is not None:
                    return wrapped
                return [Event(BACKWARD, call, mode=self.backward_mode(call, receiver, name))]
            if self.is_scaler(receiver_name) and name in ("unscale_", "update"):
                args = positional(call)
                kind = UNSCALE if name == "unscale_" else UPDATE
                return [Event(kind, call, dotted(args[0]) if args else None)]
            if name in torch_api.names("precision.half_methods") or (
                name == "to" and _casts_to_float16(call, self.scope.imports)
            ):
                return [Event(HALF, call, receiver_text or None)]
            if name == "zero_grad":
                return [
                    Event(ZERO, call, receiver_text if self.is_optimizer(receiver_name) else None)
                ]
            if name in ("zero_", "detach_") and receiver_text.endswith((".grad", ".grad.data")):
                return [Event(ZERO, call)]
            if name == "step":
                return self.step(call, receiver_name, receiver_text)
            if name in ("add_", "sub_") and update_direction(call, self.params):
                return [Event(STEP, call, "manual")]
            if receiver_text == "self" and self.owner is not None:
                own = self.own_method(call, name)
                if own is not None:
                    return own
            if "zero_grad" in name:
                return [Event(ZERO, call)]
            head = (dotted(receiver) or "").split(".")[0]
            if head in self.scope.imports.aliases:  # utils.step_all(...): a helper of another file
                helper = foreign_definition(self.scope, self.scope.imports.qualify(call.func))
                return self.at(call, self.inline(*helper)) if helper is not None else []
            return []
        if type(call.func) is cst.Name:
            func = self.local_defs.get(call.func.value) or self.scope.functions.get(call.func.value)
            helper = foreign_definition(self.scope, self.scope.imports.qualify(call.func)) if func is None else None
            inlined = self.inline(func) if func is not None else (
                self.at(call, self.inline(*helper)) if helper is not None else []
            )
            if not inlined and "zero_grad" in call.func.value:
                return [Event(ZERO, call)]  # zero_grad(params), beyond the inlining depth
            return inlined
        return []

    def at(self, call: cst.Call, items: list) -> list:
        """Events of another file's helper, placed at the call in this one."""
        out: list = []
        for item in items:
            if isinstance(item, Event):
                out.append(Event(item.kind, call, item.target, item.mode))
            elif isinstance(item, Branch):
                out.append(Branch([self.at(call, arm) for arm in item.arms], item.test))
            else:
                out.append(Loop(call, self.at(call, item.body)))
        return out

    def inherited(self, name: str) -> tuple[cst.FunctionDef, FileScope, str] | None:
        """A method of the owner's base class defined in another file of the tree."""
        owner = next(
            (s for s in self.scope.module.body
             if type(s) is cst.ClassDef and s.name.value == self.owner),
            None,
        )
        for base in owner.bases if owner is not None else ():
            found = foreign_definition(self.scope, self.scope.imports.qualify(base.value), name)
            if found is not None:
                return found
        return None
    def own_method(self, call: cst.Call, name: str) -> list | None:
        """Events of ``self.<name>(...)``: a method of the class, or of a base class of another
        file; None when neither defines it."""
        method = self.scope.methods.get(self.owner or "", {}).get(name)
        if method is not None:
            return self.inline(method)
        inherited = self.inherited(name)
        return self.at(call, self.inline(*inherited)) if inherited is not None else None

    def own_backward(self, call: cst.Call, receiver_text: str, name: str) -> list | None:
        """``self.backward(loss)`` of a class that writes its own (a trainer's wrapper around
        ``scaler.scale(loss).backward()``, here or in a base class of another file): the
        method's events, when they hold the backward. Handed a scaled loss, its plain
        backward is a scaled one."""
        if receiver_text != "self" or self.owner is None:
            return None
        items = self.own_method(call, name) or []
        if not any(event.kind == BACKWARD for event in flatten(items)):
            return None
        if any(self.is_scale(arg.value) for arg in call.args):
            items = changed(items, lambda e: Event(e.kind, e.node, e.target, SCALED)
                             if e.kind == BACKWARD and not e.mode else e)
        return items

    def is_scaler(self, name: str) -> bool:
        return name in self.scope.scalers or bool(SCALER_NAME.search(name))

    def is_scale(self, expr: cst.BaseExpression, returned: bool = True) -> bool:
        """``scaler.scale(loss)``, a name bound to it, or (``returned``) a call of a method
        of the class that returns it (``loss = self.pre_backward(loss)``)."""
        if type(expr) is cst.Call:
            found = method_call(expr)
            if found is not None and found[1] == "scale" and self.is_scaler(last_name(found[0]) or ""):
                return True
            method = (self.scope.methods.get(self.owner or "", {}).get(found[1])
                      if returned and found is not None and dotted(found[0]) == "self" else None)
            return method is not None and any(
                type(node) is cst.Return and node.value is not None and self.is_scale(node.value, False)
                for node in walk(method)
            )
        name = dotted(expr)
        return name is not None and name in self.scaled

    def backward_mode(self, call: cst.Call, receiver: cst.BaseExpression, name: str) -> str:
        """SCALED for ``scaler.scale(loss).backward()``; MANAGED for a framework's backward
        (``accelerator.backward(loss)``, ``self.manual_backward(loss)``), which scales itself."""
        if self.is_scale(receiver):
            return SCALED
        if name == "manual_backward" or _framework(receiver):
            return MANAGED
        return ""

    def step(self, call: cst.Call, receiver_name: str, receiver_text: str) -> list:
        if self.is_scaler(receiver_name):
            args = positional(call)
            return [Event(STEP, call, dotted(args[0]) if args else None, SCALED)]
        if receiver_name in self.scope.schedulers or (
            SCHEDULER_NAME.search(receiver_name) and receiver_name not in self.scope.optimizers
        ):
            return []
        if not self.is_optimizer(receiver_name):
            return []  # env.step(action), trainer.step(): not an optimizer
        items: list = []
        args = positional(call)
        if args and type(args[0]) is cst.Name:
            closure = self.local_defs.get(args[0].value) or self.scope.functions.get(args[0].value)
            if closure is not None:
                items = self.inline(closure)
        return [*items, Event(STEP, call, receiver_text)]

    def is_optimizer(self, name: str) -> bool:
        return name in self.scope.optimizers or bool(OPTIMIZER_NAME.search(name))

    def inline(
        self, func: cst.FunctionDef, scope: FileScope | None = None, owner: str | None = None
    ) -> list:
        if self.depth >= MAX_INLINE_DEPTH:
            return []
        self.depth += 1
        saved = self.scope, self.owner
        if scope is not None:
            self.scope, self.owner = scope, owner
        try:
            items = self.function(func)
        finally:
            self.depth -= 1
            self.scope, self.owner = saved
        inference = any(self.disables_grad(d.decorator) for d in func.decorators)
        return _without_casts(items) if inference or INFERENCE_NAME.search(func.name.value) else items

    def disables_grad(self, expr: cst.BaseExpression) -> bool:
        """``torch.no_grad()``, ``torch.inference_mode()``, ``@torch.no_grad``."""
        func = expr.func if type(expr) is cst.Call else expr
        return torch_api.no_grad_context(canonical_torch(self.scope.imports.qualify(func)))


def _without_casts(items: list) -> list:
    """The events of ``items`` less the float16 casts: those of code that computes no gradient."""
    return changed(items, lambda event: None if event.kind in (AUTOCAST, HALF) else event)


def _clipping_off(call: cst.Call) -> bool:
    """``clip_grad_norm_(params, max_norm, clip_grad=False)``: a project's clipping helper told
    only to measure the norm."""
    return any(arg.keyword is not None and "clip" in arg.keyword.value
               and type(arg.value) is cst.Name and arg.value.value == "False" for arg in call.args)


def _framework(receiver: cst.BaseExpression) -> bool:
    """``accelerator.backward(loss)``, ``self.fabric.backward(loss)``, ``engine.backward(loss)``:
    a backward that takes the loss as its argument belongs to a training framework."""
    name = (last_name(receiver) or "").lower()
    return bool(FRAMEWORK_NAME.search(name))


def _casts_to_float16(call: cst.Call, imports: ImportMap) -> bool:
    """``.to(torch.float16)``, ``.to(dtype=torch.half)``, ``.to(device, torch.float16)``."""
    for arg in call.args:
        if arg.keyword is None or arg.keyword.value == "dtype":
            qualified = canonical_torch(imports.qualify(arg.value)) or ""
            if qualified in torch_api.names("precision.float16"):
                return True
    return False


def foreign_definition(
    scope: FileScope, qualified: str | None, method: str | None = None
) -> tuple[cst.FunctionDef, FileScope, str | None] | None:
    """A helper (or a base class's method) of another file, with that file's scope."""
    found = foreign(scope.source, qualified, method)
    if found is None:
        return None
    func, other = found
    other_scope = cached_fact(
        other, "event_scope", lambda: FileScope.of(other.module, imports_of(other), other)
    )
    return func, other_scope, (qualified or "").rsplit(".", 1)[-1] if method else None
