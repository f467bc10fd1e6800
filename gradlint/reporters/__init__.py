"""One renderer per output format; each takes the plain-data RunResult and returns text."""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from pathlib import Path

from gradlint.diagnostics import RunResult

FORMATS = ("full", "concise", "json", "sarif", "github")
DEFAULT_FORMAT = "full"
ALIASES = {"text": DEFAULT_FORMAT}  # the name the default had before `full` and `concise`


@dataclass
class ReportContext:
    root: Path | None = None  # where SARIF's relative URIs start (default: the repository's top)
    show_models: bool = False
    color: bool = False
    quiet: bool = False  # the findings only, no summary line
    statistics: bool = False  # counts per code instead of the findings
    sources: dict[str, str] = field(default_factory=dict)  # texts not on disk as checked (stdin)


def render(fmt: str, result: RunResult, context: ReportContext) -> str:
    fmt = ALIASES.get(fmt, fmt)
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}")
    if context.statistics:
        from gradlint.reporters import statistics

        return statistics.render(result, context, fmt)
    module = importlib.import_module(f"gradlint.reporters.{fmt}_report")
    return module.render(result, context)
