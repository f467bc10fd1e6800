"""Small tensors of known numbers built in ``__init__``: schedules read back as Python values.

``[x.item() for x in torch.linspace(0, drop_path_rate, depth)]`` (the stochastic-depth
schedule of timm-style ViTs) and ``torch.arange(depth).tolist()`` decide, number by number,
which layers a model builds (``DropPath(p) if p > 0. else nn.Identity()``). Such a tensor
keeps its entries (``Tensor.values``): iterating it, indexing it with an int, ``.item()`` and
``.tolist()`` give them back. Anything else done to it is what it was before: a constant
tensor whose entries the interpreter does not follow.
"""

from __future__ import annotations

from typing import Any

from gradlint.frontends.python.values import UNKNOWN, Builtin, Tensor

MAX_ENTRIES = 1024  # a schedule, not a table


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def factory_values(name: str, args: list, kwargs: dict) -> tuple | None:
    """The entries of ``torch.linspace(start, end, steps)`` / ``torch.arange([start,] end[, step])``
    when every bound is a known number, else None."""
    if name == "linspace":
        bounds = [*args[:3], *(kwargs[k] for k in ("start", "end", "steps")[len(args):] if k in kwargs)]
        if len(bounds) != 3 or not all(_number(b) for b in bounds) or not isinstance(bounds[2], int):
            return None
        start, end, steps = bounds
        if not 0 <= steps <= MAX_ENTRIES:
            return None
        if steps == 1:
            return (float(start),)
        return tuple(float(start + (end - start) * i / (steps - 1)) for i in range(steps))
    if name == "arange":
        bounds = list(args[:3])
        if not bounds or not all(_number(b) for b in bounds) or (len(bounds) == 3 and bounds[2] == 0):
            return None
        span = range(*bounds) if all(isinstance(b, int) for b in bounds) else None
        if span is None or len(span) > MAX_ENTRIES:
            return None
        return tuple(span)
    return None


def entries(tensor: Tensor) -> list[Tensor] | None:
    """A known tensor's entries as tensors of one number each (iterating it)."""
    if tensor.values is None:
        return None
    return [Tensor(None, (), tensor.init, values=(v,)) for v in tensor.values]


def entry(tensor: Tensor, key: Any) -> Any:
    """``t[i]`` of a known 1-D tensor: a tensor of that one number; None when not such a read."""
    if tensor.values is None or not isinstance(key, int) or isinstance(key, bool) or len(tensor.shape or ()) != 1:
        return None
    if not -len(tensor.values) <= key < len(tensor.values):
        return UNKNOWN
    return Tensor(None, (), tensor.init, values=(tensor.values[key],))


def method(tensor: Tensor, name: str) -> Any:
    """``.item()``, ``.tolist()`` of a known tensor as a builtin; None for other names."""
    values = tensor.values
    if values is None:
        return None
    if name == "item":
        return Builtin(name, lambda i, a, k: values[0] if len(values) == 1 else UNKNOWN)
    if name == "tolist":
        return Builtin(name, lambda i, a, k: list(values) if tensor.shape != () else values[0])
    return None
