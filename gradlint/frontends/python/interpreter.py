"""An abstract interpreter for the Python that builds models.

It evaluates statements and expressions over the values of ``values.py``:
constants, containers, classes and functions of the linted tree, torch.nn
layers, and UNKNOWN for everything else. It never imports or runs the code it
reads. Every loop, call and expression counts against a budget, so hostile code
ends in ``Abort`` instead of a hang.

The class is joined from parts, one job each: statements (``statements.py``),
expressions (``expressions.py``), operators (``operators.py``), calls
(``calls.py``), classes (``classes.py``), attributes and containers
(``attributes.py``). This module adds the budget, names and the dispatch of
expressions. The parts call each other through ``self``, typed by the ``Interp``
protocol of ``shared.py``, so none of them imports this module.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import libcst as cst

from gradlint.frontends.python import builtins as pybuiltins
from gradlint.frontends.python import stdlib
from gradlint.frontends.python.attributes import Attributes
from gradlint.frontends.python.calls import Calls
from gradlint.frontends.python.classes import Classes
from gradlint.frontends.python.expressions import Expressions
from gradlint.frontends.python.operators import Operators
from gradlint.frontends.python.shared import (
    CONTROL_FLOW,
    MAX_COLLECTION,
    MAX_DEPTH,
    MAX_LOOP_ITERATIONS,
    MAX_STEPS,
    Abort,
    Frame,
    GraphWalk,
    plain,
)
from gradlint.frontends.python.statements import Statements
from gradlint.frontends.python.values import UNKNOWN, FuncVal, ModuleRef, Namespace, Site, TorchRef
from gradlint.names import canonical_torch

if TYPE_CHECKING:
    from gradlint.frontends.python.index import Project

__all__ = [
    "CONTROL_FLOW",
    "MAX_COLLECTION",
    "MAX_DEPTH",
    "MAX_LOOP_ITERATIONS",
    "MAX_STEPS",
    "Abort",
    "Frame",
    "Interpreter",
    "plain",
]


class Interpreter(Statements, Expressions, Operators, Calls, Classes, Attributes):
    def __init__(self, project: Project) -> None:
        self.project = project
        self.steps = 0
        self.loops = 0
        self.depth = 0
        self.incomplete = False  # something the model depends on was unknown
        self.reasons: list = []
        self.mutations = 0  # counts changes to shared objects (modules, lists, dicts, inits)
        self.plain_sets: list = []  # (module, name) of plain values set on modules: no layer
        self.graph: GraphWalk | None = None  # the forward GraphBuilder while walking forward
        self.site: Site | None = None  # the call being evaluated, for nodes of builtin calls

    def unknown(self, where: str) -> None:
        """Something the model depends on could not be known; the graph will say incomplete."""
        self.incomplete = True
        if len(self.reasons) < 8:
            self.reasons.append((where, self.site))

    # -- budget ---------------------------------------------------------------------------

    def tick(self) -> None:
        self.steps += 1
        if self.steps > MAX_STEPS:
            raise Abort("step budget")

    def loop_tick(self) -> None:
        self.loops += 1
        if self.loops > MAX_LOOP_ITERATIONS:
            raise Abort("loop budget")

    # -- names ----------------------------------------------------------------------------

    def lookup(self, frame: Frame, name: str) -> Any:
        f: Frame | None = frame
        while f is not None:
            if name in f.locals:
                return f.locals[name]
            f = f.parent
        return self.global_value(frame.file, name)

    def global_value(self, file: Any, name: str) -> Any:
        if name in file.globals:
            return file.globals[name]
        if name in file.evaluating:
            return UNKNOWN
        stmt = file.definitions.get(name)
        file.evaluating.add(name)
        try:
            if stmt is None:
                if name in file.imports:
                    value = self.import_value(file, file.imports[name])
                else:
                    value = self._star_imported(file, name)
            elif type(stmt) is cst.ClassDef:
                value = self.make_class(file, stmt)
            elif type(stmt) is cst.FunctionDef:
                value = FuncVal(stmt, file)
            else:
                value = UNKNOWN
                targets = [t.target for t in stmt.targets] if type(stmt) is cst.Assign else [stmt.target]
                if stmt.value is not None:
                    try:
                        result = self.eval(stmt.value, Frame(file))
                    except (Abort, RecursionError):
                        result = UNKNOWN
                    scratch = Frame(file)
                    for target in targets:
                        self.assign(target, result, scratch)
                    value = scratch.locals.get(name, UNKNOWN)
        finally:
            file.evaluating.discard(name)
        file.globals[name] = value
        return value

    def _star_imported(self, file: Any, name: str) -> Any:
        """A name no statement of the file binds: from a module it imports with ``*`` (the
        last such import that defines it, as Python binds it), else a builtin."""
        for module in reversed(getattr(file, "star_imports", ())):
            target = self.project.resolve_module(module, file)
            if target is not None and target is not file and (name in target.definitions or name in target.imports):
                return self.global_value(target, name)
        return pybuiltins.BUILTINS.get(name, UNKNOWN)

    def import_value(self, file: Any, qualified: str) -> Any:
        if qualified == "torch" or qualified.startswith("torch."):
            return TorchRef(canonical_torch(qualified) or qualified)
        head = qualified.split(".")[0]
        if head in stdlib.NAMESPACES:
            value: Any = stdlib.NAMESPACES[head]
            for part in qualified.split(".")[1:]:
                value = value.members.get(part, UNKNOWN) if isinstance(value, Namespace) else UNKNOWN
            return value
        target = self.project.resolve_module(qualified, file)
        if target is not None:
            return ModuleRef(target, qualified)
        dots = qualified[: len(qualified) - len(qualified.lstrip("."))]
        rest = qualified[len(dots):]
        module, _, attr = rest.rpartition(".")
        module = dots + module
        if module:
            target = self.project.resolve_module(module, file)
            if target is not None and target is not file:
                return self.global_value(target, attr)
        return UNKNOWN

    # -- expressions ----------------------------------------------------------------------

    def eval(self, node: cst.BaseExpression, frame: Frame) -> Any:
        self.tick()
        kind = type(node)
        method = _EVALUATORS.get(kind)
        if method is None:
            method = _EVALUATORS[kind] = getattr(Interpreter, "_eval_" + kind.__name__, _unknown_expression)
        return method(self, node, frame)


_EVALUATORS: dict[type, Any] = {}  # node type -> Interpreter._eval_<type>, looked up once


def _unknown_expression(interp: Interpreter, node: cst.BaseExpression, frame: Frame) -> Any:
    return UNKNOWN
