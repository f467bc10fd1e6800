"""Spatial sizes through a layer graph, from the example input's shape.

A convolution's weight gradient sums over its output positions and an average
pool divides the gradient among the positions it reads, so the gain model needs
the number of positions at a node when the code builds its example input. Sizes
follow the conv/pool/upsample arithmetic of PyTorch; a node whose size cannot be
followed is None, and so is everything computed from it. A Linear after a flatten
reads the positions of the convolution before it as features.
"""

from __future__ import annotations

import math
import re
from typing import Any

from gradlint.ir import LayerGraph, Node

Size = tuple[int, ...]
_AVERAGING = ("AvgPool", "AdaptiveAvgPool", "avg_pool", "adaptive_avg_pool", "mean", "AveragePool",
              "GlobalAveragePool")
# size-changing layers whose arguments were not read: sizes stop there
_RESIZING = ("Upsampl", "Resize", "PixelShuffle", "PixelUnshuffle", "Unflatten")
_FOLLOW = frozenset({"activation", "norm", "dropout", "gate", "identity", "scale", "shift"})
# ops between a convolution and the Linear that flattens its output
_SPATIAL_PASS = frozenset({"identity", "pool", "dropout", "activation", "norm"})


# the batch ``gradlint probe`` makes an input of when none is given
PROBE_BATCH = 16


def input_shape(graph: LayerGraph) -> Size | None:
    """The example input's shape the frontend read from the code (None: not built there),
    else, once the estimate found it needs one (``assume_input``), the images the model's
    constructor states (``stated_input``)."""
    shape = graph.attrs.get("input_shape")
    if shape is None and graph.attrs.get("assume_input"):
        shape = graph.attrs.get("stated_input")
    if isinstance(shape, tuple) and shape and all(isinstance(d, int) and d > 0 for d in shape):
        return shape
    return None


def first_reader(graph: LayerGraph) -> Node | None:
    """The first weighted node the model input reaches."""
    users = graph.consumers()
    stack = [n.id for n in graph.nodes if n.op == "input"][:1]
    seen: set[int] = set()
    while stack:
        nid = stack.pop(0)
        if nid in seen:
            continue
        seen.add(nid)
        node = graph.nodes[nid]
        if node.has_weight and node.op != "shift":
            return node
        stack.extend(users[nid])
    return None


def spatial_sizes(graph: LayerGraph, shape: Size) -> dict[int, Size | None]:
    """Spatial dims of each node's output (``()`` for a feature vector; None when unknown)."""
    sizes: dict[int, Size | None] = {}
    main = next((n.id for n in graph.nodes if n.op == "input"), None)
    for node in graph.topological():
        ins = [sizes.get(i) for i in node.inputs]
        if node.op == "input":
            sizes[node.id] = tuple(shape[2:]) if node.id == main else None
        elif node.op == "linear" and is_conv(node):
            sizes[node.id] = _conv(node, ins[0]) if ins else None
        elif node.op == "linear":
            sizes[node.id] = ()
        elif node.op == "pool":
            sizes[node.id] = _pool(node, ins[0]) if ins else None
        elif node.op in ("add", "concat", "output") or node.op in _FOLLOW:
            if node.op == "identity" and (node.module_type or "").endswith(_PADS):
                sizes[node.id] = _padded(node, ins[0]) if ins else None
            elif node.op == "identity" and any(k in node.attrs for k in ("size", "scale_factor")):
                sizes[node.id] = _resize(node, ins[0]) if ins else None
            elif (node.module_type or "").startswith(_RESIZING):
                sizes[node.id] = None
            else:
                sizes[node.id] = _broadcast(ins) if node.op in ("add", "gate") else _same(ins)
        else:
            sizes[node.id] = None
    return sizes


def _same(ins: list[Size | None]) -> Size | None:
    return ins[0] if ins and len(set(ins)) == 1 else None


def _broadcast(ins: list[Size | None]) -> Size | None:
    """An element-wise sum or product: a map of ones (a pooled squeeze-and-excite scale)
    broadcasts over the other operand's positions."""
    wide = [s for s in ins if not (s and all(d == 1 for d in s))]
    return _same(wide) if wide else _same(ins)


def positions(size: Size | None) -> int | None:
    return None if size is None else math.prod(size)


def is_conv(node: Node) -> bool:
    return (node.module_type or "").startswith(("Conv", "conv"))


def out_channels(node: Node) -> int | None:
    """A convolution's output channels: recorded, or fan_out·groups over the kernel area."""
    if node.attrs.get("out_channels"):
        return int(node.attrs["out_channels"])
    groups = node.attrs.get("groups") or 1
    kernel = node.attrs.get("kernel", node.attrs.get("kernel_size"))
    if isinstance(kernel, int):
        dims = re.search(r"(\d)d", node.module_type or "")
        kernel = [kernel] * int(dims.group(1)) if dims else None
    if not node.fan_out or not isinstance(groups, int) or not kernel:
        return None
    if not all(isinstance(k, int) and k > 0 for k in kernel):
        return None
    area = math.prod(kernel)
    return node.fan_out * groups // area if (node.fan_out * groups) % area == 0 else None


def flattened_positions(graph: LayerGraph, node: Node) -> float | None:
    """Spatial positions a Linear's fan-in flattens from a convolution (1 for none; None
    when a convolution comes before it but the positions are not known).

    A convolution's weight gradient sums over its output positions; the estimate
    tracks one position, and pooling and strides keep that consistent down the
    stack (a pool quarters both the positions and the gradient routed back). At a
    flatten the positions become features, and every convolution before it gets
    P times the gradient the one-position estimate gives: δ² is scaled by P there.
    P = fan_in / out_channels, so the frontends record ``attrs["out_channels"]``
    on convolutions (or ``attrs["positions"]`` on the Linear).
    """
    if "positions" in node.attrs:
        return float(node.attrs["positions"])
    if is_conv(node):
        return 1.0
    current = node
    while current.inputs:
        current = graph.nodes[current.inputs[0]]
        if current.op == "linear":
            if not is_conv(current):
                return 1.0
            channels = out_channels(current)
            if not channels or not node.fan_in:
                return None
            return max(node.fan_in / channels, 1.0)
        if current.op not in _SPATIAL_PASS:
            return 1.0
    return 1.0


def averaging_area(node: Node, sizes: dict[int, Size | None]) -> float | None:
    """Positions an averaging pool reads per output position (None: not averaging, or unknown)."""
    kind = node.attrs.get("function") or node.module_type or ""
    if node.op != "pool" or not kind.startswith(_AVERAGING) or not node.inputs:
        return None
    before, after = positions(sizes.get(node.inputs[0])), positions(sizes.get(node.id))
    if not before or not after or before < after:
        return None
    return before / after


def _per_dim(value: Any, dims: int, default: int | None = None) -> list[int] | None:
    if value is None and default is not None:
        return [default] * dims
    if isinstance(value, int) and not isinstance(value, bool):
        return [value] * dims
    if isinstance(value, (tuple, list)) and len(value) == dims and all(
        isinstance(v, int) and not isinstance(v, bool) for v in value
    ):
        return list(value)
    return None


def _geometry(node: Node, dims: int) -> tuple[list[int], list[int], list[int], Any] | None:
    """A convolution's kernel, stride and dilation per dim, and its padding as written."""
    a = node.attrs
    kernel = _per_dim(a.get("kernel_size", a.get("kernel")), dims)
    stride = _per_dim(a.get("stride", 1), dims)
    dilation = _per_dim(a.get("dilation", 1), dims)
    if kernel is None or stride is None or dilation is None:
        return None
    return kernel, stride, dilation, a.get("padding", 0)


def _conv(node: Node, size: Size | None) -> Size | None:
    if not size:
        return None
    dims = len(size)
    a = node.attrs
    geometry = _geometry(node, dims)
    if geometry is None:
        return None
    kernel, stride, dilation, padding = geometry
    if padding == "same":
        return size
    pad = _per_dim(0 if padding == "valid" else padding, dims)
    if pad is None:
        return None
    if (node.module_type or "").startswith("ConvTranspose"):
        extra = _per_dim(a.get("output_padding", 0), dims)
        if extra is None:
            return None
        out = [(n - 1) * s - 2 * p + d * (k - 1) + e + 1
               for n, k, s, p, d, e in zip(size, kernel, stride, pad, dilation, extra)]
    else:
        out = [(n + 2 * p - d * (k - 1) - 1) // s + 1 for n, k, s, p, d in zip(size, kernel, stride, pad, dilation)]
    return tuple(out) if all(o > 0 for o in out) else None


def _pool(node: Node, size: Size | None) -> Size | None:
    if size is None:
        return None
    a = node.attrs
    kind = a.get("function") or node.module_type or ""
    dims = len(size)
    if "output_size" in a:
        target = a["output_size"]
        if isinstance(target, (tuple, list)) and len(target) == dims:
            out = [n if t is None else t for n, t in zip(size, target)]
            return tuple(out) if all(isinstance(o, int) and o > 0 for o in out) else None
        out = _per_dim(target, dims)
        return tuple(out) if out and all(o > 0 for o in out) else None
    if kind in ("mean", "sum", "amax", "max"):
        return _reduced(a.get("dim"), a.get("keepdim", False), size)
    kernel = _per_dim(a.get("kernel_size"), dims)
    if kernel is None:
        return None
    stride = _per_dim(a.get("stride"), dims) if a.get("stride") not in (None, (), []) else kernel
    pad = _per_dim(a.get("padding", 0), dims)
    dilation = _per_dim(a.get("dilation", 1), dims)
    if stride is None or pad is None or dilation is None:
        return None
    rounding = math.ceil if a.get("ceil_mode") is True else math.floor
    out = [rounding((n + 2 * p - d * (k - 1) - 1) / s) + 1 for n, k, s, p, d in zip(size, kernel, stride, pad, dilation)]
    return tuple(out) if all(o > 0 for o in out) else None


def _reduced(dim: Any, keepdim: Any, size: Size) -> Size | None:
    """``x.mean((2, 3))`` over every spatial dim of an (N, C, *spatial) map: a vector per channel."""
    rank = 2 + len(size)
    dims = dim if isinstance(dim, (tuple, list)) else [dim]
    if not size or not all(isinstance(d, int) and not isinstance(d, bool) for d in dims):
        return None
    if sorted(d % rank for d in dims) != list(range(2, rank)):
        return None
    return tuple(1 for _ in size) if keepdim is True else ()


_PADS = ("Pad1d", "Pad2d", "Pad3d")


def _padded(node: Node, size: Size | None) -> Size | None:
    """A padding layer's output: ``padding`` on both sides of every dim (an int), or torch's
    (left, right, top, bottom, front, back) from the last dim backwards."""
    padding = node.attrs.get("padding")
    if not size:
        return None
    if isinstance(padding, int) and not isinstance(padding, bool):
        return tuple(n + 2 * padding for n in size)
    if not isinstance(padding, (tuple, list)) or len(padding) != 2 * len(size):
        return None
    if not all(isinstance(p, int) and not isinstance(p, bool) for p in padding):
        return None
    out = list(size)
    for index in range(len(size)):
        dim = len(size) - 1 - index  # the first pair pads the last dim
        out[dim] += padding[2 * index] + padding[2 * index + 1]
    return tuple(out) if all(n > 0 for n in out) else None


def _resize(node: Node, size: Size | None) -> Size | None:
    if not size:
        return None
    target = node.attrs.get("size")
    if target is not None:
        out = _per_dim(target, len(size))
        return tuple(out) if out else None
    factor = node.attrs.get("scale_factor")
    factors = [factor] * len(size) if isinstance(factor, (int, float)) else factor
    if not isinstance(factors, (tuple, list)) or len(factors) != len(size):
        return None
    if not all(isinstance(f, (int, float)) and f > 0 for f in factors):
        return None
    return tuple(math.floor(n * f) for n, f in zip(size, factors))


# A tap class: how many output positions share it, and per dim the kernel taps [lo, hi) that
# fall inside the input there (the rest read zero padding).
TapClass = tuple[int, tuple[tuple[int, int], ...]]


def tap_classes(node: Node, size: Size | None) -> tuple[tuple[int, ...], list[TapClass]] | None:
    """A convolution's kernel shape and its output positions grouped by the taps that read
    the input rather than zero padding: with a 3x3 kernel and padding 1 the interior reads
    nine taps, an edge six, a corner four. None when the geometry is not known or every
    position reads every tap."""
    if not size or (node.module_type or "").startswith("ConvTranspose"):
        return None
    dims = len(size)
    geometry = _geometry(node, dims)
    if geometry is None:
        return None
    kernel, stride, dilation, padding = geometry
    if padding == "same":
        pad = [d * (k - 1) // 2 for k, d in zip(kernel, dilation)]
    else:
        pad = _per_dim(0 if padding == "valid" else padding, dims)
    if pad is None or not any(pad):
        return None
    per_dim: list[dict[tuple[int, int], int]] = []
    for n, k, s, p, d in zip(size, kernel, stride, pad, dilation):
        groups: dict[tuple[int, int], int] = {}
        for j in range((n + 2 * p - d * (k - 1) - 1) // s + 1):
            start = j * s - p
            inside = [t for t in range(k) if 0 <= start + t * d < n]
            if inside:
                span = (inside[0], inside[-1] + 1)
                groups[span] = groups.get(span, 0) + 1
        if not groups:
            return None
        per_dim.append(groups)
    classes: list[TapClass] = [(1, ())]
    for groups in per_dim:
        classes = [(count * c, spans + (span,)) for count, spans in classes for span, c in groups.items()]
    return (tuple(kernel), classes) if len(classes) > 1 else None


_SAME_WIDTH = frozenset({"dropout", "identity", "activation", "norm", "scale", "shift", "gate", "add"})


def layer_width(node: Node) -> int | None:
    """The features a Linear or convolution makes (its output channels); None for other ops."""
    if node.op != "linear":
        return None
    return out_channels(node) if is_conv(node) else node.fan_out


def output_features(graph: LayerGraph, out: Node) -> int | None:
    """The output's features per position: those of the last layer before it."""
    current = graph.nodes[out.inputs[0]]
    while current.op in _SAME_WIDTH and current.inputs:
        if current.op in ("scale", "shift") and isinstance(current.attrs.get("entries"), int):
            return current.attrs["entries"]  # a per-channel gain or bias: one entry a feature
        current = graph.nodes[current.inputs[0]]
    return layer_width(current)


def loss_width(graph: LayerGraph, out: Node) -> int:
    """The width the loss's mean divides by per position, in the backward walk and in the
    coherent gradients taken from E[y²] (``gain.ratio``): the output's features, else the
    fan-out of the node before it."""
    return output_features(graph, out) or graph.nodes[out.inputs[0]].fan_out or 1


def width_at(graph: LayerGraph, node: Node) -> int | None:
    """The features of the signal at ``node``: those of the last layer before it."""
    current = node
    while current.op in _SAME_WIDTH and current.inputs:
        current = graph.nodes[current.inputs[0]]
    return current.fan_out if current.op == "embedding" else layer_width(current)
