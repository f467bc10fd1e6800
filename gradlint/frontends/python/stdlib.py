"""The modules that model code imports and the interpreter models: math, functools,
copy, collections, dataclasses, typing and einops."""

from __future__ import annotations

import math
from typing import Any

from gradlint.frontends.python.argparse_defaults import ARGPARSE
from gradlint.frontends.python.builtins import (
    ABSTRACT_TYPES,
    BUILTINS,
    _iter,
    _numbers,
    is_function,
)
from gradlint.frontends.python.derived import DerivedWeight, as_derived
from gradlint.frontends.python.iterators import ITERTOOLS
from gradlint.frontends.python.values import (
    UNKNOWN,
    Builtin,
    Mod,
    Namespace,
    ParamRef,
    Partial,
    Tensor,
    clone,
)

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


def _einops_layer_of(kind: str) -> Builtin:
    def run(interp, args, kwargs):
        mod = _einops_layer(interp, kind)
        if args and isinstance(args[0], str):
            mod.args.update({"pattern": args[0], **{k: v for k, v in kwargs.items() if isinstance(v, int)}})
        return mod

    return Builtin(kind, run)


def _einops(kind: str):
    def run(interp, args, kwargs):
        if interp.graph is None or not args:
            return UNKNOWN
        if kind == "reduce":
            return interp.graph.functional(interp, "mean", [args[0]], {}, interp.site)
        x, pattern = args[0], args[1] if len(args) > 1 else None
        if (kind == "rearrange" and isinstance(x, Tensor) and x.node is not None and x.piece is None
                and isinstance(pattern, str)):
            # a node of its own, which carries the pattern the sequence length follows
            axes = {k: v for k, v in kwargs.items() if isinstance(v, int)}
            return interp.graph.node("identity", interp.graph.scoped("rearrange"), interp.site, [x.node],
                                     attrs={"einops": pattern, "axes": axes})
        return interp.graph.functional(interp, "repeat" if kind == "repeat" else "reshape", [args[0]], {},
                                       interp.site)

    return Builtin(kind, run, sizes_only=True)


def _pack(interp, args, kwargs):
    """``pack([x, r], "b * d")``: the tensors joined (one alone passes), and shapes whose only
    use is to ``unpack`` as many pieces again."""
    items = _iter(interp, args[0]) if args else None
    if interp.graph is None or items is None:
        return UNKNOWN
    pattern = args[1] if len(args) > 1 else kwargs.get("pattern")
    weight = as_derived(items[0]) if len(items) == 1 and isinstance(pattern, str) else None
    if weight is not None:  # a weight forward reshapes to normalise its rows (EDM2's ``pack_one``)
        packed = weight.packed(pattern)
        return (packed if packed is not None else UNKNOWN), (UNKNOWN,)
    joined = interp.graph.functional(interp, "cat", [list(items)], {}, interp.site)
    counts = [_tokens_of(item) if isinstance(pattern, str) and pattern.count("*") == 1 else None for item in items]
    shapes = tuple(_Tokens(count) if count is not None else UNKNOWN for count in counts)
    if any(isinstance(shape, _Tokens) for shape in shapes) and isinstance(joined, Tensor) and joined.node is not None:
        # where learned tokens join the sequence: a table added before it does not cover them
        joined = interp.graph.node("identity", interp.graph.scoped("pack"), interp.site, [joined.node],
                                   attrs={"function": "pack"})
    return joined, shapes


class _Tokens(int):
    """The shape ``pack`` gives a learned token table it joins: how many positions it takes."""


def _tokens_of(item: Any) -> int | None:
    """The positions a learned token table takes in a pack (``cls_token`` of (d,): one); None
    for anything else."""
    shape = item.param.shape if isinstance(item, ParamRef) and item.param is not None else None
    return math.prod(shape[:-1]) if shape else None


def _unpack(interp, args, kwargs):
    """``unpack(x, ps, "b * d")``: every piece carries x's gradient path, as ``chunk``'s do,
    but a single learned token that ``pack`` put at a known position (after other tokens
    only: ``pack((registers, cls, x), "b * d")``) is that position taken out, as ``x[:, 0]``."""
    if interp.graph is None or not args:
        return UNKNOWN
    if isinstance(args[0], DerivedWeight):
        return [args[0].unpacked()]
    shapes = args[1] if len(args) > 1 else kwargs.get("packed_shapes")
    count = len(shapes) if isinstance(shapes, (tuple, list)) else 0
    pieces = interp.graph.functional(interp, "chunk", [args[0], count or UNKNOWN], {}, interp.site)
    x = args[0]
    if not (count and isinstance(pieces, tuple) and isinstance(x, Tensor) and x.node is not None):
        return pieces
    out, position = list(pieces), 0
    for i, shape in enumerate(shapes):
        if not isinstance(shape, _Tokens):
            break
        if shape == 1:
            out[i] = interp.graph.node("pool", interp.graph.scoped("take"), interp.site, [x.node],
                                       attrs={"function": "take", "position": position, "token": True})
        position += shape
    return tuple(out)


def _einops_einsum(interp, args, kwargs):
    """``einops.einsum(a, b, "pattern")``: torch's einsum with the pattern last."""
    if interp.graph is None or not args or not isinstance(args[-1], str):
        return UNKNOWN
    return interp.graph.functional(interp, "einsum", [args[-1], *args[:-1]], {}, interp.site)


_ABSTRACT = {name: Builtin(name, lambda interp, a, k: UNKNOWN) for name in ABSTRACT_TYPES}

NAMESPACES: dict[str, Namespace] = {
    # einops moves entries around (rearrange, repeat) or averages them (reduce)
    "einops": Namespace("einops", {
        "rearrange": _einops("rearrange"), "repeat": _einops("repeat"), "reduce": _einops("reduce"),
        "pack": Builtin("pack", _pack), "unpack": Builtin("unpack", _unpack),
        "einsum": Builtin("einsum", _einops_einsum),
        "layers": Namespace("einops.layers", {"torch": Namespace("einops.layers.torch", {
            "Rearrange": _einops_layer_of("Rearrange"), "Reduce": _einops_layer_of("Reduce"),
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
        "abc": Namespace("collections.abc", _ABSTRACT),
    }),
    "dataclasses": Namespace("dataclasses", {
        "field": Builtin("field", _field), "dataclass": Builtin("dataclass", _identity_decorator),
    }),
    "typing": Namespace("typing", dict(_ABSTRACT)),
    "inspect": Namespace("inspect", {"isfunction": Builtin("isfunction", is_function)}),
    "argparse": ARGPARSE,
    "itertools": ITERTOOLS,
}
