"""The example input a file builds for its model: the shape the gradient ratio is measured at.

``def build(): return Net(), torch.randn(8, 3, 32, 32)`` or a module-level
``INPUT_SHAPE = (64, 784)``. The batch size and the spatial size change how much a
weight's gradient averages out, so the gain model reads the shape when it is known.
"""

from __future__ import annotations

from typing import Any

from gradlint.frontends.python.interpreter import Abort, Interpreter
from gradlint.frontends.python.values import Mod, Tensor

Shape = tuple[int, ...]


def concrete(value: Any) -> Shape | None:
    """A tuple of positive ints, or None."""
    if isinstance(value, (tuple, list)) and value and all(
        isinstance(d, int) and not isinstance(d, bool) and d > 0 for d in value
    ):
        return tuple(value)
    return None


def split_factory_result(result: Any) -> tuple[Any, Shape | None]:
    """``(model, example)`` → the model and the example's shape; anything else → (result, None)."""
    if isinstance(result, (tuple, list)) and len(result) == 2 and isinstance(result[0], Mod):
        example = result[1]
        return result[0], concrete(example.shape) if isinstance(example, Tensor) else None
    return result, None


def declared_shape(interp: Interpreter, ctx: Any) -> Shape | None:
    """The file's ``INPUT_SHAPE`` constant when it evaluates to concrete dimensions."""
    if "INPUT_SHAPE" not in ctx.definitions:
        return None
    try:
        return concrete(interp.global_value(ctx, "INPUT_SHAPE"))
    except (Abort, RecursionError):
        return None
