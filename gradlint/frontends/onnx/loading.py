"""Reading an .onnx file into a ModelProto, or one line that says why not."""

from __future__ import annotations

from pathlib import Path
from typing import Any

ONNX_MISSING = (
    "cannot check ONNX files: the onnx package is not installed (pip install 'torch-gradlint[onnx]')"
)


class LoadError(Exception):
    """The one-line reason a file is not a model we can check."""


def printable(name: str | bytes) -> str:
    """Text from the file as it may appear in one line of output: control characters (a
    newline in a node's name, a terminal escape) escaped, bytes that are not UTF-8 replaced."""
    if isinstance(name, bytes):
        name = name.decode("utf-8", "replace")
    if name.isprintable():
        return name
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in name)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("==>"):
            return printable(line)
    return printable(text) or type(exc).__name__


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


# Inlining copies a function's body at every call: functions that each call the one before
# twice, forty deep, make 2**39 nodes from a file of a few kilobytes. Large exported
# transformers hold tens of thousands of nodes once inlined, and checking costs about 90 us
# and 2 KB a node (900,000 inlined nodes took 82 s and 1.8 GB), so a million leaves ample
# room and still finishes. The byte limit stops a few calls that each copy a large constant.
INLINE_NODES = 1_000_000
INLINE_BYTES = 1 << 30
# counts stop growing here, so a chain thousands deep stays small integers
_SATURATED = 10**18


def _recursive(function: tuple[str, str, str]) -> LoadError:
    return LoadError(
        f"invalid ONNX model: local function {printable(function[1])!r} calls itself "
        "(directly or through others)"
    )


def _callee(node: Any) -> tuple[str, str, str]:
    return (node.domain, node.op_type, getattr(node, "overload", ""))


def _bodies(nodes: Any) -> Any:
    """The nodes given and those of every subgraph below them (If, Loop, Scan bodies)."""
    from onnx import AttributeProto

    pending = [nodes]
    while pending:
        for node in pending.pop():
            yield node
            for attribute in node.attribute:
                if attribute.type == AttributeProto.GRAPH:
                    pending.append(attribute.g.node)
                elif attribute.type == AttributeProto.GRAPHS:
                    pending.extend(graph.node for graph in attribute.graphs)


def inlined_size(model: Any) -> tuple[int, int]:
    """(nodes, bytes) that inlining the model's local functions would add: each function's
    size once, memoised, multiplied through the calls. LoadError for a function that calls
    itself, which inlining would never finish."""
    functions = {
        (f.domain, f.name, getattr(f, "overload", "")): f for f in model.functions
    }
    sizes: dict[tuple[str, str, str], tuple[int, int]] = {}
    active: set[tuple[str, str, str]] = set()

    def size_of(key: tuple[str, str, str]) -> tuple[int, int]:
        # an explicit stack: a chain of thousands of functions stays within Python's
        # recursion limit
        stack: list[tuple[tuple[str, str, str], bool]] = [(key, False)]
        while stack:
            current, expanded = stack.pop()
            if current in sizes:
                continue
            body = list(_bodies(functions[current].node))
            callees = {_callee(n) for n in body if _callee(n) in functions}
            if not expanded:
                if current in active:
                    raise _recursive(current)
                active.add(current)
                stack.append((current, True))
                for callee in callees:
                    if callee in active:
                        raise _recursive(callee)
                    stack.append((callee, False))
                continue
            nodes = size = 0
            for node in body:
                callee = _callee(node)
                if callee in functions:
                    more, extra = sizes[callee]
                else:
                    more, extra = 1, node.ByteSize()
                nodes, size = min(nodes + more, _SATURATED), min(size + extra, _SATURATED)
            sizes[current] = (nodes, size)
            active.discard(current)
        return sizes[key]

    nodes = size = 0
    for node in _bodies(model.graph.node):
        callee = _callee(node)
        if callee in functions:
            more, extra = size_of(callee)
            nodes, size = min(nodes + more, _SATURATED), min(size + extra, _SATURATED)
    return nodes, size


def inline_functions(model: Any) -> Any:
    """Local functions (what the dynamo exporter emits for some modules) expanded in place."""
    if not model.functions:
        return model
    from onnx import inliner

    nodes, size = inlined_size(model)
    if nodes > INLINE_NODES:
        raise LoadError(
            f"too large to inline: local functions expand to about {nodes:,} nodes "
            f"(limit {INLINE_NODES:,})"
        )
    if size > INLINE_BYTES:
        raise LoadError(
            f"too large to inline: local functions expand to about {size >> 20:,} MB of nodes "
            f"(limit {INLINE_BYTES >> 20:,} MB)"
        )
    try:
        return inliner.inline_local_functions(model)
    except Exception:  # noqa: BLE001 - an unusual function body: keep the calls, they become opaque nodes
        return model
