"""``itertools`` as layer-building code uses it: a cycle of layer kinds cut to a depth
(``islice(cycle(attn_types), depth)``), a value repeated, iterables chained."""

from __future__ import annotations

from gradlint.frontends.python.shared import MAX_LOOP_ITERATIONS
from gradlint.frontends.python.values import UNKNOWN, Builtin, Cycle, Namespace


def _items(interp, value) -> list | None:
    return value.items if isinstance(value, Cycle) else interp.iterate(value)


def _cycle(interp, args, kwargs):
    items = interp.iterate(args[0]) if len(args) == 1 else None
    return UNKNOWN if items is None else Cycle(items)


def _islice(interp, args, kwargs):
    """``islice(it, stop)`` / ``islice(it, start, stop[, step])``."""
    if not 2 <= len(args) <= 4 or not all(a is None or isinstance(a, int) for a in args[1:]):
        return UNKNOWN
    bounds = slice(*args[1:]) if len(args) > 2 else slice(args[1])
    source = args[0]
    if isinstance(source, Cycle):
        if bounds.stop is None or bounds.stop > MAX_LOOP_ITERATIONS:
            return UNKNOWN
        return source.take(bounds.stop)[bounds]
    items = interp.iterate(source)
    return UNKNOWN if items is None else items[bounds]


def _repeat(interp, args, kwargs):
    times = args[1] if len(args) > 1 else kwargs.get("times")
    if not args:
        return UNKNOWN
    if times is None:
        return Cycle([args[0]])
    if not isinstance(times, int) or times > MAX_LOOP_ITERATIONS:
        return UNKNOWN
    return [args[0]] * max(times, 0)


def _chain(interp, args, kwargs):
    joined: list = []
    for value in args:
        items = None if isinstance(value, Cycle) else _items(interp, value)
        if items is None:
            return UNKNOWN
        joined.extend(items)
    return joined


ITERTOOLS = Namespace("itertools", {
    "cycle": Builtin("cycle", _cycle), "islice": Builtin("islice", _islice),
    "repeat": Builtin("repeat", _repeat), "chain": Builtin("chain", _chain),
})
