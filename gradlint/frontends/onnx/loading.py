"""Reading an .onnx file into a ModelProto, or one line that says why not."""

from __future__ import annotations

from pathlib import Path
from typing import Any

ONNX_MISSING = (
    "cannot check ONNX files: the onnx package is not installed (pip install gradlint[onnx])"
)


class LoadError(Exception):
    """The one-line reason a file is not a model we can check."""


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("==>"):
            return line
    return text or type(exc).__name__


def load_model(path: Path) -> Any:
    """The ModelProto without external tensor data (read later, one tensor at a time)."""
    try:
        import onnx
    except ImportError:
        raise LoadError(ONNX_MISSING) from None
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise LoadError(f"cannot read file: {(exc.strerror or str(exc)).lower()}") from None
    if size == 0:
        raise LoadError("empty file: not an ONNX model")
    try:
        model = onnx.load(str(path), load_external_data=False)
    except OSError as exc:
        raise LoadError(f"cannot read file: {(exc.strerror or str(exc)).lower()}") from None
    except Exception:  # noqa: BLE001 - protobuf's DecodeError and friends: the bytes are not a ModelProto
        raise LoadError(
            "not an ONNX model: the protobuf cannot be decoded (truncated or corrupt file?)"
        ) from None
    if model.ir_version <= 0 or not model.HasField("graph") or not model.graph.node:
        raise LoadError("not an ONNX model: no ir_version or no graph nodes")
    return model


def _copy_fields(target: Any, source: Any, skip: str) -> None:
    for descriptor, value in source.ListFields():
        if descriptor.name == skip:
            continue
        if descriptor.is_repeated:
            getattr(target, descriptor.name).extend(value)
        elif descriptor.type == descriptor.TYPE_MESSAGE:
            getattr(target, descriptor.name).CopyFrom(value)
        else:
            setattr(target, descriptor.name, value)


def structure_of(model: Any) -> Any:
    """The model with its initialisers turned into typed graph inputs.

    The checker then validates the structure without copying or serialising the
    weights (hundreds of MB for a transformer) and without needing external data
    files; the payloads are read, and their sizes checked, when they are measured.
    """
    import onnx
    from onnx import helper

    graph = onnx.GraphProto()
    _copy_fields(graph, model.graph, skip="initializer")
    declared = {value.name for value in graph.input}
    for tensor in model.graph.initializer:
        if tensor.name not in declared:
            graph.input.append(
                helper.make_tensor_value_info(tensor.name, tensor.data_type, list(tensor.dims))
            )
    skeleton = onnx.ModelProto()
    _copy_fields(skeleton, model, skip="graph")
    skeleton.graph.CopyFrom(graph)
    return skeleton


def validate(model: Any) -> None:
    """onnx.checker on the structure; the first failure becomes the one line we report."""
    import onnx

    known = onnx.defs.onnx_opset_version()
    for opset in model.opset_import:
        if opset.domain in ("", "ai.onnx") and opset.version > known:
            raise LoadError(
                f"unsupported opset: ai.onnx version {opset.version} (the installed onnx knows up to {known})"
            )
    try:
        onnx.checker.check_model(structure_of(model))
    except (onnx.checker.ValidationError, ValueError, RuntimeError) as exc:
        raise LoadError(f"invalid ONNX model: {_first_line(exc)}") from None


def inline_functions(model: Any) -> Any:
    """Local functions (what the dynamo exporter emits for some modules) expanded in place."""
    if not model.functions:
        return model
    from onnx import inliner

    try:
        return inliner.inline_local_functions(model)
    except Exception:  # noqa: BLE001 - an unusual function body: keep the calls, they become opaque nodes
        return model
