"""The measurement: one forward/backward pass under the shared definition of the gradient ratio.

Model in train mode; loss = mean of the squared float output (its first element when a
tuple/list), or cross-entropy against random labels; weights = parameters with two or more
dimensions in named_parameters() order; log10_grad_ratio = log10(RMS grad of the first
weight with a nonzero gradient / RMS grad of the last weight), None when the last is zero
or missing. Statistics stay on the device until one transfer at the end, so the probe adds
no synchronisation inside the pass.
"""

from __future__ import annotations

import math
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from gradlint.probe.activations import ActivationCounts


def to_device(value: Any, device: torch.device) -> Any:
    if isinstance(value, torch.Tensor):
        return value.to(device)
    if isinstance(value, (tuple, list)):
        return type(value)(to_device(v, device) for v in value)
    if isinstance(value, dict):
        return {k: to_device(v, device) for k, v in value.items()}
    return value


def call_model(model: nn.Module, example: Any) -> Any:
    """A tensor is one argument, a tuple or list positional arguments, a dict keyword
    arguments (as torch.export and torch.onnx read example inputs)."""
    if isinstance(example, dict):
        return model(**example)
    if isinstance(example, (tuple, list)):
        return model(*example)
    return model(example)


def first_output(output: Any) -> torch.Tensor:
    while isinstance(output, (tuple, list)) and output:
        output = output[0]
    if isinstance(output, dict) and output:
        return first_output(next(iter(output.values())))
    if not isinstance(output, torch.Tensor):
        raise TypeError(f"the model returned {type(output).__name__}, not a tensor")
    return output


def probe_loss(output: Any, loss: str) -> torch.Tensor:
    out = first_output(output)
    if not (out.is_floating_point() or out.is_complex()):
        raise TypeError(
            f"the model's output is {out.dtype}, not floating point: no gradient flows through it"
        )
    out = out.float()
    if loss == "cross-entropy":
        classes = out.shape[-1] if out.dim() else 1
        labels = torch.randint(classes, out.shape[:-1]).to(out.device)
        return F.cross_entropy(out.reshape(-1, classes), labels.reshape(-1))
    return out.pow(2).mean()


def count_tensors(output: Any) -> int:
    if isinstance(output, torch.Tensor):
        return 1
    if isinstance(output, dict):
        return sum(count_tensors(v) for v in output.values())
    if isinstance(output, (tuple, list)):
        return sum(count_tensors(v) for v in output)
    return 0


def forward_backward(model: nn.Module, example: Any, loss: str = "mse") -> tuple[torch.Tensor, int]:
    """The bare pass the probe measures: what a user runs, without hooks or statistics.
    Returns the loss and how many tensors the model returned (only the first enters the loss)."""
    model.train()
    model.zero_grad(set_to_none=True)
    output = call_model(model, example)
    value = probe_loss(output, loss)
    value.backward()
    return value, count_tensors(output)


def measure(
    model: nn.Module,
    example: Any,
    loss: str = "mse",
    saturation_input: float = 5.0,
    optimizer: Any = None,
) -> dict[str, Any]:
    hooks = ActivationCounts(model, saturation_input)
    # what an optimiser built before the pass would hold: a Parameter made by forward and
    # assigned to the model is registered afterwards, but no optimiser has it
    before = {id(p) for p in model.parameters()}
    with hooks:
        model.train()
        model.zero_grad(set_to_none=True)
        output = call_model(model, example)
        value = probe_loss(output, loss)
        value.backward()
        outputs = count_tensors(output)
        with torch.no_grad():
            first = first_output(output)
            zero_share = (first == 0).float().mean() if first.numel() else None
    stats = _statistics(model, value, hooks)
    stats["output_tensors"] = outputs
    stats["output_zero_share"] = None if zero_share is None else float(zero_share)
    stats["unregistered_params"] = unregistered_leaves(model, value, before)
    if optimizer is not None:
        stats["unregistered_params"] += outside_optimizer(model, optimizer)
    return stats


def outside_optimizer(model: nn.Module, optimizer: Any) -> list[dict[str, Any]]:
    """Registered parameters that backward gave a nonzero gradient but that none of the
    optimiser's param groups holds (GL704 at run time): ``step()`` never applies it."""
    held = {id(p) for group in optimizer.param_groups for p in group["params"]}
    return [
        {
            "name": name,
            "shape": list(p.shape),
            "numel": p.numel(),
            "has_grad": True,
            "outside": "optimizer",
        }
        for name, p in model.named_parameters()
        if id(p) not in held and p.grad is not None and bool(p.grad.ne(0).any())
    ]


def reached_leaves(loss: torch.Tensor) -> list[torch.Tensor]:
    """The leaf tensors with requires_grad that the loss's autograd graph reaches: the
    ``variable`` of every AccumulateGrad node below ``loss.grad_fn``, in graph order."""
    leaves, seen, stack = [], set(), [loss.grad_fn]
    while stack:
        node = stack.pop()
        if node is None or node in seen:
            continue
        seen.add(node)
        variable = getattr(node, "variable", None)
        if isinstance(variable, torch.Tensor):
            leaves.append(variable)
        stack.extend(next_node for next_node, _ in node.next_functions)
    return leaves


def attribute_paths(model: nn.Module, depth: int = 8) -> dict[int, str]:
    """Tensor id -> the attribute path that holds it (``blocks[2].weight``, ``W``), through
    modules, plain lists, tuples and dicts; registered names (``named_parameters``) first."""
    paths = {id(p): name for name, p in model.named_parameters()}
    seen: set[int] = set()

    def visit(value: Any, path: str, level: int) -> None:
        if level > depth or id(value) in seen:
            return
        if isinstance(value, torch.Tensor):
            paths.setdefault(id(value), path)
            return
        seen.add(id(value))
        if isinstance(value, nn.Module):
            for name, inner in vars(value).items():
                if name in ("_parameters", "_buffers", "_modules"):
                    for key, item in inner.items():
                        visit(item, f"{path}.{key}" if path else key, level + 1)
                elif not name.startswith("__"):
                    visit(inner, f"{path}.{name}" if path else name, level + 1)
        elif isinstance(value, (list, tuple)):
            for index, item in enumerate(value):
                visit(item, f"{path}[{index}]", level + 1)
        elif isinstance(value, dict):
            for key, item in value.items():
                visit(item, f"{path}[{key!r}]", level + 1)

    visit(model, "", 0)
    return paths


def unregistered_leaves(
    model: nn.Module, loss: torch.Tensor, registered: set[int] | None = None
) -> list[dict[str, Any]]:
    """Leaves the loss reached that are not in ``model.parameters()``: the optimiser built
    from the model never steps them, although backward filled their gradient. Each is named
    by the attribute path that holds it, or ``<made in forward>`` when nothing does (a new
    tensor every call). ``registered``: ids of the parameters before the pass (default: now)."""
    if loss.grad_fn is None:
        return []
    if registered is None:
        registered = {id(p) for p in model.parameters()}
    outside = [t for t in reached_leaves(loss) if id(t) not in registered]
    if not outside:
        return []
    paths = attribute_paths(model)
    return [
        {
            "name": paths.get(id(t), "<made in forward>"),
            "shape": list(t.shape),
            "numel": t.numel(),
            "has_grad": t.grad is not None,
        }
        for t in outside
    ]


def _owners(model: nn.Module) -> dict[int, tuple[str, str]]:
    owners: dict[int, tuple[str, str]] = {}
    for qualified, module in model.named_modules():
        for param in module.parameters(recurse=False):
            owners.setdefault(id(param), (qualified, type(module).__name__))
    return owners


TINY_GRADIENT = 1e-10


def _grad_figures(params: list[tuple[str, nn.Parameter]]) -> list[list[float]]:
    """Per parameter: grad L2 norm, L1 norm, min, max, weight L2 norm (NaN where no grad).

    Reductions only, in the tensor's own dtype: no temporary as large as a parameter, and
    one transfer for all. A float32 L2 norm can underflow (|g| < 1e-19) or overflow; those
    few are recomputed in float64, which also tells a non-finite gradient from a large one."""
    nan = float("nan")
    rows = []
    for _, param in params:
        grad = param.grad
        weight_norm = torch.linalg.vector_norm(param.detach()).float()
        if grad is None or grad.numel() == 0:
            filler = nan if grad is None else 0.0
            rows.append(torch.stack([weight_norm.new_tensor(filler)] * 4 + [weight_norm]))
            continue
        low, high = torch.aminmax(grad)
        rows.append(
            torch.stack(
                [
                    torch.linalg.vector_norm(grad).float(),
                    torch.linalg.vector_norm(grad, 1).float(),
                    low.float(),
                    high.float(),
                    weight_norm,
                ]
            ).to(params[0][1].device)
        )
    table = torch.stack(rows).cpu().tolist() if rows else []
    for (_, param), row in zip(params, table):
        # Squares of gradients below ~1e-19 are float32 denormals or zero: a norm of tiny
        # gradients (deep saturated stacks reach 1e-20) is only right in float64.
        tiny = max(abs(row[2]), abs(row[3])) < TINY_GRADIENT
        if param.grad is not None and (tiny or not math.isfinite(row[0])):
            row[0] = torch.linalg.vector_norm(param.grad, dtype=torch.float64).item()
            row[1] = torch.linalg.vector_norm(param.grad, 1, dtype=torch.float64).item()
        if row[4] == 0 or not math.isfinite(row[4]):
            row[4] = torch.linalg.vector_norm(param.detach(), dtype=torch.float64).item()
    return table


def _rows_identical(tensor: torch.Tensor) -> bool:
    """Every row (output unit) equal to the others; per-column extremes, so no temporary
    as large as the tensor."""
    if tensor.shape[0] < 2:
        return False
    low, high = torch.aminmax(tensor.detach().reshape(tensor.shape[0], -1), dim=0)
    scale = max(high.abs().max().item(), low.abs().max().item()) or 1.0
    return (high - low).max().item() <= 1e-6 * scale


def symmetric_weights(params: list[tuple[str, nn.Parameter]]) -> list[str]:
    """Weights whose units stay identical for good: equal rows and equal gradient rows
    (a constant init that the gradient never breaks)."""
    return [
        name
        for name, param in params
        if param.dim() >= 2
        and param.grad is not None
        and param.grad.any()
        and _rows_identical(param)
        and _rows_identical(param.grad)
    ]


def _statistics(
    model: nn.Module, loss_value: torch.Tensor, hooks: ActivationCounts
) -> dict[str, Any]:
    params = list(model.named_parameters())
    with torch.no_grad():
        table = _grad_figures(params)
        activations = hooks.rows()
        loss_float = float(loss_value.detach().cpu())
        symmetric = symmetric_weights(params)
    owners = _owners(model)
    weights, dead, frozen = [], [], []
    for (name, param), (grad_norm, grad_l1, grad_min, grad_max, weight_norm) in zip(params, table):
        numel = max(param.numel(), 1)
        missing = param.grad is None
        if not param.requires_grad:
            frozen.append(name)
        elif missing or grad_norm == 0:
            dead.append(name)
        if param.dim() < 2:
            continue
        module, module_type = owners.get(id(param), ("", ""))
        grad_rms = None if missing else grad_norm / math.sqrt(numel)
        weight_rms = weight_norm / math.sqrt(numel)
        weights.append(
            {
                "kind": "weight",
                "name": name,
                "module": module,
                "module_type": module_type,
                "shape": list(param.shape),
                "requires_grad": param.requires_grad,
                "grad_missing": missing,
                "grad_rms": grad_rms,
                "grad_norm": None if missing else grad_norm,
                "grad_mean_abs": None if missing else grad_l1 / numel,
                "grad_max_abs": None if missing else max(abs(grad_min), abs(grad_max)),
                "weight_rms": weight_rms,
                "grad_to_weight": None if missing or not weight_rms else grad_rms / weight_rms,
                "nonfinite": (not missing) and not math.isfinite(grad_norm),
            }
        )
    return {
        "loss": loss_float,
        "log10_grad_ratio": grad_ratio(weights),
        "dead_params": dead,
        "frozen_params": frozen,
        "symmetric_weights": symmetric,
        "weights": weights,
        "activations": activations,
        "module_names": [n for n, _ in model.named_modules() if n],
        "param_names": [n for n, _ in params],
    }


def grad_ratio(weights: list[dict[str, Any]]) -> float | None:
    """log10(first nonzero weight gradient RMS / last weight gradient RMS), as ARCHITECTURE.md defines it."""
    if not weights:
        return None
    last = weights[-1]["grad_rms"]
    if not last or not math.isfinite(last):
        return None
    first = next((w["grad_rms"] for w in weights if w["grad_rms"]), None)
    if first is None or not math.isfinite(first):
        return None
    return math.log10(first / last)
