"""What the parts of the interpreter share, and the interfaces they call each other through.

``Interpreter`` is one class joined from parts, one module each (as mypy splits its
checker into checker.py, checkexpr.py and checkmember.py around checker_shared.py):
statements, expressions, operators, calls, classes, attributes and containers. A part
calls the others through ``self``; ``Interp`` says what it may call, so a part reaches
the others' methods without importing them. The torch side (``modules.py``,
``module_objects.py``), the builtins (``Builtin.fn``) and the forward walk
(``graph.py``, ``functional.py``) call the interpreter through ``Interp`` too, and the
interpreter calls the graph builder through ``GraphWalk``.

The parts subclass ``InterpPart`` (the graph builder's part, ``GraphPart``): the
protocol for a type checker, ``object`` at run time, so that a method call costs no
more than it did in one class.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

import libcst as cst

from gradlint.frontends.python.values import ClassVal, FuncVal, Mod, ParamRef, Site, Tensor
from gradlint.ir import LayerGraph

if TYPE_CHECKING:
    from gradlint.frontends.python.index import Project

MAX_STEPS = 400_000
MAX_LOOP_ITERATIONS = 10_000
MAX_DEPTH = 12
MAX_COLLECTION = 100_000


class Abort(Exception):
    """The budget ran out, or the code raised: the model cannot be resolved."""


class _Return(Exception):
    def __init__(self, value: Any) -> None:
        self.value = value


class _Break(Exception):
    pass


class _Continue(Exception):
    pass


CONTROL_FLOW = (_Return, _Break, _Continue)


class Frame:
    __slots__ = ("diverged", "file", "func", "locals", "parent")

    def __init__(self, file: Any, parent: Frame | None = None, func: FuncVal | None = None) -> None:
        self.file = file
        self.locals: dict[str, Any] = {}
        self.parent = parent
        self.func = func
        # (value, state): a function returned ``value`` under a condition that cannot be
        # decided, with the interpreter's shared state as it was then (see Statements)
        self.diverged: tuple[Any, Any] | None = None


_PLAIN = (int, float, str, bool, type(None), tuple, list, dict, range, bytes, set, frozenset)


def plain(value: Any) -> bool:
    return isinstance(value, _PLAIN)


class GraphWalk(Protocol):
    """The forward walk's ``graph.GraphBuilder``, as the interpreter and the torch side call it
    (``interp.graph`` while forward is walked) and as the builder's own parts do."""

    graph: LayerGraph
    names: dict[int, str]
    used: set[int]
    param_index: dict[int, int | None]

    def node(self, op: str, name: str, where: Any, inputs: list[int], **kw: Any) -> Tensor: ...

    def scoped(self, name: str) -> str: ...

    def opaque(self, interp: Interp, args: list, kwargs: dict, site: Site | None, name: str = "call") -> Any: ...

    def call_module(self, interp: Interp, mod: Mod, args: list, kwargs: dict, torch_only: bool = False) -> Any: ...

    def functional(self, interp: Interp, name: str, args: list, kwargs: dict, site: Site | None,
                   method: bool = False) -> Any: ...

    def binop(self, interp: Interp, op: Any, left: Any, right: Any, site: Site | None) -> Any: ...

    def param_layer(self, x: Tensor, ref: ParamRef, bias: Any, site: Site | None, stored_transposed: bool) -> Any: ...


class Interp(Protocol):
    """The interpreter as its parts, the torch side and the graph builder call it."""

    project: Project
    steps: int
    loops: int
    depth: int
    incomplete: bool
    reasons: list
    mutations: int
    plain_sets: list
    graph: GraphWalk | None
    site: Site | None

    # interpreter.py: the budget, names, the dispatch of expressions
    def unknown(self, where: str) -> None: ...

    def tick(self) -> None: ...

    def loop_tick(self) -> None: ...

    def lookup(self, frame: Frame, name: str) -> Any: ...

    def global_value(self, file: Any, name: str) -> Any: ...

    def import_value(self, file: Any, qualified: str) -> Any: ...

    def eval(self, node: cst.BaseExpression, frame: Frame) -> Any: ...

    # statements.py
    def exec_block(self, block: cst.BaseSuite, frame: Frame) -> None: ...

    def exec_stmt(self, stmt: cst.CSTNode, frame: Frame) -> None: ...

    def assign(self, target: cst.BaseExpression, value: Any, frame: Frame) -> None: ...

    def state(self) -> tuple[int, int]: ...

    # operators.py
    def binop(self, op: Any, left: Any, right: Any, inplace: bool = False, site: Site | None = None) -> Any: ...

    def truth(self, value: Any) -> Any: ...

    # calls.py
    def call(self, func: Any, args: list, kwargs: dict, site: Site | None = None) -> Any: ...

    def invoke(self, func: FuncVal, args: list, kwargs: dict, receiver: Any = None) -> Any: ...

    # classes.py
    def make_class(self, file: Any, node: cst.ClassDef) -> ClassVal: ...

    def class_attr(self, cls: ClassVal, name: str) -> tuple[Any, ClassVal | None]: ...

    def instantiate(self, cls: ClassVal, args: list, kwargs: dict, site: Site | None) -> Any: ...

    # attributes.py
    def getattr(self, obj: Any, name: str) -> Any: ...

    def _bind(self, receiver: Any, value: Any, owner: ClassVal | None) -> Any: ...

    def setattr(self, obj: Any, name: str, value: Any) -> None: ...

    def setitem(self, obj: Any, key: Any, value: Any) -> None: ...

    def iterate(self, value: Any) -> list | None: ...


if TYPE_CHECKING:
    InterpPart = Interp
    GraphPart = GraphWalk
else:
    InterpPart = GraphPart = object
