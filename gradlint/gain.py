"""The mean-field estimate of how much gradient survives a layer graph."""

from __future__ import annotations

from gradlint.diagnostics import ModelRecord
from gradlint.ir import LayerGraph


def model_record(graph: LayerGraph) -> ModelRecord:
    return ModelRecord(
        path=graph.location.path,
        line=graph.location.line,
        name=graph.name,
        depth=None,
        log10_grad_ratio=None,
    )
