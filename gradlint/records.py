"""The record of one model in a report: what the gain model says about it."""

from __future__ import annotations

from gradlint.diagnostics import ModelRecord
from gradlint.gain import estimate
from gradlint.ir import LayerGraph


def model_record(graph: LayerGraph) -> ModelRecord:
    found = estimate(graph)
    ratio = found.log10_grad_ratio
    return ModelRecord(
        path=graph.location.path,
        line=graph.location.line,
        name=graph.name,
        depth=depth(graph),
        log10_grad_ratio=round(ratio, 3) if ratio is not None else None,
        extra={
            "weights": len(graph.weighted()),
            "complete": graph.complete and found.known,
            "source": graph.source,
        },
    )


def depth(graph: LayerGraph) -> int | None:
    """Weighted layers on the longest input→output path."""
    order = list(graph.topological())
    if len(order) != len(graph.nodes):
        return None
    best: dict[int, int] = {}
    for node in order:
        here = 1 if node.has_weight else 0
        best[node.id] = here + max((best[i] for i in node.inputs), default=0)
    outputs = [n.id for n in graph.nodes if n.op == "output"]
    return max((best[o] for o in outputs), default=None)


def onnx_record(graph: LayerGraph, init_checks: bool) -> ModelRecord:
    """The record of an exported graph: what ``model_record`` says, and how far it was checked."""
    record = model_record(graph)
    record.extra.setdefault("source", "onnx")
    record.extra.setdefault("complete", graph.complete)
    if not init_checks:
        record.extra["init_checks"] = False
    absent = graph.attrs.get("weights_absent")
    if absent:
        record.extra["weight_data"] = "absent"
        record.extra["note"] = (
            f"external weight data not found ({', '.join(absent)}): structure checked, "
            "initialisation checks and the estimate skipped"
        )
    return record
