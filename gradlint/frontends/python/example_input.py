"""The example input a file builds for its model: the shape the gradient ratio is measured at.

``def build(): return Net(), torch.randn(8, 3, 32, 32)`` or a module-level
``INPUT_SHAPE = (64, 784)``. The batch size and the spatial size change how much a
weight's gradient averages out, so the gain model reads the shape when it is known.
"""

from __future__ import annotations

from typing import Any

import libcst as cst

from gradlint.frontends.python.interpreter import Abort, Frame, Interpreter
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
    """``(model, example)`` → the model and the example's shape; anything else → (result, None).
    An example that is a tuple of positional arguments, ``(model, (x, mask))``, gives the
    shape of the first, the input the graph starts from."""
    if isinstance(result, (tuple, list)) and len(result) == 2 and isinstance(result[0], Mod):
        example = result[1]
        if isinstance(example, (tuple, list)) and example:
            example = example[0]
        return result[0], concrete(example.shape) if isinstance(example, Tensor) else None
    return result, None


# what a model's constructor calls the side of the images it takes, and their channels
_IMAGE_SIZES = ("image_size", "img_size", "input_resolution", "image_res", "img_res", "resolution")
_CHANNELS = ("channels", "in_chans", "in_channels", "num_channels", "input_channels", "image_channels", "img_channels")


def stated_input(init_args: dict[str, Any], batch: int) -> Shape | None:
    """``ViT(image_size=224, channels=3, ...)``: the images the constructor says the model
    takes, ``batch`` of them (``channels`` 3 where it names none); None when it names no
    image size, or one that is not a number or a (height, width) pair of numbers."""
    size = next((init_args[n] for n in _IMAGE_SIZES if n in init_args), None)
    side = concrete(size) if isinstance(size, (tuple, list)) else concrete((size,))
    if side is None or len(side) > 2:
        return None
    channels = next((init_args[n] for n in _CHANNELS if n in init_args), 3)
    if concrete((channels,)) is None:
        return None
    height, width = side if len(side) == 2 else side * 2
    return (batch, channels, height, width)


def declared_shape(interp: Interpreter, ctx: Any) -> Shape | None:
    """The file's ``INPUT_SHAPE`` constant when it evaluates to concrete dimensions."""
    if "INPUT_SHAPE" not in ctx.definitions:
        return None
    try:
        return concrete(interp.global_value(ctx, "INPUT_SHAPE"))
    except (Abort, RecursionError):
        return None


class ScriptShapes:
    """``x = torch.randn(B, 784)`` … ``model(x)`` in a file's top-level code: the shape of
    what each model built there is first called with, by the id of the model's class. Fed
    statement by statement as the script runs, so that a name bound again (a README builds
    ``v`` model after model) is read as it is at the call."""

    def __init__(self) -> None:
        self.assigned: dict[str, cst.BaseExpression] = {}
        self.shapes: dict[int, Shape] = {}

    def seen(self, stmt: cst.CSTNode) -> None:
        for node in _walk(stmt):
            if type(node) is cst.Assign and len(node.targets) == 1 and type(node.targets[0].target) is cst.Name:
                self.assigned[node.targets[0].target.value] = node.value

    def ran(self, interp: Interpreter, frame: Frame, stmt: cst.CSTNode) -> None:
        for node in _walk(stmt):
            if not (type(node) is cst.Call and type(node.func) is cst.Name and node.args
                    and type(node.args[0].value) is cst.Name):
                continue
            value = frame.locals.get(node.func.value)
            argument = self.assigned.get(node.args[0].value.value)
            if not isinstance(value, Mod) or value.cls is None or argument is None or id(value.cls) in self.shapes:
                continue
            try:
                example = interp.eval(argument, frame)
            except (Abort, RecursionError):
                continue
            shape = concrete(example.shape) if isinstance(example, Tensor) else None
            if shape is not None:
                self.shapes[id(value.cls)] = shape


def _walk(node: cst.CSTNode):
    stack = [node]
    while stack:
        node = stack.pop()
        if type(node) in (cst.FunctionDef, cst.ClassDef):
            continue
        yield node
        stack.extend(node.children)
