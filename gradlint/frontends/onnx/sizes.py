"""What the gain model needs to follow spatial sizes through an ONNX graph: the input's
shape from the graph's value_info and the size attributes of convolutions and pools,
under the names the python frontend records."""

from __future__ import annotations

from typing import Any

from gradlint.frontends.onnx.view import GraphView

# ops that change the spatial size without attributes gradlint reads: sizes stop there
_RESIZING = frozenset({"Resize", "Upsample", "DepthToSpace", "SpaceToDepth", "Col2Im", "Pad"})


def input_shape(view: GraphView) -> tuple[int, ...] | None:
    """The first graph input's shape when every dimension is concrete and no op resizes
    the maps in a way the spatial sizes cannot follow."""
    if not view.inputs or any(n.op_type in _RESIZING for n in view.nodes):
        return None
    first = next(i for i in view.graph.input if i.name == view.inputs[0])
    dims = first.type.tensor_type.shape.dim
    values = [d.dim_value if d.HasField("dim_value") else 0 for d in dims]
    return tuple(values) if values and all(v > 0 for v in values) else None


def _pads(pads: list[int] | None) -> list[int] | None:
    """ONNX pads are [begin..., end...]; PyTorch's padding is symmetric."""
    if not pads or len(pads) % 2 or min(pads) < 0:
        return None
    half = len(pads) // 2
    begin, end = list(pads[:half]), list(pads[half:])
    return begin if begin == end else None


def _at_least(values: list[int] | None, least: int, dims: int) -> list[int] | None:
    """``values`` when there is one per spatial dim and none is below ``least``: a zero stride
    or a negative dilation leaves the sizes unknown rather than divided by."""
    if values is None or len(values) != dims or any(v < least for v in values):
        return None
    return values


def _auto_pad(view: GraphView, index: int) -> str:
    return view.text(index, "auto_pad", "NOTSET")


def conv_attrs(view: GraphView, index: int, dims: int) -> dict[str, Any]:
    attrs: dict[str, Any] = {
        "stride": _at_least(view.ints(index, "strides", [1] * dims), 1, dims),
        "dilation": _at_least(view.ints(index, "dilations", [1] * dims), 1, dims),
        "output_padding": _at_least(view.ints(index, "output_padding", [0] * dims), 0, dims),
    }
    auto = _auto_pad(view, index)
    if auto == "NOTSET":
        pads = view.ints(index, "pads")
        attrs["padding"] = _pads(pads) if pads else [0] * dims
    elif auto == "VALID":
        attrs["padding"] = "valid"
    else:
        attrs["padding"] = "same" if attrs["stride"] == [1] * dims else None
    return attrs


def pool_attrs(view: GraphView, index: int) -> dict[str, Any]:
    node = view.nodes[index]
    op = node.op_type
    if op in ("GlobalAveragePool", "GlobalMaxPool"):
        return {"output_size": 1}
    if op in ("MaxPool", "AveragePool"):
        if _auto_pad(view, index) != "NOTSET":
            return {}
        kernel = view.ints(index, "kernel_shape", [])
        dims = len(kernel)
        stride = _at_least(view.ints(index, "strides", kernel), 1, dims)
        dilation = _at_least(view.ints(index, "dilations", [1] * dims), 1, dims)
        if not kernel or min(kernel) < 1 or stride is None or dilation is None:
            return {}
        pads = view.ints(index, "pads")
        return {
            "kernel_size": kernel,
            "stride": stride,
            "padding": _pads(pads) if pads else [0] * dims,
            "dilation": dilation,
            "ceil_mode": bool(view.integer(index, "ceil_mode", 0)),
        }
    if op == "ReduceMean":
        axes = view.ints(index, "axes")
        if axes is None and len(node.input) > 1 and node.input[1]:
            values = view.values(node.input[1])
            if values is not None and values.dtype.kind in "iu":
                axes = [int(a) for a in values]
        if axes is None:
            return {}
        keepdim = bool(view.integer(index, "keepdims", 1))
        return {"function": "mean", "dim": axes, "keepdim": keepdim}
    return {}
