"""Python's builtin functions: range, len, isinstance, getattr and the others model code
builds with. The modules it imports are ``stdlib.py``; methods of str, dict and list
are ``plain_methods.py``.
"""

from __future__ import annotations

import functools
from typing import Any

from gradlint import torch_api
from gradlint.frontends.python.values import (
    UNKNOWN,
    Bound,
    Builtin,
    ClassVal,
    Cycle,
    FuncVal,
    Mod,
    Obj,
    ParamRef,
    Partial,
    Tensor,
    TorchRef,
)


def _numbers(values: list) -> bool:
    return all(isinstance(v, (int, float)) and not isinstance(v, bool) or isinstance(v, bool) for v in values)


def _iter(interp, value) -> list | None:
    return interp.iterate(value)


def _range(interp, args, kwargs):
    if not args or not all(isinstance(a, int) for a in args) or len(args) > 3:
        return UNKNOWN
    try:
        return range(*args)
    except ValueError:
        return UNKNOWN


def _len(interp, args, kwargs):
    (value,) = args or [UNKNOWN]
    if isinstance(value, Mod):
        if value.container or (value.cls is not None and value.cls.torch_base in ("Sequential", "ModuleList", "ModuleDict")):
            return len(value.children)
        return UNKNOWN
    if isinstance(value, (list, tuple, dict, str, range, set, frozenset)):
        return len(value)
    return UNKNOWN


def _reduce(fn):
    def run(interp, args, kwargs):
        items = args if len(args) != 1 else _iter(interp, args[0])
        if items is None or not items or not _numbers(items) or kwargs:
            return UNKNOWN
        return fn(items)

    return run


def _sum(interp, args, kwargs):
    items = _iter(interp, args[0]) if args else None
    if items is None:
        return UNKNOWN
    start = args[1] if len(args) > 1 else 0
    if any(isinstance(v, Tensor) for v in items):
        total = start if isinstance(start, Tensor) else None
        import libcst as cst

        from gradlint.frontends.python.modules import tensor_binop

        for item in items:
            total = item if total is None else tensor_binop(interp, cst.Add, total, item, None)
        return total
    if not _numbers(items) or not isinstance(start, (int, float)):
        return UNKNOWN
    return sum(items, start)


def _convert(kind):
    def run(interp, args, kwargs):
        if not args:
            return kind()
        value = args[0]
        if kind in (int, float) and isinstance(value, (int, float, str)):
            try:
                return kind(value)
            except (ValueError, OverflowError):
                return UNKNOWN
        if kind is bool:
            truth = interp.truth(value)
            return truth
        if kind is str and isinstance(value, (int, float, str, bool, type(None))):
            return str(value)
        return UNKNOWN

    return Builtin(kind.__name__, run)


def _collection(kind):
    def run(interp, args, kwargs):
        if not args:
            return dict(kwargs) if kind is dict else kind()
        if kind is dict:
            value = args[0]
            if isinstance(value, dict):
                return {**value, **kwargs}
            items = _iter(interp, value)
            if items is None:
                return UNKNOWN
            try:
                return {**dict(items), **kwargs}
            except (TypeError, ValueError):
                return UNKNOWN
        items = _iter(interp, args[0])
        if items is None:
            return UNKNOWN
        try:
            return kind(items)
        except TypeError:
            return UNKNOWN

    return Builtin(kind.__name__, run)


def _zip(interp, args, kwargs):
    lists = [None if isinstance(a, Cycle) else _iter(interp, a) for a in args]
    finite = [v for v, a in zip(lists, args) if not isinstance(a, Cycle)]
    if not finite or any(v is None for v in finite):
        return UNKNOWN
    shortest = min(len(v) for v in finite)  # type: ignore[arg-type]
    lists = [a.take(shortest) if isinstance(a, Cycle) else v for v, a in zip(lists, args)]
    return [tuple(t) for t in zip(*lists)]


def _enumerate(interp, args, kwargs):
    items = _iter(interp, args[0]) if args else None
    start = args[1] if len(args) > 1 else kwargs.get("start", 0)
    if items is None or not isinstance(start, int):
        return UNKNOWN
    return list(enumerate(items, start))


def _reversed(interp, args, kwargs):
    items = _iter(interp, args[0]) if args else None
    return UNKNOWN if items is None else list(reversed(items))


def _sorted(interp, args, kwargs):
    items = _iter(interp, args[0]) if args else None
    if items is None or kwargs.get("key") is not None:
        return UNKNOWN
    try:
        return sorted(items, reverse=bool(kwargs.get("reverse", False)))
    except TypeError:
        return UNKNOWN


def _map(interp, args, kwargs):
    if len(args) < 2:
        return UNKNOWN
    lists = [_iter(interp, a) for a in args[1:]]
    if any(v is None for v in lists):
        return UNKNOWN
    return [interp.call(args[0], list(items), {}) for items in zip(*lists)]


def _filter(interp, args, kwargs):
    items = _iter(interp, args[1]) if len(args) == 2 else None
    if items is None:
        return UNKNOWN
    kept = []
    for item in items:
        truth = interp.truth(item if args[0] is None else interp.call(args[0], [item], {}))
        if truth is UNKNOWN:
            return UNKNOWN
        if truth:
            kept.append(item)
    return kept


def _any_all(fn):
    def run(interp, args, kwargs):
        items = _iter(interp, args[0]) if args else None
        if items is None:
            return UNKNOWN
        truths = [interp.truth(v) for v in items]
        if any(t is UNKNOWN for t in truths):
            return UNKNOWN
        return fn(truths)

    return run


def isinstance_of(interp, value: Any, kind: Any) -> Any:
    if isinstance(kind, (tuple, list)):
        results = [isinstance_of(interp, value, k) for k in kind]
        if True in results:
            return True
        return UNKNOWN if UNKNOWN in results else False
    if value is UNKNOWN or kind is UNKNOWN:
        return UNKNOWN
    if isinstance(kind, Builtin) and kind.name in _TYPES:
        if isinstance(value, Mod):
            return False
        return isinstance(value, _TYPES[kind.name]) if not isinstance(value, (Tensor, ParamRef)) else False
    if isinstance(kind, Builtin) and kind.name in ABSTRACT_TYPES:
        if isinstance(value, (Mod, Tensor, ParamRef)):  # a tensor iterates over its first dim
            iterable = not isinstance(value, Mod) or value.container
            return iterable if kind.name == "Iterable" else UNKNOWN if isinstance(value, Mod) else False
        return isinstance(value, ABSTRACT_TYPES[kind.name])
    if isinstance(kind, TorchRef):
        name = kind.qualname.rsplit(".", 1)[-1]
        if isinstance(value, Mod):
            if name == "Module":
                return True
            if value.cls is None:
                return value.type == name or (name.startswith("_ConvNd") and value.type.startswith("Conv"))
            return value.cls.torch_base == name
        return isinstance(value, (Tensor, ParamRef)) and name in ("Tensor", "Parameter")
    if isinstance(kind, ClassVal):
        cls = value.cls if isinstance(value, (Mod, Obj)) else None
        if cls is None:
            return False
        return kind in cls.mro()
    return UNKNOWN


# ``collections.abc`` (and ``typing``) kinds, as ``cast_tuple`` helpers test them
ABSTRACT_TYPES = {
    "Iterable": (list, tuple, dict, str, range, set, frozenset, bytes),
    "Sequence": (list, tuple, str, range, bytes),
    "Mapping": (dict,),
}
_TYPES = {"int": int, "float": (int, float), "str": str, "bool": bool, "list": list, "tuple": tuple, "dict": dict}


def _isinstance(interp, args, kwargs):
    return isinstance_of(interp, args[0], args[1]) if len(args) == 2 else UNKNOWN


def _issubclass(interp, args, kwargs):
    """``issubclass(attn_layer, DiffAttention)`` of classes of the tree, by their bases; a torch
    class derives from none of the tree's."""
    if len(args) != 2:
        return UNKNOWN
    cls, kinds = args[0], args[1] if isinstance(args[1], tuple) else (args[1],)
    if not kinds or not all(isinstance(k, ClassVal) for k in kinds):
        return UNKNOWN
    if isinstance(cls, TorchRef):
        return False
    if not isinstance(cls, ClassVal):
        return UNKNOWN
    order = cls.mro()
    if any(k in order for k in kinds):
        return True
    return False if cls.ancestry_known() else UNKNOWN


def _getattr(interp, args, kwargs):
    if len(args) < 2 or not isinstance(args[1], str):
        return UNKNOWN
    value = interp.getattr(args[0], args[1])
    if value is UNKNOWN and len(args) == 3:
        if isinstance(args[0], Mod) and args[1] not in args[0].children and args[1] not in args[0].attrs:
            return args[2]
        if isinstance(args[0], Obj) and args[1] not in args[0].attrs:
            return args[2]
    return value


def _hasattr(interp, args, kwargs):
    if len(args) != 2 or not isinstance(args[1], str):
        return UNKNOWN
    obj, name = args
    if isinstance(obj, Mod):
        if name in obj.children or name in obj.params or name in obj.attrs:
            return True
        if obj.cls is not None and interp.class_attr(obj.cls, name)[1] is not None:
            return True
        if name in _INIT_HOOKS and (obj.spec is not None or obj.container
                                    or obj.cls is not None and obj.cls.ancestry_known()):
            # init code asks a layer for its hooks: torch layers with parameters reset them, and
            # none defines the ``init_weights`` a model's own blocks may; a class of the tree
            # whose bases are all known has those it defines
            return bool(obj.params) if name == "reset_parameters" and obj.spec is not None else False
        return UNKNOWN
    if isinstance(obj, Obj):
        return name in obj.attrs or interp.class_attr(obj.cls, name)[1] is not None
    if isinstance(obj, TorchRef) and name in _torch_names():
        return True  # a feature test (``hasattr(F, "scaled_dot_product_attention")``) of a torch that has it
    return UNKNOWN


_INIT_HOOKS = frozenset({"reset_parameters", "init_weights", "_init_weights"})


@functools.cache
def _torch_names() -> frozenset[str]:
    """The last parts of every torch name the table knows, functions of the forward walk included."""
    found = {name.rsplit(".", 1)[-1] for name in torch_api.qualified_names()}
    for kind in ("identity", "split", "pool", "norm", "dropout", "concat", "matmul", "gate", "value"):
        found |= torch_api.names(f"functional.{kind}")
    return frozenset(found)


def _setattr(interp, args, kwargs):
    if len(args) == 3 and isinstance(args[1], str):
        interp.setattr(args[0], args[1], args[2])


def _round(interp, args, kwargs):
    if args and isinstance(args[0], (int, float)) and all(isinstance(a, int) for a in args[1:]):
        return round(*args)
    return UNKNOWN


def _abs(interp, args, kwargs):
    return abs(args[0]) if args and isinstance(args[0], (int, float)) else (args[0] if args and isinstance(args[0], Tensor) else UNKNOWN)


def _divmod(interp, args, kwargs):
    if len(args) == 2 and all(isinstance(a, (int, float)) for a in args) and args[1]:
        return divmod(*args)
    return UNKNOWN


def _type(interp, args, kwargs):
    if len(args) == 1:
        value = args[0]
        if isinstance(value, (Mod, Obj)) and value.cls is not None:
            return value.cls
        if isinstance(value, Mod):
            return TorchRef(f"torch.nn.{value.type}")
    return UNKNOWN


def _none(interp, args, kwargs):
    return None


_CALLABLE = (FuncVal, Builtin, Bound, Partial, ClassVal, Mod, TorchRef)
_DATA = (int, float, str, bytes, tuple, list, dict, set, frozenset, range, type(None), Tensor, ParamRef)


def _callable(interp, args, kwargs):
    """``callable(arg)``: ``default(val, d)`` helpers call a default that is a function."""
    value = args[0] if len(args) == 1 else UNKNOWN
    return True if isinstance(value, _CALLABLE) else False if isinstance(value, _DATA) else UNKNOWN


def is_function(interp, args, kwargs):
    """``inspect.isfunction(arg)``: a def or a lambda, not a class, a layer or data."""
    value = args[0] if len(args) == 1 else UNKNOWN
    if isinstance(value, FuncVal):
        return True
    return False if isinstance(value, (*_DATA, ClassVal, Mod, TorchRef)) else UNKNOWN


BUILTINS: dict[str, Any] = {
    "range": Builtin("range", _range),
    "len": Builtin("len", _len),
    "min": Builtin("min", _reduce(min)),
    "max": Builtin("max", _reduce(max)),
    "sum": Builtin("sum", _sum),
    "abs": Builtin("abs", _abs),
    "round": Builtin("round", _round),
    "divmod": Builtin("divmod", _divmod),
    "int": _convert(int),
    "float": _convert(float),
    "bool": _convert(bool),
    "str": _convert(str),
    "list": _collection(list),
    "tuple": _collection(tuple),
    "dict": _collection(dict),
    "set": _collection(set),
    "frozenset": _collection(frozenset),
    "zip": Builtin("zip", _zip),
    "enumerate": Builtin("enumerate", _enumerate),
    "reversed": Builtin("reversed", _reversed),
    "sorted": Builtin("sorted", _sorted),
    "map": Builtin("map", _map),
    "filter": Builtin("filter", _filter),
    "any": Builtin("any", _any_all(any)),
    "all": Builtin("all", _any_all(all)),
    "isinstance": Builtin("isinstance", _isinstance),
    "issubclass": Builtin("issubclass", _issubclass),
    "getattr": Builtin("getattr", _getattr),
    "hasattr": Builtin("hasattr", _hasattr),
    "setattr": Builtin("setattr", _setattr),
    "type": Builtin("type", _type),
    "callable": Builtin("callable", _callable),
    "print": Builtin("print", _none),
    # ``kwargs = dict(locals())``: the calling frame's names, which only the call site knows
    "locals": Builtin("locals", lambda interp, args, kwargs: UNKNOWN),
}
