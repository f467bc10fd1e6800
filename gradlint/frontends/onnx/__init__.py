"""The ONNX frontend: an exported graph as a LayerGraph, for the same rules as source.

``onnx`` (and numpy) are imported only here, when an .onnx file is checked.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from gradlint.frontends.onnx.loading import LoadError, inline_functions, load_model, validate

if TYPE_CHECKING:
    from gradlint.ir import LayerGraph

__all__ = ["LoadError", "build_graph"]


def build_graph(path: Path, shown: str, init_checks: bool = True) -> LayerGraph:
    """The layer graph of one .onnx file; raises LoadError with the one line to report."""
    from gradlint.frontends.onnx.convert import to_layer_graph
    from gradlint.frontends.onnx.weights import check_tensors

    model = load_model(path)
    validate(model)
    model = inline_functions(model)
    check_tensors(model, str(path.parent))
    return to_layer_graph(model, shown, path.stem, str(path.parent), init_checks)
