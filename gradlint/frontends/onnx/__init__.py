"""The ONNX frontend: exported graphs through the same rules as source.

``onnx`` (and numpy) are imported only here, when an .onnx file is checked.
"""

from __future__ import annotations

import fnmatch
from pathlib import Path
from typing import TYPE_CHECKING

from gradlint.diagnostics import FileError, FileResult, Finding
from gradlint.frontends.onnx.loading import LoadError, inline_functions, load_model, validate

if TYPE_CHECKING:
    from gradlint.engine import Checker
    from gradlint.ir import LayerGraph


def build_graph(path: Path, shown: str, init_checks: bool = True) -> LayerGraph:
    """The layer graph of one .onnx file; raises LoadError with the one line to report."""
    from gradlint.frontends.onnx.convert import to_layer_graph
    from gradlint.frontends.onnx.weights import check_tensors

    model = load_model(path)
    validate(model)
    model = inline_functions(model)
    check_tensors(model, str(path.parent))
    return to_layer_graph(model, shown, path.stem, str(path.parent), init_checks)


def _ignored(finding: Finding, patterns: list[str]) -> bool:
    node = finding.location.node
    return node is not None and any(fnmatch.fnmatchcase(node, p) for p in patterns)


def check_onnx_file(path: Path, shown: str, checker: Checker) -> FileResult:
    from gradlint.engine import run_graph_rules
    from gradlint.gain import model_record

    result = FileResult(shown)
    config = checker.config
    try:
        graph = build_graph(path, shown, config.onnx_init_checks)
    except LoadError as exc:
        result.errors.append(FileError(shown, str(exc)))
        return result
    except RecursionError:
        result.errors.append(FileError(shown, "graph nested too deeply to analyse; skipped"))
        return result
    findings = run_graph_rules(graph, checker.graph_rules)
    result.findings = [f for f in findings if not _ignored(f, config.onnx_ignore_nodes)]
    record = model_record(graph)
    record.extra.setdefault("source", "onnx")
    record.extra.setdefault("complete", graph.complete)
    if not config.onnx_init_checks:
        record.extra["init_checks"] = False
    absent = graph.attrs.get("weights_absent")
    if absent:
        record.extra["weight_data"] = "absent"
        record.extra["note"] = (
            f"external weight data not found ({', '.join(absent)}): structure checked, "
            "initialisation checks and the estimate skipped"
        )
    result.models.append(record)
    result.dependencies = list(graph.attrs.get("external_files", []))
    return result
