"""SARIF 2.1.0, as GitHub code scanning accepts it."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path, PurePosixPath
from urllib.parse import quote

from gradlint import REPOSITORY, __version__
from gradlint.diagnostics import Finding, RunResult
from gradlint.docs import load_doc
from gradlint.notebook_json import JsonPositions
from gradlint.notebooks import cell_lines
from gradlint.reading import python_lines
from gradlint.rule import all_rules

SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
_LEVEL = {"error": "error", "warning": "warning", "info": "note"}


def _uri(path: str, root: Path) -> str:
    candidate = Path(path)
    absolute = candidate if candidate.is_absolute() else Path.cwd() / candidate
    try:
        rel = absolute.resolve().relative_to(root.resolve())
        return quote(PurePosixPath(rel).as_posix())
    except (ValueError, OSError, RuntimeError):  # RuntimeError: a symlink loop before 3.13
        return quote(PurePosixPath(candidate).as_posix())


def _rule_descriptor(cls) -> dict:
    doc = load_doc(cls.code)
    short = cls.summary
    full = doc.what_it_does if doc else short
    descriptor = {
        "id": cls.code,
        "name": cls.name,
        "shortDescription": {"text": short},
        "fullDescription": {"text": full or short},
        "help": {"text": doc.text if doc else short, "markdown": doc.text if doc else short},
        "defaultConfiguration": {"level": _LEVEL[cls.severity]},
        "properties": {"tags": ["gradient-flow"]},
    }
    return descriptor


def _fingerprint(finding: Finding, lines: _Lines) -> str:
    """Stable while the flagged line's text is: lines inserted above do not make a new alert."""
    loc = finding.location
    anchor = loc.node if loc.node is not None else lines.text(loc.path, loc.line, loc.cell)
    if loc.cell is not None:
        anchor = f"cell\0{anchor}"
    return hashlib.sha256(f"{finding.code}\0{loc.path}\0{anchor}".encode()).hexdigest()[:32]


class _Lines:
    def __init__(self) -> None:
        self._files: dict[tuple[str, int | None], list[str]] = {}

    def text(self, path: str, line: int | None, cell: int | None = None) -> str:
        key = (path, cell)
        if key not in self._files:
            if cell is not None:
                self._files[key] = cell_lines(path, cell)
            else:
                try:
                    text = Path(path).read_text(encoding="utf-8", errors="replace")
                    self._files[key] = python_lines(text)  # not splitlines: \f or \x85 ends no line
                except OSError:
                    self._files[key] = []
        lines = self._files[key]
        if line is None or not 0 < line <= len(lines):
            return f"line {line}"
        return " ".join(lines[line - 1].split())


def _message(finding: Finding) -> str:
    loc = finding.location
    if loc.cell is None:
        return finding.message
    return f"cell {loc.cell}, line {loc.line}, column {loc.column}: {finding.message}"


def _stored_region(loc, stored: JsonPositions) -> dict:
    start = stored.position(loc.path, loc.cell, loc.line, loc.column)
    if start is None:
        return {"startLine": 1, "startColumn": 1}
    region = {"startLine": start[0], "startColumn": start[1]}
    end = stored.position(loc.path, loc.cell, loc.end_line, loc.end_column) if loc.end_line else None
    if end is not None:
        region["endLine"], region["endColumn"] = end
    return region


def _result(finding: Finding, index: dict[str, int], root: Path, lines: _Lines, stored: JsonPositions) -> dict:
    loc = finding.location
    physical: dict = {"artifactLocation": {"uri": _uri(loc.path, root), "uriBaseId": "%SRCROOT%"}}
    location: dict = {"physicalLocation": physical}
    if loc.cell is not None:
        # a notebook's cell lines are no lines of its JSON file: the region is the line that
        # stores the cell's line (the file's start when none does alone), and the cell and
        # its lines go in a logical location
        physical["region"] = _stored_region(loc, stored)
        where = f"cell {loc.cell}:{loc.line}:{loc.column}"
        location["logicalLocations"] = [{"name": f"cell {loc.cell}", "fullyQualifiedName": f"{loc.path}:{where}"}]
        location["properties"] = {
            "cell": loc.cell, "line": loc.line, "column": loc.column,
            "endLine": loc.end_line, "endColumn": loc.end_column,
        }
    elif loc.line is not None:
        region = {"startLine": loc.line, "startColumn": loc.column or 1}
        if loc.end_line is not None:
            region["endLine"] = loc.end_line
        if loc.end_column is not None:
            region["endColumn"] = loc.end_column
        physical["region"] = region
    else:
        # a node of an exported graph has no line; GitHub still needs a region
        physical["region"] = {"startLine": 1, "startColumn": 1}
    if loc.node is not None:
        location["logicalLocations"] = [
            {"name": loc.node, "kind": "member", "fullyQualifiedName": f"{loc.path}::{loc.node}",
             "decoratedName": f"{loc.node} ({loc.op_type}, node {loc.node_index})"}
        ]
    return {
        "ruleId": finding.code,
        "ruleIndex": index[finding.code],
        "level": _LEVEL[finding.severity],
        "message": {"text": _message(finding)},
        "locations": [location],
        "partialFingerprints": {"gradlintFingerprint/v1": _fingerprint(finding, lines)},
    }


def render(result: RunResult, context) -> str:
    rules = list(all_rules())
    index = {cls.code: i for i, cls in enumerate(rules)}
    root = context.root
    lines = _Lines()
    stored = JsonPositions()
    document = {
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "gradlint",
                        "version": __version__,
                        "semanticVersion": __version__,
                        "informationUri": REPOSITORY,
                        "rules": [_rule_descriptor(cls) for cls in rules],
                    }
                },
                "originalUriBaseIds": {"%SRCROOT%": {"uri": root.resolve().as_uri() + "/"}},
                "results": [_result(f, index, root, lines, stored) for f in result.findings],
                "invocations": [
                    {
                        "executionSuccessful": True,
                        "toolExecutionNotifications": [
                            {"level": "error", "message": {"text": e.message},
                             "locations": [{"physicalLocation": {"artifactLocation": {"uri": _uri(e.path, root), "uriBaseId": "%SRCROOT%"}}}]}
                            for e in result.errors
                        ],
                    }
                ],
            }
        ],
    }
    return json.dumps(document, indent=2) + "\n"
