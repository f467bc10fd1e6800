"""What the probe counts at each ReLU-family and sigmoid/tanh activation, modules and functions alike.

Modules (``nn.ReLU``, ``nn.Tanh``...) are counted by forward hooks; functions (``F.relu``,
``torch.relu``, ``x.relu()``, ``torch.sigmoid``, ``torch.tanh``, ``x.tanh()``, ``F.relu6``...)
by a ``TorchFunctionMode`` active for the pass, which needs no change to the model's code.
A function is named by its call site (``relu at model.py:12``); a call made inside torch itself
(an activation module's forward, a torch layer's internals) is left to the hooks.

Per activation, over every call: the share of zero outputs (ReLU family) or of inputs beyond
the saturation bound (sigmoid/tanh), and for the ReLU family the units that are zero for every
sample and position of the batch (channels of a convolution, features of a linear layer).
Counts stay on the device until the end of the pass.
"""

from __future__ import annotations

import os
import sys
from typing import Any

import torch
from torch import nn
from torch.overrides import TorchFunctionMode

DYING_FAMILY = (nn.ReLU, nn.ReLU6)
SATURATING_FAMILY = (nn.Sigmoid, nn.Tanh)
# functions by __name__: torch.relu, F.relu, Tensor.relu, their in-place forms, F.relu6
DYING_FUNCTIONS = frozenset({"relu", "relu_", "relu6"})
SATURATING_FUNCTIONS = frozenset({"sigmoid", "sigmoid_", "tanh", "tanh_"})

_TORCH_DIR = os.path.dirname(torch.__file__) + os.sep
_HERE = os.path.abspath(__file__)


def dead_units(output: torch.Tensor) -> tuple[torch.Tensor, int]:
    """(units zero for the whole batch, units): features of a (batch, features) output,
    channels (dim 1) of a larger one."""
    if output.dim() == 0:
        return (output == 0).sum(), 1
    if output.dim() == 1:
        return (~(output != 0).any()).sum(), 1
    dim = 1 if output.dim() >= 3 else output.dim() - 1
    alive = (output != 0).transpose(0, dim).reshape(output.shape[dim], -1).any(1)
    return output.shape[dim] - alive.sum(), output.shape[dim]


class ActivationCounts:
    """Hooks and the function mode; ``counts`` maps a name to
    [kind, type, hits, elements, calls, dead units, units]."""

    def __init__(self, model: nn.Module, saturation_input: float) -> None:
        self.bound = saturation_input
        self.counts: dict[str, list[Any]] = {}
        self.handles = []
        for qualified, module in model.named_modules():
            kind = "dying" if isinstance(module, DYING_FAMILY) else (
                "saturating" if isinstance(module, SATURATING_FAMILY) else None
            )
            if kind is not None:
                self.handles.append(module.register_forward_hook(self._hook(qualified, kind, module)))
        self.mode = _FunctionCounter(self)

    def __enter__(self) -> ActivationCounts:  # noqa: PYI034 - Self needs Python 3.11
        self.mode.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self.mode.__exit__(*exc)
        for handle in self.handles:
            handle.remove()

    def _hook(self, name: str, kind: str, module: nn.Module):
        def hook(_module, inputs, output):
            x = inputs[0] if inputs and isinstance(inputs[0], torch.Tensor) else None
            self.count(name, kind, type(module).__name__, x, output)

        return hook

    def count(self, name: str, kind: str, type_name: str, x: Any, output: Any) -> None:
        with torch.no_grad():
            entry = self.counts.setdefault(name, [kind, type_name, None, 0, 0, None, 0])
            if kind == "dying":
                if not isinstance(output, torch.Tensor):
                    return
                hits = output.numel() - torch.count_nonzero(output)
                dead, units = dead_units(output.detach())
                entry[5] = dead if entry[5] is None else entry[5] + dead
                entry[6] += units
                elements = output.numel()
            else:
                if not isinstance(x, torch.Tensor):
                    return
                hits = torch.count_nonzero(x > self.bound) + torch.count_nonzero(x < -self.bound)
                elements = x.numel()
            entry[2] = hits if entry[2] is None else entry[2] + hits
            entry[3] += elements
            entry[4] += 1

    def rows(self) -> list[dict[str, Any]]:
        """One row per activation: kind, name, type, fraction, calls, dead_units."""
        entries = [(name, e) for name, e in self.counts.items() if e[2] is not None]
        flat = [e[2] for _, e in entries] + [e[5] for _, e in entries if e[5] is not None]
        values = torch.stack([torch.as_tensor(v).float() for v in flat]).cpu().tolist() if flat else []
        hits, deads = values[: len(entries)], iter(values[len(entries):])
        out = []
        for (name, (kind, type_name, _, elements, calls, dead, units)), hit in zip(entries, hits):
            row = {
                "kind": kind,
                "name": name,
                "module_type": type_name,
                "fraction": (hit / elements) if elements else None,
                "calls": calls,
            }
            if dead is not None:
                row["dead_units"] = next(deads) / units if units else None
            out.append(row)
        return out


class _FunctionCounter(TorchFunctionMode):
    def __init__(self, counts: ActivationCounts) -> None:
        super().__init__()
        self.counts = counts

    def __torch_function__(self, func, types, args=(), kwargs=None):
        result = func(*args, **(kwargs or {}))
        name = getattr(func, "__name__", "")
        kind = "dying" if name in DYING_FUNCTIONS else ("saturating" if name in SATURATING_FUNCTIONS else None)
        if kind is not None:
            site = _call_site()
            if site is not None:
                x = args[0] if args else (kwargs or {}).get("input")
                label = name.rstrip("_")
                self.counts.count(f"{label} at {site}", kind, f"torch.{label}", x, result)
        return result


def _call_site() -> str | None:
    """``file.py:line`` of the user's code that called the activation; None when torch called
    it (an activation module's forward: counted by its hook; a torch layer's internals)."""
    frame = sys._getframe(2)
    while frame is not None:
        path = frame.f_code.co_filename
        if os.path.abspath(path) == _HERE:
            frame = frame.f_back
            continue
        if path.startswith(_TORCH_DIR):
            if path.endswith(("overrides.py", os.path.join("nn", "functional.py"))):
                frame = frame.f_back
                continue
            return None
        return f"{os.path.basename(path)}:{frame.f_lineno}"
    return None
