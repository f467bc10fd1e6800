"""The float16 pass: which parameters' gradients underflow to zero without loss scaling.

The model (a copy) and its floating-point inputs are cast to float16 and the same loss is
taken through one forward/backward pass, as training in half precision without a GradScaler
does. A parameter whose float32 gradient has nonzero entries that are exactly zero in float16
lost them to underflow (float16's smallest subnormal is 6e-8); one that lost all of them gets
no update at all.
"""

from __future__ import annotations

import copy
from typing import Any

import torch
from torch import nn

from gradlint.probe.measure import call_model, probe_loss


def _half(value: Any) -> Any:
    if isinstance(value, torch.Tensor):
        return value.half() if value.is_floating_point() else value
    if isinstance(value, (tuple, list)):
        return type(value)(_half(v) for v in value)
    if isinstance(value, dict):
        return {k: _half(v) for k, v in value.items()}
    return value


def underflow(model: nn.Module, example: Any, loss: str = "mse") -> dict[str, Any]:
    """{"params": [{name, lost, entries}], "error": None} after a float32 and a float16 pass;
    ``lost`` is the share of the entries with a nonzero float32 gradient that are zero in
    float16. "error" says why the float16 pass could not run (an op without float16 kernels on
    this device)."""
    reference = {}
    model.train()
    model.zero_grad(set_to_none=True)
    probe_loss(call_model(model, example), loss).backward()
    for name, param in model.named_parameters():
        if param.grad is not None:
            reference[name] = param.grad.detach() != 0
    half = copy.deepcopy(model).half()
    half.train()
    half.zero_grad(set_to_none=True)
    try:
        out = call_model(half, _half(example))
        value = probe_loss(out, loss) if loss != "mse" else _half_mse(out)
        value.backward()
    except (RuntimeError, NotImplementedError, TypeError) as exc:
        return {"params": [], "error": f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"}
    rows = []
    for name, param in half.named_parameters():
        alive = reference.get(name)
        if alive is None or not bool(alive.any()):
            continue
        grad = param.grad
        zero = alive if grad is None else alive & (grad.detach() == 0)
        entries = int(alive.sum())
        lost = int(zero.sum()) / entries
        if lost > 0:
            rows.append({"name": name, "lost": lost, "entries": entries})
    return {"params": rows, "error": None}


def _half_mse(output: Any) -> torch.Tensor:
    """mean(output²) computed in float16, as an autocast-free half model would."""
    from gradlint.probe.measure import first_output

    out = first_output(output)
    return out.pow(2).mean()
