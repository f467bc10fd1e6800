"""Python builtins and the few standard-library helpers model code builds with."""

from __future__ import annotations

import math
from typing import Any

from gradlint.frontends.python.shared import Interp
from gradlint.frontends.python.values import (
    UNKNOWN,
    VALUE_ERRORS,
    Builtin,
    ClassVal,
    Mod,
    Namespace,
    Obj,
    ParamRef,
    Partial,
    Tensor,
    TorchRef,
    clone,
)

LIMIT = 100_000


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
    lists = [_iter(interp, a) for a in args]
    if any(v is None for v in lists):
        return UNKNOWN
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


_TYPES = {"int": int, "float": (int, float), "str": str, "bool": bool, "list": list, "tuple": tuple, "dict": dict}


def _isinstance(interp, args, kwargs):
    return isinstance_of(interp, args[0], args[1]) if len(args) == 2 else UNKNOWN


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
        return UNKNOWN
    if isinstance(obj, Obj):
        return name in obj.attrs or interp.class_attr(obj.cls, name)[1] is not None
    return UNKNOWN


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
    "getattr": Builtin("getattr", _getattr),
    "hasattr": Builtin("hasattr", _hasattr),
    "setattr": Builtin("setattr", _setattr),
    "type": Builtin("type", _type),
    "print": Builtin("print", _none),
}


# -- standard library --------------------------------------------------------------------


def _math(fn):
    def run(interp, args, kwargs):
        if not args or kwargs or not all(isinstance(a, (int, float)) for a in args):
            return UNKNOWN
        try:
            return fn(*args)
        except (ValueError, OverflowError, TypeError, ZeroDivisionError):
            return UNKNOWN

    return Builtin(fn.__name__, run)


def _prod(interp, args, kwargs):
    items = _iter(interp, args[0]) if args else None
    if items is None or not _numbers(items):
        return UNKNOWN
    result = math.prod(items)
    return result if abs(result) < 1e300 else UNKNOWN


MATH = Namespace("math", {
    **{name: _math(getattr(math, name)) for name in (
        "sqrt", "log", "log2", "log10", "exp", "ceil", "floor", "pow", "sin", "cos", "tanh", "isqrt", "gcd", "fabs",
    )},
    "prod": Builtin("prod", _prod),
    "pi": math.pi,
    "e": math.e,
    "inf": math.inf,
})


def _partial(interp, args, kwargs):
    if not args:
        return UNKNOWN
    return Partial(args[0], list(args[1:]), dict(kwargs))


def _deepcopy(interp, args, kwargs):
    return clone(args[0], {}) if args else UNKNOWN


def _copy(interp, args, kwargs):
    if not args:
        return UNKNOWN
    value = args[0]
    if isinstance(value, (list, dict, set)):
        return type(value)(value)
    return value


class FieldSpec:
    """dataclasses.field(default=..., default_factory=...)."""

    def __init__(self, interp, kwargs: dict) -> None:
        self.interp = interp
        self.kwargs = kwargs

    def default(self) -> Any:
        if "default" in self.kwargs:
            return self.kwargs["default"]
        factory = self.kwargs.get("default_factory")
        if factory is not None:
            return self.interp.call(factory, [], {})
        return UNKNOWN


def _field(interp, args, kwargs):
    return FieldSpec(interp, kwargs)


def _identity_decorator(interp, args, kwargs):
    return args[0] if args else UNKNOWN


def _ordered_dict(interp, args, kwargs):
    return BUILTINS["dict"].fn(interp, args, kwargs)


def _namedtuple(interp, args, kwargs):
    return Builtin("namedtuple", lambda interp, a, k: (*a, *k.values()))


def _einops_layer(interp, kind: str) -> Mod:
    from gradlint.frontends.python.torch_nn import SPECS

    return Mod(kind, interp.site, spec=SPECS["AdaptiveAvgPool1d" if kind == "Reduce" else "Identity"])


def _einops(kind: str):
    def run(interp, args, kwargs):
        if interp.graph is None or not args:
            return UNKNOWN
        if kind == "reduce":
            return interp.graph.functional(interp, "mean", [args[0]], {}, interp.site)
        return interp.graph.functional(interp, "reshape", [args[0]], {}, interp.site)

    return Builtin(kind, run)


NAMESPACES: dict[str, Namespace] = {
    # einops moves entries around (rearrange, repeat) or averages them (reduce)
    "einops": Namespace("einops", {
        "rearrange": _einops("rearrange"), "repeat": _einops("repeat"), "reduce": _einops("reduce"),
        "layers": Namespace("einops.layers", {"torch": Namespace("einops.layers.torch", {
            "Rearrange": Builtin("Rearrange", lambda interp, a, k: _einops_layer(interp, "Rearrange")),
            "Reduce": Builtin("Reduce", lambda interp, a, k: _einops_layer(interp, "Reduce")),
        })}),
    }),
    "math": MATH,
    "functools": Namespace("functools", {"partial": Builtin("partial", _partial)}),
    "copy": Namespace("copy", {"deepcopy": Builtin("deepcopy", _deepcopy), "copy": Builtin("copy", _copy)}),
    "collections": Namespace("collections", {
        "OrderedDict": Builtin("OrderedDict", _ordered_dict), "namedtuple": Builtin("namedtuple", _namedtuple),
    }),
    "dataclasses": Namespace("dataclasses", {
        "field": Builtin("field", _field), "dataclass": Builtin("dataclass", _identity_decorator),
    }),
    "typing": Namespace("typing", {}),
}


# -- methods of plain values -------------------------------------------------------------

_STR_METHODS = {"lower", "upper", "strip", "lstrip", "rstrip", "startswith", "endswith", "replace", "split",
                "rsplit", "join", "format", "title", "capitalize", "isdigit", "count", "find", "partition",
                "rpartition"}
_DICT_METHODS = {"get", "keys", "values", "items", "pop", "setdefault", "update", "copy"}
_LIST_METHODS = {"append", "extend", "insert", "pop", "index", "count", "copy", "reverse"}


def plain_attr(interp: Interp, obj: Any, name: str) -> Any:
    if isinstance(obj, str) and name in _STR_METHODS:
        return Builtin(name, lambda i, a, k: _plain_call(obj, name, a, k))
    if isinstance(obj, dict) and name in _DICT_METHODS:
        return Builtin(name, lambda i, a, k: _dict_call(_mutating(i, name), obj, name, a, k))
    if isinstance(obj, list) and name in _LIST_METHODS:
        return Builtin(name, lambda i, a, k: _list_call(_mutating(i, name), obj, name, a, k))
    if isinstance(obj, (int, float)) and name in ("real", "imag"):
        return getattr(obj, name)
    if isinstance(obj, tuple) and name in ("index", "count"):
        return Builtin(name, lambda i, a, k: _plain_call(obj, name, a, k))
    return UNKNOWN


_MUTATORS = {"append", "extend", "insert", "pop", "reverse", "update", "setdefault"}


def _mutating(interp, name: str):
    # in forward, lists hold tensors: what matters there is counted as graph nodes
    if name in _MUTATORS and interp.graph is None:
        interp.mutations += 1
    return interp


def _safe(value: Any) -> bool:
    return isinstance(value, (int, float, str, bool, type(None), tuple)) and not (
        isinstance(value, tuple) and not all(_safe(v) for v in value)
    )


def _plain_call(obj: Any, name: str, args: list, kwargs: dict) -> Any:
    if name == "join":
        items = args[0] if args and isinstance(args[0], (list, tuple)) else None
        if items is None or not all(isinstance(s, str) for s in items):
            return UNKNOWN
        return obj.join(items)
    if name == "format":
        if ":" in obj or not all(_safe(a) for a in args) or not all(_safe(v) for v in kwargs.values()):
            return UNKNOWN  # format specs can pad to any width
    elif not all(_safe(a) for a in args) or kwargs:
        return UNKNOWN
    try:
        result = getattr(obj, name)(*args, **kwargs)
    except VALUE_ERRORS:
        return UNKNOWN
    if isinstance(result, str) and len(result) > LIMIT:
        return UNKNOWN
    return result


def _dict_call(interp, obj: dict, name: str, args: list, kwargs: dict) -> Any:
    try:
        if name == "get":
            if not args or args[0] is UNKNOWN:
                return UNKNOWN
            return obj.get(args[0], args[1] if len(args) > 1 else None)
        if name == "keys":
            return list(obj.keys())
        if name == "values":
            return list(obj.values())
        if name == "items":
            return list(obj.items())
        if name == "update":
            if args and isinstance(args[0], dict):
                obj.update(args[0])
            obj.update(kwargs)
            return None
        if name == "copy":
            return dict(obj)
        if args and args[0] is UNKNOWN:
            return UNKNOWN
        return getattr(obj, name)(*args)
    except VALUE_ERRORS:
        return UNKNOWN


def _list_call(interp, obj: list, name: str, args: list, kwargs: dict) -> Any:
    if len(obj) > LIMIT:
        return UNKNOWN
    try:
        if name == "extend":
            items = interp.iterate(args[0]) if args else None
            if items is None:
                interp.unknown("list.extend with items that cannot be known")
                return None
            obj.extend(items)
            return None
        return getattr(obj, name)(*args)
    except VALUE_ERRORS:
        return UNKNOWN
