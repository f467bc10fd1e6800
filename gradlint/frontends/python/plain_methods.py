"""Methods of plain values: str, dict, list and tuple methods, and the parts of numbers."""

from __future__ import annotations

from typing import Any

from gradlint.frontends.python.shared import Interp
from gradlint.frontends.python.values import UNKNOWN, VALUE_ERRORS, Builtin

LIMIT = 100_000

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
