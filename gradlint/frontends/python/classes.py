"""Classes of the linted tree: their bases, attributes through the MRO, and instances."""

from __future__ import annotations

from typing import Any

import libcst as cst

from gradlint import torch_api
from gradlint.frontends.python import modules as nnmod
from gradlint.frontends.python import stdlib
from gradlint.frontends.python.shared import Abort, Frame, InterpPart
from gradlint.frontends.python.values import UNKNOWN, ClassVal, FuncVal, Mod, Obj, Site, TorchRef


class Classes(InterpPart):
    """The classes part of ``Interpreter``: ``self`` is all of it (see ``shared.py``)."""

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
            if type(found) is cst.FunctionDef:
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
                if type(stmt) is cst.AnnAssign and type(stmt.target) is cst.Name:
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
                if isinstance(value, stdlib.FieldSpec):
                    value = value.default()
            obj.attrs[name] = value


def _decorator_name(decorator: cst.Decorator) -> str | None:
    expr = decorator.decorator
    if type(expr) is cst.Call:
        expr = expr.func
    from gradlint.names import dotted

    return dotted(expr)


def _class_body_statements(node: cst.ClassDef):
    body = node.body
    if type(body) is cst.SimpleStatementSuite:
        yield from body.body
        return
    for stmt in body.body:
        if type(stmt) is cst.SimpleStatementLine:
            yield from stmt.body
        else:
            yield stmt


def _class_body_definition(node: cst.ClassDef, name: str) -> Any:
    found = None
    for stmt in _class_body_statements(node):
        if type(stmt) is cst.FunctionDef and stmt.name.value == name:
            found = stmt
        elif type(stmt) is cst.Assign:
            if any(type(t.target) is cst.Name and t.target.value == name for t in stmt.targets):
                found = stmt
        elif type(stmt) is cst.AnnAssign and type(stmt.target) is cst.Name and stmt.target.value == name:
            found = stmt
    return found
