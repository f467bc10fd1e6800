"""The modules that model code imports and the interpreter models: math, functools,
copy, collections, dataclasses, typing and einops."""

from __future__ import annotations

import math
from typing import Any

from gradlint.frontends.python.argparse_defaults import ARGPARSE
from gradlint.frontends.python.builtins import BUILTINS, _iter, _numbers
from gradlint.frontends.python.values import UNKNOWN, Builtin, Mod, Namespace, Partial, clone

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
    # numpy's scalar helpers, as shape arithmetic uses them (``int(np.prod(img_shape))``)
    "numpy": Namespace("numpy", {
        "prod": Builtin("prod", _prod),
        **{name: MATH.members[name] for name in ("sqrt", "log", "log2", "exp", "ceil", "floor", "pi", "e", "inf")},
    }),
    "functools": Namespace("functools", {"partial": Builtin("partial", _partial)}),
    "copy": Namespace("copy", {"deepcopy": Builtin("deepcopy", _deepcopy), "copy": Builtin("copy", _copy)}),
    "collections": Namespace("collections", {
        "OrderedDict": Builtin("OrderedDict", _ordered_dict), "namedtuple": Builtin("namedtuple", _namedtuple),
    }),
    "dataclasses": Namespace("dataclasses", {
        "field": Builtin("field", _field), "dataclass": Builtin("dataclass", _identity_decorator),
    }),
    "typing": Namespace("typing", {}),
    "argparse": ARGPARSE,
}
