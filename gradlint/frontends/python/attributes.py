"""Attributes and containers: reading and setting attributes, subscripts, and iteration."""

from __future__ import annotations

from typing import Any

import libcst as cst

from gradlint.codefacts.syntax import walk
from gradlint.frontends.python import constants, plain_methods
from gradlint.frontends.python import modules as nnmod
from gradlint.frontends.python.classes import _class_body_definition
from gradlint.frontends.python.derived import DerivedWeight
from gradlint.frontends.python.shared import MAX_LOOP_ITERATIONS, Abort, Frame, InterpPart, plain
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
    ParamRef,
    Pieces,
    Site,
    Super,
    Tensor,
    TorchRef,
)
from gradlint.names import canonical_torch, dotted


class Attributes(InterpPart):
    """The attributes and containers part of ``Interpreter``: ``self`` is all of it
    (see ``shared.py``)."""

    # -- attributes -----------------------------------------------------------------------

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
            if name == "__dict__":  # ``self.__dict__.update(kwargs)``: a configuration node
                return obj.attrs
            return self._bind(obj, *self.class_attr(obj.cls, name))
        if isinstance(obj, ClassVal):
            if name == "__name__":
                return obj.name
            if name == "apply" and self._recomputes(obj):
                forward, _ = self.class_attr(obj, "forward")
                return Builtin("apply", lambda interp, args, kwargs: interp.invoke(forward, [Obj(obj), *args], kwargs))
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
        if isinstance(obj, DerivedWeight):
            return nnmod.derived_attr(self, obj, name)
        return plain_methods.plain_attr(self, obj, name)

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

    def setattr(self, obj: Any, name: str, value: Any) -> None:
        if isinstance(obj, Mod) and plain(value) and name not in obj.children and name not in obj.params:
            # ``self.cuda_config = Config(...)``: a setting, no layer; a condition that cannot be
            # decided leaves it unknown, and the model as it was
            obj.attrs[name] = value
            self.plain_sets.append((obj, name))
            return
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

    def _eval_Subscript(self, node: cst.Subscript, frame: Frame) -> Any:
        obj = self.eval(node.value, frame)
        if len(node.slice) != 1:
            keys = [self.eval(e.slice.value, frame) if type(e.slice) is cst.Index else slice(None)
                    for e in node.slice]
            if (self.graph is not None and isinstance(obj, Tensor) and obj.node is not None and len(keys) == 2
                    and _whole(node.slice[0]) and type(keys[1]) is int):
                # ``x[:, 0]``: the position of a class token read out, the others dropped
                return self.graph.node("pool", self.graph.scoped("take"), Site(frame.file, node), [obj.node],
                                       attrs={"function": "take", "position": keys[1]})
            return obj if isinstance(obj, Tensor) or self._weight_view(obj) else UNKNOWN
        piece = node.slice[0].slice
        if type(piece) is cst.Slice:
            bounds = [self.eval(p, frame) if p is not None else None for p in (piece.lower, piece.upper, piece.step)]
            if any(b is UNKNOWN for b in bounds):
                return obj if isinstance(obj, Tensor) or self._weight_view(obj) else UNKNOWN
            key: Any = slice(*bounds)
        else:
            key = self.eval(piece.value, frame)
        return self.getitem(obj, key)

    def _recomputes(self, cls: ClassVal) -> bool:
        """A custom ``torch.autograd.Function`` whose backward runs its forward again and
        differentiates it (``torch.autograd.grad``: gradient checkpointing) passes its forward's
        gradient; any other's backward may be anything (straight-through, a reversal)."""
        if not any(isinstance(b, TorchRef) and b.qualname.endswith(("autograd.Function", "function.Function"))
                   for b in cls.bases):
            return False
        forward, _ = self.class_attr(cls, "forward")
        backward, _ = self.class_attr(cls, "backward")
        return isinstance(forward, FuncVal) and isinstance(backward, FuncVal) and any(
            type(n) is cst.Call and (dotted(n.func) or "").endswith("autograd.grad") for n in walk(backward.node))

    def _weight_view(self, obj: Any) -> bool:
        """In forward, a slice of a module's own weight (``self.pos_embedding[:, :n + 1]``) is
        still that weight: what the gradient reaches."""
        return self.graph is not None and isinstance(obj, ParamRef)

    def getitem(self, obj: Any, key: Any) -> Any:
        if isinstance(obj, Tensor) and obj.values is not None:
            known = constants.entry(obj, key)
            if known is not None:
                return known
        if isinstance(obj, Tensor) or self._weight_view(obj):
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

    # -- iteration ------------------------------------------------------------------------

    def iterate(self, value: Any) -> list | None:
        """The items of an iterable value, or None when unknown."""
        if isinstance(value, (list, tuple)):
            return list(value)
        if isinstance(value, Tensor) and value.values is not None:
            return constants.entries(value)
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
        # a ModuleList holds None where it was given None (``ModuleList([norm, None, None])``)
        if isinstance(value, Mod) and value.container:
            if value.type == "ModuleDict":
                return list(value.children)
            return list(value.children.values())
        if isinstance(value, Mod) and value.cls is not None and value.cls.torch_base in ("Sequential", "ModuleList"):
            return list(value.children.values())
        return None


def _whole(element: cst.SubscriptElement) -> bool:
    piece = element.slice
    return type(piece) is cst.Slice and piece.lower is None and piece.upper is None and piece.step is None
