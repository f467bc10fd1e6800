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


def _pads(pads: Any) -> list[int] | None:
    """ONNX pads are [begin..., end...]; PyTorch's padding is symmetric."""
    if not pads:
        return None
    half = len(pads) // 2
    begin, end = list(pads[:half]), list(pads[half:])
    return begin if begin == end else None


def conv_attrs(view: GraphView, index: int, dims: int) -> dict[str, Any]:
    attrs: dict[str, Any] = {
        "stride": list(view.attr(index, "strides", [1] * dims)),
        "dilation": list(view.attr(index, "dilations", [1] * dims)),
        "output_padding": list(view.attr(index, "output_padding", [0] * dims)),
    }
    auto = view.attr(index, "auto_pad", b"NOTSET")
    auto = auto.decode() if isinstance(auto, bytes) else str(auto)
    if auto == "NOTSET":
        pads = view.attr(index, "pads")
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
        auto = view.attr(index, "auto_pad", b"NOTSET")
        if (auto.decode() if isinstance(auto, bytes) else str(auto)) != "NOTSET":
            return {}
        kernel = list(view.attr(index, "kernel_shape", []))
        pads = view.attr(index, "pads")
        return {
            "kernel_size": kernel,
            "stride": list(view.attr(index, "strides", kernel)),
            "padding": _pads(pads) if pads else [0] * len(kernel),
            "dilation": list(view.attr(index, "dilations", [1] * len(kernel))),
            "ceil_mode": bool(view.attr(index, "ceil_mode", 0)),
        }
    if op == "ReduceMean":
        axes = view.attr(index, "axes")
        if axes is None and len(node.input) > 1 and node.input[1]:
            tensor = view.tensor(node.input[1])
            if tensor is not None:
                from onnx import numpy_helper

                axes = [int(a) for a in numpy_helper.to_array(tensor).reshape(-1)]
        if axes is None:
            return {}
        return {"function": "mean", "dim": list(axes), "keepdim": bool(view.attr(index, "keepdims", 1))}
    return {}
