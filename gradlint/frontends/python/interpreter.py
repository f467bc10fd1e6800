"""An abstract interpreter for the Python that builds models.

It evaluates statements and expressions over the values of ``values.py``:
constants, containers, classes and functions of the linted tree, torch.nn
layers, and UNKNOWN for everything else. It never imports or runs the code it
reads. Every loop, call and expression counts against a budget, so hostile code
ends in ``Abort`` instead of a hang.
"""

from __future__ import annotations

import operator
from functools import lru_cache
from typing import Any

import libcst as cst

from gradlint import torch_api
from gradlint.frontends.python import builtins as pybuiltins
from gradlint.frontends.python import modules as nnmod
from gradlint.frontends.python.values import (
    UNKNOWN,
    VALUE_ERRORS,
    Bound,
    Builtin,
    ClassVal,
    FuncVal,
    Mod,
    ModuleRef,
    Namespace,
    Obj,
    Param,
    ParamRef,
    Partial,
    Pieces,
    Site,
    Super,
    Tensor,
    TorchRef,
)
from gradlint.names import canonical_torch

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
    __slots__ = ("file", "func", "locals", "parent")

    def __init__(self, file: Any, parent: Frame | None = None, func: FuncVal | None = None) -> None:
        self.file = file
        self.locals: dict[str, Any] = {}
        self.parent = parent
        self.func = func


_BINOPS = {
    cst.Add: operator.add, cst.Subtract: operator.sub, cst.Multiply: operator.mul,
    cst.Divide: operator.truediv, cst.FloorDivide: operator.floordiv, cst.Modulo: operator.mod,
    cst.Power: operator.pow, cst.BitAnd: operator.and_, cst.BitOr: operator.or_, cst.BitXor: operator.xor,
    cst.LeftShift: operator.lshift, cst.RightShift: operator.rshift, cst.MatrixMultiply: operator.matmul,
}
_AUGOPS = {
    cst.AddAssign: cst.Add, cst.SubtractAssign: cst.Subtract, cst.MultiplyAssign: cst.Multiply,
    cst.DivideAssign: cst.Divide, cst.FloorDivideAssign: cst.FloorDivide, cst.ModuloAssign: cst.Modulo,
    cst.PowerAssign: cst.Power, cst.BitOrAssign: cst.BitOr, cst.BitAndAssign: cst.BitAnd,
    cst.MatrixMultiplyAssign: cst.MatrixMultiply,
}
_COMPARE = {
    cst.Equal: operator.eq, cst.NotEqual: operator.ne, cst.LessThan: operator.lt, cst.GreaterThan: operator.gt,
    cst.LessThanEqual: operator.le, cst.GreaterThanEqual: operator.ge,
}
_PLAIN = (int, float, str, bool, type(None), tuple, list, dict, range, bytes, set, frozenset)


def plain(value: Any) -> bool:
    return isinstance(value, _PLAIN)


class Interpreter:
    def __init__(self, project: Any) -> None:
        self.project = project
        self.steps = 0
        self.loops = 0
        self.depth = 0
        self.incomplete = False  # something the model depends on was unknown
        self.reasons: list = []
        self.mutations = 0  # counts changes to shared objects (modules, lists, dicts, inits)
        self.graph: Any = None  # the forward GraphBuilder while walking forward
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
                    value = pybuiltins.BUILTINS.get(name, UNKNOWN)
            elif isinstance(stmt, cst.ClassDef):
                value = self.make_class(file, stmt)
            elif isinstance(stmt, cst.FunctionDef):
                value = FuncVal(stmt, file)
            else:
                value = UNKNOWN
                targets = [t.target for t in stmt.targets] if isinstance(stmt, cst.Assign) else [stmt.target]
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

    def import_value(self, file: Any, qualified: str) -> Any:
        if qualified == "torch" or qualified.startswith("torch."):
            return TorchRef(canonical_torch(qualified) or qualified)
        head = qualified.split(".")[0]
        if head in pybuiltins.NAMESPACES:
            value: Any = pybuiltins.NAMESPACES[head]
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

    # -- classes --------------------------------------------------------------------------

    def make_class(self, file: Any, node: cst.ClassDef) -> ClassVal:
        """A class of the linted tree. Bases are resolved only until a torch base is found:
        mixins after ``nn.Module`` (often in files of their own) are read when first needed."""
        frame = Frame(file)
        pending = [arg.value for arg in node.bases if arg.keyword is None and arg.star == ""]
        bases: list = []
        torch_base = None
        while pending and torch_base is None:
            base = self.eval(pending.pop(0), frame)
            bases.append(base)
            if isinstance(base, TorchRef) and base.qualname.startswith("torch.nn."):
                name = base.qualname.rsplit(".", 1)[-1]
                if (
                    name == torch_api.module_base()
                    or name in torch_api.containers()
                    or name in nnmod.SPECS
                ):
                    torch_base = name
            elif isinstance(base, ClassVal) and base.torch_base:
                torch_base = base.torch_base
        is_dataclass = any((_decorator_name(dec) or "").endswith("dataclass") for dec in node.decorators)
        cls = ClassVal(node.name.value, node, file, bases, torch_base, torch_base is not None, is_dataclass)
        cls.attr_cache = {}  # type: ignore[attr-defined]
        if pending:
            def finish() -> None:
                while pending:
                    try:
                        bases.append(self.eval(pending.pop(0), frame))
                    except (Abort, RecursionError):
                        bases.append(UNKNOWN)

            cls.finish_bases = finish
        return cls

    def class_attr(self, cls: ClassVal, name: str) -> tuple[Any, ClassVal | None]:
        """(value, defining class) of a class attribute or method, searching the MRO."""
        for klass in cls.mro():
            cache = klass.attr_cache  # type: ignore[attr-defined]
            if name in cache:
                return cache[name], klass
            found = _class_body_definition(klass.node, name)
            if found is None:
                continue
            if isinstance(found, cst.FunctionDef):
                value: Any = FuncVal(found, klass.file, None, klass)
                kinds = {_decorator_name(d) for d in found.decorators}
                if "property" in kinds:
                    value.property = True  # type: ignore[attr-defined]
                if "staticmethod" in kinds:
                    value.static = True  # type: ignore[attr-defined]
                if "classmethod" in kinds:
                    value.classmethod = True  # type: ignore[attr-defined]
            else:
                value = UNKNOWN
                if found.value is not None:
                    value = self.eval(found.value, Frame(klass.file))
            cache[name] = value
            return value, klass
        return UNKNOWN, None

    def instantiate(self, cls: ClassVal, args: list, kwargs: dict, site: Site | None) -> Any:
        if cls.is_module:
            mod = Mod(cls.name, site, cls=cls)
            cls.mro()
            if any(b is UNKNOWN for b in cls.bases):
                self.unknown("a base class outside the linted tree")
            init, _ = self.class_attr(cls, "__init__")
            if isinstance(init, FuncVal):
                self.invoke(init, args, kwargs, receiver=mod)
            else:
                nnmod.torch_base_init(self, mod, cls.torch_base, args, kwargs)
            return mod
        obj = Obj(cls)
        if cls.is_dataclass:
            self._dataclass_init(obj, args, kwargs)
            post, _ = self.class_attr(cls, "__post_init__")
            if isinstance(post, FuncVal):
                self.invoke(post, [], {}, receiver=obj)
            return obj
        init, _ = self.class_attr(cls, "__init__")
        if isinstance(init, FuncVal):
            self.invoke(init, args, kwargs, receiver=obj)
        elif any(b is UNKNOWN for b in cls.bases):
            return UNKNOWN
        return obj

    def _dataclass_init(self, obj: Obj, args: list, kwargs: dict) -> None:
        fields: list[tuple[str, cst.AnnAssign]] = []
        for klass in reversed(obj.cls.mro()):
            for stmt in _class_body_statements(klass.node):
                if isinstance(stmt, cst.AnnAssign) and isinstance(stmt.target, cst.Name):
                    fields = [f for f in fields if f[0] != stmt.target.value]
                    fields.append((stmt.target.value, stmt))
        for index, (name, stmt) in enumerate(fields):
            if index < len(args):
                value = args[index]
            elif name in kwargs:
                value = kwargs[name]
            elif stmt.value is None:
                value = UNKNOWN
            else:
                value = self.eval(stmt.value, Frame(obj.cls.file))
                if isinstance(value, pybuiltins.FieldSpec):
                    value = value.default()
            obj.attrs[name] = value

    # -- calls ----------------------------------------------------------------------------

    def call(self, func: Any, args: list, kwargs: dict, site: Site | None = None) -> Any:
        self.tick()
        self.site = site
        if isinstance(func, Builtin):
            return func.fn(self, args, kwargs)
        if isinstance(func, FuncVal):
            return self.invoke(func, args, kwargs)
        if isinstance(func, Bound):
            if isinstance(func.func, FuncVal):
                return self.invoke(func.func, args, kwargs, receiver=func.receiver)
            return self.call(func.func, [func.receiver, *args], kwargs, site)
        if isinstance(func, Partial):
            return self.call(func.func, [*func.args, *args], {**func.kwargs, **kwargs}, site)
        if isinstance(func, ClassVal):
            return self.instantiate(func, args, kwargs, site)
        if isinstance(func, TorchRef):
            return nnmod.call_torch(self, func.qualname, args, kwargs, site)
        if isinstance(func, Mod):
            if self.graph is not None:
                return self.graph.call_module(self, func, args, kwargs)
            return UNKNOWN
        if isinstance(func, Tensor) or func is UNKNOWN or not plain(func):
            if self.graph is not None:
                return self.graph.opaque(self, args, kwargs, site)
            nnmod.taint_inits(self, [*args, *kwargs.values()])
        return UNKNOWN

    def invoke(self, func: FuncVal, args: list, kwargs: dict, receiver: Any = None) -> Any:
        self.depth += 1
        try:
            if self.depth > MAX_DEPTH:
                self.unknown("calls nested too deeply")
                if self.graph is not None:
                    return self.graph.opaque(self, args, kwargs, None)
                return UNKNOWN
            frame = Frame(func.file, func.closure, func)
            if receiver is not None and not getattr(func, "static", False):
                args = [receiver, *args]
            self.bind_parameters(func.node.params, args, kwargs, frame)
            if isinstance(func.node, cst.Lambda):
                return self.eval(func.node.body, frame)
            try:
                self.exec_block(func.node.body, frame)
            except _Return as ret:
                return ret.value
            return None
        finally:
            self.depth -= 1

    def bind_parameters(self, params: cst.Parameters, args: list, kwargs: dict, frame: Frame) -> None:
        positional = list(params.posonly_params) + list(params.params)
        kwargs = dict(kwargs)
        rest = list(args)
        for param in positional:
            name = param.name.value
            if rest:
                frame.locals[name] = rest.pop(0)
            elif name in kwargs:
                frame.locals[name] = kwargs.pop(name)
            elif param.default is not None:
                frame.locals[name] = self.eval(param.default, Frame(frame.file, frame.parent))
            else:
                self.unknown("a call without a required argument")
                frame.locals[name] = UNKNOWN
        if isinstance(params.star_arg, cst.Param):
            frame.locals[params.star_arg.name.value] = tuple(rest)
        for param in params.kwonly_params:
            name = param.name.value
            if name in kwargs:
                frame.locals[name] = kwargs.pop(name)
            elif param.default is not None:
                frame.locals[name] = self.eval(param.default, Frame(frame.file, frame.parent))
            else:
                self.unknown("a call without a required keyword argument")
                frame.locals[name] = UNKNOWN
        if params.star_kwarg is not None:
            frame.locals[params.star_kwarg.name.value] = kwargs

    # -- statements -----------------------------------------------------------------------

    def exec_block(self, block: cst.BaseSuite, frame: Frame) -> None:
        if isinstance(block, cst.SimpleStatementSuite):
            for small in block.body:
                self.exec_small(small, frame)
            return
        for stmt in block.body:
            self.exec_stmt(stmt, frame)

    def exec_stmt(self, stmt: cst.CSTNode, frame: Frame) -> None:
        self.tick()
        if isinstance(stmt, cst.SimpleStatementLine):
            for small in stmt.body:
                self.exec_small(small, frame)
        elif isinstance(stmt, cst.If):
            self.exec_if(stmt, frame)
        elif isinstance(stmt, cst.For):
            self.exec_for(stmt, frame)
        elif isinstance(stmt, cst.While):
            self.exec_while(stmt, frame)
        elif isinstance(stmt, cst.With):
            for item in stmt.items:
                value = self.eval(item.item, frame)
                if item.asname is not None:
                    self.assign(item.asname.name, value, frame)
            self.exec_block(stmt.body, frame)
        elif isinstance(stmt, cst.Try):
            self.exec_block(stmt.body, frame)
            if stmt.orelse is not None:
                self.exec_block(stmt.orelse.body, frame)
            if stmt.finalbody is not None:
                self.exec_block(stmt.finalbody.body, frame)
        elif isinstance(stmt, cst.FunctionDef):
            func = FuncVal(stmt, frame.file, frame)
            frame.locals[stmt.name.value] = func
        elif isinstance(stmt, cst.ClassDef):
            frame.locals[stmt.name.value] = self.make_class(frame.file, stmt)
        # anything else (match, async, ...) is skipped; what it would define stays unknown

    def exec_small(self, small: cst.BaseSmallStatement, frame: Frame) -> None:
        if isinstance(small, cst.Expr):
            self.eval(small.value, frame)
        elif isinstance(small, cst.Assign):
            value = self.eval(small.value, frame)
            for target in small.targets:
                self.assign(target.target, value, frame)
        elif isinstance(small, cst.AnnAssign):
            if small.value is not None:
                self.assign(small.target, self.eval(small.value, frame), frame)
        elif isinstance(small, cst.AugAssign):
            current = self.eval(small.target, frame)
            op = _AUGOPS.get(type(small.operator))
            value = self.eval(small.value, frame)
            result = self.binop(op, current, value, inplace=True, site=Site(frame.file, small)) if op else UNKNOWN
            self.assign(small.target, result, frame)
        elif isinstance(small, cst.Return):
            raise _Return(None if small.value is None else self.eval(small.value, frame))
        elif isinstance(small, cst.Break):
            raise _Break()
        elif isinstance(small, cst.Continue):
            raise _Continue()
        elif isinstance(small, cst.Raise):
            raise Abort("raise")
        elif isinstance(small, (cst.Import, cst.ImportFrom)):
            self._local_import(small, frame)

    def _local_import(self, small: cst.Import | cst.ImportFrom, frame: Frame) -> None:
        names = small.names if not isinstance(small.names, cst.ImportStar) else []
        for alias in names:
            local = alias.asname.name.value if alias.asname and isinstance(alias.asname.name, cst.Name) else None
            target = alias.name
            if local is None:
                local = target.value if isinstance(target, cst.Name) else None
                if local is None and isinstance(small, cst.Import):
                    continue
            if local and local in frame.file.imports:
                frame.locals[local] = self.import_value(frame.file, frame.file.imports[local])

    def exec_if(self, stmt: cst.If, frame: Frame) -> None:
        truth = self.truth(self.eval(stmt.test, frame))
        orelse = stmt.orelse
        if truth is True:
            self.exec_block(stmt.body, frame)
        elif truth is False:
            if isinstance(orelse, cst.If):
                self.exec_if(orelse, frame)
            elif isinstance(orelse, cst.Else):
                self.exec_block(orelse.body, frame)
        else:
            self._both_branches(stmt, frame)

    def _both_branches(self, stmt: cst.If, frame: Frame) -> None:
        """An unknown condition: run both sides on copies of the locals, keep what they agree on.

        Locals that differ become UNKNOWN and spread from there. A branch that changes
        shared state (registers a layer, sets an init, appends to a list) or adds graph
        nodes cannot be merged: the model is then incomplete.
        """
        state_before = self.state()
        before = dict(frame.locals)
        outcomes = []
        for branch in (stmt.body, stmt.orelse):
            frame.locals = dict(before)
            returned = None
            try:
                if isinstance(branch, cst.If):
                    self.exec_if(branch, frame)
                elif isinstance(branch, cst.Else):
                    self.exec_block(branch.body, frame)
                elif branch is not None:
                    self.exec_block(branch, frame)
            except _Return as ret:
                returned = ret
            except (_Break, _Continue):
                self.unknown("a break or continue under a condition that cannot be decided")
            outcomes.append((frame.locals, returned))
        if self.state() != state_before:
            self.unknown("a condition that cannot be decided changes the model")
        live = [locs for locs, ret in outcomes if ret is None]
        if not live:
            first, second = outcomes[0][1].value, outcomes[1][1].value  # type: ignore[union-attr]
            raise _Return(first if first is second else UNKNOWN)
        if len(live) != len(outcomes):
            self.unknown("a return under a condition that cannot be decided")
        merged = dict(live[0])
        for other in live[1:]:
            for key in set(merged) | set(other):
                if merged.get(key, UNKNOWN) is not other.get(key, UNKNOWN):
                    merged[key] = UNKNOWN
        frame.locals = merged

    def state(self) -> tuple[int, int]:
        """How much shared state has changed so far: mutations, and graph nodes in forward."""
        return self.mutations, len(self.graph.graph.nodes) if self.graph is not None else 0

    def exec_for(self, stmt: cst.For, frame: Frame) -> None:
        items = self.iterate(self.eval(stmt.iter, frame))
        if items is None:
            self.unknown("a loop over values that cannot be known")
            return
        broke = False
        for item in items:
            self.loop_tick()
            self.assign(stmt.target, item, frame)
            try:
                self.exec_block(stmt.body, frame)
            except _Break:
                broke = True
                break
            except _Continue:
                continue
        if not broke and stmt.orelse is not None:
            self.exec_block(stmt.orelse.body, frame)

    def exec_while(self, stmt: cst.While, frame: Frame) -> None:
        while True:
            self.loop_tick()
            truth = self.truth(self.eval(stmt.test, frame))
            if truth is not True:
                if truth is not False:
                    self.unknown("a while loop whose condition cannot be decided")
                break
            try:
                self.exec_block(stmt.body, frame)
            except _Break:
                return
            except _Continue:
                continue
        if stmt.orelse is not None:
            self.exec_block(stmt.orelse.body, frame)

    def assign(self, target: cst.BaseExpression, value: Any, frame: Frame) -> None:
        if isinstance(target, cst.Name):
            frame.locals[target.value] = value
        elif isinstance(target, cst.Attribute):
            obj = self.eval(target.value, frame)
            self.setattr(obj, target.attr.value, value)
        elif isinstance(target, cst.Subscript):
            obj = self.eval(target.value, frame)
            if len(target.slice) == 1 and isinstance(target.slice[0].slice, cst.Index):
                key = self.eval(target.slice[0].slice.value, frame)
                self.setitem(obj, key, value)
        elif isinstance(target, (cst.Tuple, cst.List)):
            elements = target.elements
            items = [value.tensor] * len(elements) if isinstance(value, Pieces) else self.iterate(value)
            starred = [i for i, e in enumerate(elements) if isinstance(e, cst.StarredElement)]
            if items is None or (not starred and len(items) != len(elements)):
                for element in elements:
                    self.assign(element.value, UNKNOWN, frame)
                return
            if starred:
                s = starred[0]
                tail = len(elements) - s - 1
                head, middle, end = items[:s], items[s:len(items) - tail], items[len(items) - tail:]
                items = [*head, list(middle), *end]
            for element, item in zip(elements, items):
                self.assign(element.value, item, frame)
        elif isinstance(target, cst.StarredElement):
            self.assign(target.value, value, frame)

    def setattr(self, obj: Any, name: str, value: Any) -> None:
        if isinstance(obj, Mod):
            nnmod.module_setattr(self, obj, name, value)
        elif isinstance(obj, Obj):
            obj.attrs[name] = value
        elif isinstance(obj, ParamRef) and name == "requires_grad" and obj.param is not None:
            obj.param.frozen = value is False
        self.mutations += 1

    def setitem(self, obj: Any, key: Any, value: Any) -> None:
        if self.graph is None or isinstance(obj, Mod):
            self.mutations += 1
        if isinstance(obj, dict) and key is not UNKNOWN:
            try:
                obj[key] = value
            except TypeError:
                pass
        elif isinstance(obj, list) and isinstance(key, int):
            if -len(obj) <= key < len(obj):
                obj[key] = value
        elif isinstance(obj, Mod) and obj.container:
            nnmod.container_setitem(self, obj, key, value)

    # -- expressions ----------------------------------------------------------------------

    def eval(self, node: cst.BaseExpression, frame: Frame) -> Any:
        self.tick()
        kind = type(node)
        method = _EVALUATORS.get(kind)
        if method is None:
            method = _EVALUATORS[kind] = getattr(Interpreter, "_eval_" + kind.__name__, _unknown_expression)
        return method(self, node, frame)

    def _eval_Integer(self, node: cst.Integer, frame: Frame) -> Any:
        return _number(node.value)

    def _eval_Float(self, node: cst.Float, frame: Frame) -> Any:
        return _number(node.value)

    def _eval_Imaginary(self, node: cst.Imaginary, frame: Frame) -> Any:
        return UNKNOWN

    def _eval_SimpleString(self, node: cst.SimpleString, frame: Frame) -> Any:
        return _string(node.value)

    def _eval_ConcatenatedString(self, node: cst.ConcatenatedString, frame: Frame) -> Any:
        left, right = self.eval(node.left, frame), self.eval(node.right, frame)
        return left + right if isinstance(left, str) and isinstance(right, str) else UNKNOWN

    def _eval_FormattedString(self, node: cst.FormattedString, frame: Frame) -> Any:
        parts = []
        for part in node.parts:
            if isinstance(part, cst.FormattedStringText):
                parts.append(part.value)
                continue
            value = self.eval(part.expression, frame)
            if not isinstance(value, (int, float, str, bool)) or part.format_spec or part.conversion:
                if part.format_spec is None and part.conversion is None and value is None:
                    parts.append("None")
                    continue
                return UNKNOWN
            parts.append(str(value))
        return "".join(parts)

    def _eval_Name(self, node: cst.Name, frame: Frame) -> Any:
        name = node.value
        if name in ("True", "False", "None"):
            return {"True": True, "False": False, "None": None}[name]
        return self.lookup(frame, name)

    def _eval_Attribute(self, node: cst.Attribute, frame: Frame) -> Any:
        return self.getattr(self.eval(node.value, frame), node.attr.value)

    def getattr(self, obj: Any, name: str) -> Any:
        self.tick()
        if isinstance(obj, TorchRef):
            if name == "__name__":
                return obj.qualname.rsplit(".", 1)[-1]
            return TorchRef(canonical_torch(f"{obj.qualname}.{name}") or name)
        if isinstance(obj, Mod):
            return nnmod.module_getattr(self, obj, name)
        if isinstance(obj, Obj):
            if name in obj.attrs:
                return obj.attrs[name]
            return self._bind(obj, *self.class_attr(obj.cls, name))
        if isinstance(obj, ClassVal):
            if name == "__name__":
                return obj.name
            value, _ = self.class_attr(obj, name)
            if getattr(value, "classmethod", False):
                return Bound(obj, value)
            return value
        if isinstance(obj, ModuleRef):
            value = self.global_value(obj.file, name)
            if value is UNKNOWN and obj.dotted:
                sub = self.project.resolve_module(f"{obj.dotted}.{name}", obj.file)
                if sub is not None:
                    return ModuleRef(sub, f"{obj.dotted}.{name}")
            return value
        if isinstance(obj, Namespace):
            return obj.members.get(name, UNKNOWN)
        if isinstance(obj, Super):
            return self._super_attr(obj, name)
        if isinstance(obj, (Tensor, ParamRef)):
            return nnmod.tensor_attr(self, obj, name)
        return pybuiltins.plain_attr(self, obj, name)

    def _bind(self, receiver: Any, value: Any, owner: ClassVal | None) -> Any:
        if isinstance(value, FuncVal):
            if getattr(value, "property", False):
                return self.invoke(value, [], {}, receiver=receiver)
            if getattr(value, "static", False):
                return value
            if getattr(value, "classmethod", False):
                return Bound(getattr(receiver, "cls", receiver), value)
            return Bound(receiver, value)
        return value

    def _super_attr(self, sup: Super, name: str) -> Any:
        receiver = sup.receiver
        cls = receiver.cls if isinstance(receiver, (Mod, Obj)) else None
        if cls is None:
            return UNKNOWN
        order = cls.mro()
        start = order.index(sup.after) + 1 if sup.after in order else 1
        for klass in order[start:]:
            found = _class_body_definition(klass.node, name)
            if found is not None:
                value, defining = self.class_attr(klass, name)
                return self._bind(receiver, value, defining)
        if isinstance(receiver, Mod):
            if name == "__init__":
                return Builtin("__init__", lambda interp, a, k: nnmod.torch_base_init(interp, receiver, cls.torch_base, a, k))
            return nnmod.module_getattr(self, receiver, name, skip_class=True)
        if name == "__init__":
            return Builtin("__init__", lambda interp, a, k: None)
        return UNKNOWN

    def _eval_Call(self, node: cst.Call, frame: Frame) -> Any:
        func_node = node.func
        if isinstance(func_node, cst.Name) and func_node.value == "super" and len(node.args) == 2:
            owner, receiver = (self.eval(a.value, frame) for a in node.args)
            return Super(receiver, owner if isinstance(owner, ClassVal) else None)
        if isinstance(func_node, cst.Name) and func_node.value == "super" and not node.args:
            receiver = UNKNOWN
            f: Frame | None = frame
            while f is not None and f.func is None:
                f = f.parent
            if f is not None and f.func is not None:
                params = f.func.node.params
                first = (list(params.posonly_params) + list(params.params))[:1]
                if first:
                    receiver = f.locals.get(first[0].name.value, UNKNOWN)
                return Super(receiver, f.func.owner)
            return UNKNOWN
        receiver: Any = None
        if isinstance(func_node, cst.Attribute):
            receiver = self.eval(func_node.value, frame)
            func = self.getattr(receiver, func_node.attr.value)
        else:
            func = self.eval(func_node, frame)
        args: list = []
        kwargs: dict = {}
        for arg in node.args:
            value = self.eval(arg.value, frame)
            if arg.star == "*":
                items = self.iterate(value)
                if items is None:
                    self.unknown("*args that cannot be known")
                    if self.graph is not None and isinstance(value, Tensor):
                        args.append(value)
                    continue
                args.extend(items)
            elif arg.star == "**":
                if isinstance(value, dict):
                    kwargs.update({k: v for k, v in value.items() if isinstance(k, str)})
                else:
                    self.unknown("**kwargs that cannot be known")
            elif arg.keyword is not None:
                kwargs[arg.keyword.value] = value
            else:
                args.append(value)
        if func is UNKNOWN and isinstance(receiver, Mod) and self.graph is None:
            nnmod.taint_inits(self, [receiver])  # model.load_state_dict(...), a library's init helper
        return self.call(func, args, kwargs, Site(frame.file, node))

    def _eval_BinaryOperation(self, node: cst.BinaryOperation, frame: Frame) -> Any:
        # left-deep chains (a + b + c + ...) iteratively: long sums must not exhaust the stack
        spine = [node]
        while isinstance(spine[-1].left, cst.BinaryOperation) and len(spine) < 100_000:
            spine.append(spine[-1].left)
        value = self.eval(spine[-1].left, frame)
        for link in reversed(spine):
            right = self.eval(link.right, frame)
            value = self.binop(type(link.operator), value, right, site=Site(frame.file, link))
        return value

    def binop(self, op: Any, left: Any, right: Any, inplace: bool = False, site: Site | None = None) -> Any:
        if isinstance(left, (Tensor, ParamRef, Param)) or isinstance(right, (Tensor, ParamRef, Param)):
            return nnmod.tensor_binop(self, op, left, right, site)
        if inplace and op is cst.Add and isinstance(left, Mod) and (left.container or left.cls is not None):
            return nnmod.module_getattr(self, left, "extend").fn(self, [right], {})  # layers += [...]
        if left is UNKNOWN or right is UNKNOWN or op not in _BINOPS:
            return UNKNOWN
        if not (plain(left) and plain(right)):
            return UNKNOWN
        if op is cst.Power and isinstance(right, (int, float)) and (abs(right) > 256 or
                                                                    (isinstance(left, (int, float)) and abs(left) > 1e6)):
            return UNKNOWN
        if op is cst.LeftShift and isinstance(right, int) and right > 64:
            return UNKNOWN
        if op is cst.Multiply and isinstance(left, (str, list, tuple)) and isinstance(right, int) and len(left) * right > MAX_COLLECTION:
            return UNKNOWN
        if op is cst.Multiply and isinstance(right, (str, list, tuple)) and isinstance(left, int) and len(right) * left > MAX_COLLECTION:
            return UNKNOWN
        try:
            if inplace and op is cst.Add and isinstance(left, list):
                left.extend(right)
                return left
            result = _BINOPS[op](left, right)
        except VALUE_ERRORS:
            return UNKNOWN
        if isinstance(result, int) and result.bit_length() > 4096:
            return UNKNOWN  # repeated squaring must not build numbers of millions of digits
        if isinstance(result, (str, list, tuple)) and len(result) > MAX_COLLECTION:
            return UNKNOWN
        return result

    def _eval_UnaryOperation(self, node: cst.UnaryOperation, frame: Frame) -> Any:
        value = self.eval(node.expression, frame)
        if isinstance(node.operator, cst.Not):
            truth = self.truth(value)
            return UNKNOWN if truth is UNKNOWN else not truth
        if isinstance(value, Tensor):
            return value
        if isinstance(value, (int, float)):
            if isinstance(node.operator, cst.Minus):
                return -value
            if isinstance(node.operator, cst.Plus):
                return +value
            if isinstance(node.operator, cst.BitInvert) and isinstance(value, int):
                return ~value
        return UNKNOWN

    def _eval_BooleanOperation(self, node: cst.BooleanOperation, frame: Frame) -> Any:
        left = self.eval(node.left, frame)
        truth = self.truth(left)
        if truth is UNKNOWN:
            right = self.eval(node.right, frame)
            return UNKNOWN if not isinstance(right, Tensor) else right
        if isinstance(node.operator, cst.And):
            return self.eval(node.right, frame) if truth else left
        return left if truth else self.eval(node.right, frame)

    def _eval_Comparison(self, node: cst.Comparison, frame: Frame) -> Any:
        left = self.eval(node.left, frame)
        result: Any = True
        for target in node.comparisons:
            right = self.eval(target.comparator, frame)
            outcome = self.compare(target.operator, left, right)
            if outcome is UNKNOWN:
                result = UNKNOWN
            elif outcome is False:
                return False
            left = right
        return result

    def compare(self, op: cst.BaseCompOp, left: Any, right: Any) -> Any:
        if isinstance(op, (cst.Is, cst.IsNot)):
            if left is UNKNOWN or right is UNKNOWN:
                return UNKNOWN
            same = left is right or (left is None and right is None)
            if isinstance(left, (bool, int)) and isinstance(right, (bool, int)) and type(left) is type(right):
                same = left == right
            return same if isinstance(op, cst.Is) else not same
        if isinstance(op, (cst.In, cst.NotIn)):
            if right is UNKNOWN or left is UNKNOWN:
                return UNKNOWN
            if isinstance(right, Mod) and right.container:
                found: Any = left in right.children
            elif isinstance(right, (list, tuple, set, frozenset, dict, str, range)):
                try:
                    found = left in right
                except TypeError:
                    return UNKNOWN
                if not found and not isinstance(right, (str, range)) and any(v is UNKNOWN for v in right):
                    return UNKNOWN
            else:
                return UNKNOWN
            return found if isinstance(op, cst.In) else not found
        if left is UNKNOWN or right is UNKNOWN or isinstance(left, Tensor) or isinstance(right, Tensor):
            return UNKNOWN
        fn = _COMPARE.get(type(op))
        if fn is None:
            return UNKNOWN
        if not (plain(left) and plain(right)):
            if fn in (operator.eq, operator.ne):
                same = left is right or (isinstance(left, TorchRef) and isinstance(right, TorchRef)
                                         and left.qualname == right.qualname)
                return fn(same, True)
            return UNKNOWN
        try:
            return bool(fn(left, right))
        except VALUE_ERRORS:
            return UNKNOWN

    def truth(self, value: Any) -> Any:
        if value is UNKNOWN or isinstance(value, (Tensor, ParamRef)):
            return UNKNOWN
        if plain(value):
            try:
                return bool(value)
            except VALUE_ERRORS:
                return UNKNOWN
        if isinstance(value, Mod) and value.container:
            return bool(value.children)
        return True

    def _eval_IfExp(self, node: cst.IfExp, frame: Frame) -> Any:
        truth = self.truth(self.eval(node.test, frame))
        if truth is UNKNOWN:
            state = self.state()
            a, b = self.eval(node.body, frame), self.eval(node.orelse, frame)
            if self.state() != state:
                self.unknown("a conditional expression that cannot be decided changes the model")
            if a is b:
                return a
            return UNKNOWN
        return self.eval(node.body if truth else node.orelse, frame)

    def _eval_Tuple(self, node: cst.Tuple, frame: Frame) -> Any:
        items = self._elements(node.elements, frame)
        return UNKNOWN if items is None else tuple(items)

    def _eval_List(self, node: cst.List, frame: Frame) -> Any:
        items = self._elements(node.elements, frame)
        return UNKNOWN if items is None else items

    def _eval_Set(self, node: cst.Set, frame: Frame) -> Any:
        items = self._elements(node.elements, frame)
        try:
            return UNKNOWN if items is None else set(items)
        except TypeError:
            return UNKNOWN

    def _elements(self, elements, frame: Frame) -> list | None:
        items: list = []
        for element in elements:
            value = self.eval(element.value, frame)
            if isinstance(element, cst.StarredElement):
                more = self.iterate(value)
                if more is None:
                    return None
                items.extend(more)
            else:
                items.append(value)
            if len(items) > MAX_COLLECTION:
                raise Abort("collection size")
        return items

    def _eval_Dict(self, node: cst.Dict, frame: Frame) -> Any:
        result: dict = {}
        for element in node.elements:
            if isinstance(element, cst.StarredDictElement):
                value = self.eval(element.value, frame)
                if not isinstance(value, dict):
                    return UNKNOWN
                result.update(value)
                continue
            key = self.eval(element.key, frame)
            value = self.eval(element.value, frame)
            if key is UNKNOWN:
                return UNKNOWN
            try:
                result[key] = value
            except TypeError:
                return UNKNOWN
        return result

    def _comprehension(self, node: Any, frame: Frame, make: Any) -> Any:
        inner = Frame(frame.file, frame, frame.func)
        inner.locals = {}
        results: list = []

        def run(clause: cst.CompFor | None) -> bool:
            if clause is None:
                results.append(make(inner))
                if len(results) > MAX_COLLECTION:
                    raise Abort("collection size")
                return True
            items = self.iterate(self.eval(clause.iter, inner))
            if items is None:
                return False
            for item in items:
                self.loop_tick()
                self.assign(clause.target, item, inner)
                keep = True
                for condition in clause.ifs:
                    truth = self.truth(self.eval(condition.test, inner))
                    if truth is UNKNOWN:
                        return False
                    keep = keep and truth
                if keep and not run(clause.inner_for_in):
                    return False
            return True

        if not run(node.for_in):
            return None
        return results

    def _eval_ListComp(self, node: cst.ListComp, frame: Frame) -> Any:
        items = self._comprehension(node, frame, lambda f: self.eval(node.elt, f))
        return UNKNOWN if items is None else items

    _eval_GeneratorExp = _eval_ListComp

    def _eval_SetComp(self, node: cst.SetComp, frame: Frame) -> Any:
        items = self._comprehension(node, frame, lambda f: self.eval(node.elt, f))
        try:
            return UNKNOWN if items is None else set(items)
        except TypeError:
            return UNKNOWN

    def _eval_DictComp(self, node: cst.DictComp, frame: Frame) -> Any:
        pairs = self._comprehension(node, frame, lambda f: (self.eval(node.key, f), self.eval(node.value, f)))
        if pairs is None or any(k is UNKNOWN for k, _ in pairs):
            return UNKNOWN
        try:
            return dict(pairs)
        except TypeError:
            return UNKNOWN

    def _eval_Subscript(self, node: cst.Subscript, frame: Frame) -> Any:
        obj = self.eval(node.value, frame)
        if len(node.slice) != 1:
            for element in node.slice:
                if isinstance(element.slice, cst.Index):
                    self.eval(element.slice.value, frame)
            return obj if isinstance(obj, Tensor) else UNKNOWN
        piece = node.slice[0].slice
        if isinstance(piece, cst.Slice):
            bounds = [self.eval(p, frame) if p is not None else None for p in (piece.lower, piece.upper, piece.step)]
            if any(b is UNKNOWN for b in bounds):
                return obj if isinstance(obj, Tensor) else UNKNOWN
            key: Any = slice(*bounds)
        else:
            key = self.eval(piece.value, frame)
        return self.getitem(obj, key)

    def getitem(self, obj: Any, key: Any) -> Any:
        if isinstance(obj, Tensor):
            return obj
        if isinstance(obj, Mod):
            return nnmod.container_getitem(self, obj, key)
        if key is UNKNOWN or obj is UNKNOWN:
            return UNKNOWN
        if isinstance(obj, (list, tuple, str, range, dict)):
            try:
                return obj[key]
            except VALUE_ERRORS:
                return UNKNOWN
        return UNKNOWN

    def _eval_Lambda(self, node: cst.Lambda, frame: Frame) -> Any:
        return FuncVal(node, frame.file, frame)

    def _eval_NamedExpr(self, node: cst.NamedExpr, frame: Frame) -> Any:
        value = self.eval(node.value, frame)
        self.assign(node.target, value, frame)
        return value

    def _eval_Ellipsis(self, node: cst.Ellipsis, frame: Frame) -> Any:
        return ...

    # -- iteration ------------------------------------------------------------------------

    def iterate(self, value: Any) -> list | None:
        """The items of an iterable value, or None when unknown."""
        if isinstance(value, (list, tuple)):
            return list(value)
        if isinstance(value, Pieces):
            return None
        if isinstance(value, range):
            if len(value) > MAX_LOOP_ITERATIONS:
                raise Abort("range too long")
            return list(value)
        if isinstance(value, (dict, str)):
            return list(value)
        if isinstance(value, (set, frozenset)):
            return list(value)
        if isinstance(value, Mod) and value.container:
            if value.type == "ModuleDict":
                return list(value.children)
            return [m for m in value.children.values() if m is not None]
        if isinstance(value, Mod) and value.cls is not None and value.cls.torch_base in ("Sequential", "ModuleList"):
            return [m for m in value.children.values() if m is not None]
        return None


def _decorator_name(decorator: cst.Decorator) -> str | None:
    expr = decorator.decorator
    if isinstance(expr, cst.Call):
        expr = expr.func
    from gradlint.names import dotted

    return dotted(expr)


def _class_body_statements(node: cst.ClassDef):
    body = node.body
    if isinstance(body, cst.SimpleStatementSuite):
        yield from body.body
        return
    for stmt in body.body:
        if isinstance(stmt, cst.SimpleStatementLine):
            yield from stmt.body
        else:
            yield stmt


def _class_body_definition(node: cst.ClassDef, name: str) -> Any:
    found = None
    for stmt in _class_body_statements(node):
        if isinstance(stmt, cst.FunctionDef) and stmt.name.value == name:
            found = stmt
        elif isinstance(stmt, cst.Assign):
            if any(isinstance(t.target, cst.Name) and t.target.value == name for t in stmt.targets):
                found = stmt
        elif isinstance(stmt, cst.AnnAssign) and isinstance(stmt.target, cst.Name) and stmt.target.value == name:
            found = stmt
    return found


@lru_cache(maxsize=4096)
def _number(text: str) -> Any:
    """A numeric literal's value (libcst's ``evaluated_value`` compiles it anew each time)."""
    import ast

    return ast.literal_eval(text)


@lru_cache(maxsize=4096)
def _string(text: str) -> Any:
    import ast

    try:
        value = ast.literal_eval(text)
    except VALUE_ERRORS:
        return UNKNOWN
    return value if isinstance(value, str) else UNKNOWN


_EVALUATORS: dict[type, Any] = {}  # node type -> Interpreter._eval_<type>, looked up once


def _unknown_expression(interp: Interpreter, node: cst.BaseExpression, frame: Frame) -> Any:
    return UNKNOWN
