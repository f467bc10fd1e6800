"""Child side: import the user's file, resolve NAME, build the model and its input."""

from __future__ import annotations

import importlib
import importlib.util
import inspect
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import torch
from torch import nn

from gradlint.gain.attention import PROBE_SEQUENCE
from gradlint.gain.spatial import PROBE_BATCH

# Sizes for an input inferred from the first layer; the report states the shape used.
DEFAULT_BATCH = PROBE_BATCH  # the static estimate assumes it for images a constructor states
DEFAULT_SPATIAL = 32
DEFAULT_SEQUENCE = PROBE_SEQUENCE  # the static estimate's attention assumes it too


class ProbeError(Exception):
    """A failure of the user's code or target, phrased for the user; ``usage`` ones exit 2."""

    def __init__(self, message: str, usage: bool = False) -> None:
        super().__init__(message)
        self.usage = usage


def import_user_module(path: Path) -> ModuleType:
    """Import ``path`` with its folder on sys.path; inside a package, by its dotted name so
    that relative imports work. ``__name__`` is never ``"__main__"``: scripts' main blocks stay quiet."""
    path = path.resolve()
    folder = path.parent
    sys.path.insert(0, str(folder))
    if (folder / "__init__.py").is_file():
        top = folder
        while (top.parent / "__init__.py").is_file():
            top = top.parent
        sys.path.insert(0, str(top.parent))
        dotted = ".".join([*folder.relative_to(top.parent).parts, path.stem])
        return importlib.import_module(dotted)
    # A file named like a module already loaded (copy.py, types.py) must not replace it.
    name = path.stem if path.stem not in sys.modules else f"_gradlint_probe_target_{path.stem}"
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        # No loader knows the file's ending: a data file or a folder named as the target.
        raise ProbeError(f"{path.name} is not a Python file (.py)", usage=True)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def resolve_name(module: ModuleType, name: str) -> Any:
    obj: Any = module
    for part in name.split("."):
        if not hasattr(obj, part):
            raise ProbeError(f"{module.__file__} defines no {name!r}", usage=True)
        obj = getattr(obj, part)
    return obj


def build(obj: Any, name: str) -> tuple[nn.Module, Any]:
    """The model and the example input the factory returned (None when it returned none)."""
    model, example, _ = build_with_optimizer(obj, name)
    return model, example


def build_with_optimizer(obj: Any, name: str) -> tuple[nn.Module, Any, Any]:
    """Also the optimiser, when the factory returned ``(model, input, optimizer)``: the probe
    then checks that what backward reaches is in its parameter groups."""
    if inspect.isclass(obj):
        if not issubclass(obj, nn.Module):
            raise ProbeError(f"{name} is a class but not an nn.Module", usage=True)
        try:
            inspect.signature(obj).bind()
        except TypeError as exc:
            raise ProbeError(
                f"{name}() cannot be built without arguments ({exc}); "
                "name a function that builds it instead",
                usage=True,
            ) from None
        return obj(), None, None
    if not callable(obj):
        raise ProbeError(f"{name} is neither a function nor an nn.Module class", usage=True)
    if isinstance(obj, nn.Module):
        return obj, None, None
    made = obj()
    example = optimizer = None
    if (
        isinstance(made, (tuple, list))
        and len(made) == 3
        and isinstance(made[0], nn.Module)
        and isinstance(made[2], torch.optim.Optimizer)
    ):
        made, example, optimizer = made
    elif isinstance(made, (tuple, list)) and len(made) == 2 and isinstance(made[0], nn.Module):
        made, example = made
    if not isinstance(made, nn.Module):
        raise ProbeError(
            f"{name}() returned {type(made).__name__}, not an nn.Module or a (model, example_input) tuple"
        )
    return made, example, optimizer


def first_layer(model: nn.Module) -> tuple[str, nn.Module] | None:
    for qualified, module in model.named_modules():
        if isinstance(module, (nn.Linear, nn.Bilinear, nn.Embedding, nn.EmbeddingBag)):
            return qualified, module
        if isinstance(module, nn.modules.conv._ConvNd):
            return qualified, module
    return None


def declared_shape(module: ModuleType | None) -> tuple[int, ...] | None:
    """The target file's own ``INPUT_SHAPE = (64, 50)``, when it declares a valid one."""
    shape = getattr(module, "INPUT_SHAPE", None)
    if (
        isinstance(shape, (tuple, list))
        and shape
        and all(isinstance(d, int) and not isinstance(d, bool) and d > 0 for d in shape)
    ):
        return tuple(shape)
    return None


def make_input(
    model: nn.Module, shape: tuple[int, ...] | None, module: ModuleType | None = None
) -> tuple[Any, str]:
    """Standard normal of ``shape`` (integer ids when the first layer is an embedding), else of
    the target file's ``INPUT_SHAPE``, else of a shape inferred from the first
    Linear/Conv/Embedding. Returns the input and how it was made."""
    found = first_layer(model)
    is_embedding = found is not None and isinstance(found[1], (nn.Embedding, nn.EmbeddingBag))
    declared = declared_shape(module) if shape is None else None
    if declared is not None:
        shape, origin = declared, "from the file's INPUT_SHAPE; --input-shape overrides"
    elif shape is None:
        if found is None:
            raise ProbeError(
                "cannot infer the input shape (no Linear, Conv or Embedding layer found); pass --input-shape",
                usage=True,
            )
        shape = _inferred_shape(found[1])
        origin = f"inferred from {found[0] or 'the model'} ({type(found[1]).__name__}); --input-shape overrides"
    else:
        origin = "--input-shape"
    if is_embedding:
        tensor = torch.randint(found[1].num_embeddings, shape)
        return tensor, f"randint({found[1].num_embeddings}, {_dims(shape)}) {origin}"
    return torch.randn(shape), f"randn({_dims(shape)}) {origin}"


def _inferred_shape(layer: nn.Module) -> tuple[int, ...]:
    if isinstance(layer, (nn.Embedding, nn.EmbeddingBag)):
        return (DEFAULT_BATCH, DEFAULT_SEQUENCE)
    if isinstance(layer, nn.modules.conv._ConvNd):
        spatial = len(layer.kernel_size)
        return (DEFAULT_BATCH, layer.in_channels, *([DEFAULT_SPATIAL] * spatial))
    if isinstance(layer, nn.Bilinear):
        return (DEFAULT_BATCH, layer.in1_features)
    return (DEFAULT_BATCH, layer.in_features)


def _dims(shape: tuple[int, ...]) -> str:
    return ", ".join(map(str, shape))


def describe_example(example: Any) -> str:
    if isinstance(example, torch.Tensor):
        return f"example input {tuple(example.shape)} {str(example.dtype).replace('torch.', '')} from the factory"
    return f"example input ({type(example).__name__}) from the factory"


def class_spans(model: nn.Module, factory: Any) -> list[dict[str, Any]]:
    """Where the model's own code lives: each module class (and the factory function) with
    its line span and its forward's, for joining static findings by location."""
    spans = []
    seen: set[type] = set()
    for module in model.modules():
        cls = type(module)
        if cls in seen or cls.__module__.startswith("torch."):
            continue
        seen.add(cls)
        record = _span(cls)
        if record is None:
            continue
        record["class"] = cls.__name__
        forward = cls.__dict__.get("forward")
        record["forward"] = _span(forward) if forward is not None else None
        spans.append(record)
    if inspect.isfunction(factory):
        record = _span(factory)
        if record is not None:
            record["function"] = factory.__name__
            spans.append(record)
    return spans


def _span(obj: Any) -> dict[str, Any] | None:
    try:
        lines, start = inspect.getsourcelines(obj)
        path = inspect.getsourcefile(obj)
    except (OSError, TypeError):
        return None
    if path is None:
        return None
    return {"path": str(Path(path).resolve()), "start": start, "end": start + len(lines) - 1}
