"""One renderer per output format; each takes the plain-data RunResult and returns text."""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from pathlib import Path

from gradlint.diagnostics import RunResult

FORMATS = ("text", "json", "sarif", "github")


@dataclass
class ReportContext:
    root: Path  # where SARIF's relative URIs start
    show_models: bool = False
    color: bool = False


def render(fmt: str, result: RunResult, context: ReportContext) -> str:
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}")
    module = importlib.import_module(f"gradlint.reporters.{fmt}_report")
    return module.render(result, context)
