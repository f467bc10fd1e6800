"""SARIF 2.1.0, as GitHub code scanning accepts it.

Paths are relative to the repository's top folder (``%SRCROOT%``), where code scanning
looks for them, whichever folder the configuration sits in; a file outside it keeps
its absolute ``file:`` URI."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path, PurePosixPath
from urllib.parse import quote

from gradlint import REPOSITORY, __version__
from gradlint.diagnostics import FileError, Finding, RunResult
from gradlint.docs import load_doc, rule_url
from gradlint.notebook_json import JsonPositions
from gradlint.reporters.source_lines import SourceLines
from gradlint.rule import all_rules

SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
_LEVEL = {"error": "error", "warning": "warning", "info": "note"}


def repository_root(start: Path | None = None) -> Path:
    """The nearest folder at or above ``start`` (the current one) that holds a ``.git``
    entry (a folder, or a file in a worktree or submodule); else ``start`` itself."""
    here = Path(os.path.realpath(start or Path.cwd()))
    for folder in (here, *here.parents):
        if os.path.lexists(folder / ".git"):
            return folder
    return here


def _artifact(path: str, root: Path) -> dict:
    absolute = Path(os.path.realpath(Path.cwd() / path))
    try:
        rel = absolute.relative_to(root)
    except ValueError:
        return {"uri": absolute.as_uri()}
    return {"uri": quote(PurePosixPath(rel).as_posix()), "uriBaseId": "%SRCROOT%"}


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
        "helpUri": rule_url(cls.code),
        "defaultConfiguration": {"level": _LEVEL[cls.severity]},
        "properties": {"tags": ["gradient-flow"]},
    }
    return descriptor


def _fingerprint(finding: Finding, uri: str, lines: SourceLines) -> str:
    """Stable while the flagged line's text is: lines inserted above do not make a new alert."""
    loc = finding.location
    if loc.node is not None:
        anchor = loc.node
    else:
        text = lines.line(loc.path, loc.line, loc.cell)
        anchor = f"line {loc.line}" if text is None else " ".join(text.split())
        if loc.cell is not None:
            anchor = f"cell\0{anchor}"
    return hashlib.sha256(f"{finding.code}\0{uri}\0{anchor}".encode()).hexdigest()[:32]


def _in_cell(cell: int | None, line: int | None, column: int | None, message: str) -> str:
    return message if cell is None else f"cell {cell}, line {line}, column {column}: {message}"


def _stored_region(loc, stored: JsonPositions) -> dict:
    """A notebook cell's span as a region of the JSON file: the lines that store the cell's
    lines (the file's start when the file does not store them one to a line)."""
    start = stored.position(loc.path, loc.cell, loc.line, loc.column)
    if start is None:
        return {"startLine": 1, "startColumn": 1}
    region = {"startLine": start[0], "startColumn": start[1]}
    end = stored.position(loc.path, loc.cell, loc.end_line, loc.end_column) if loc.end_line else None
    if end is not None:
        region["endLine"], region["endColumn"] = end
    return region


def _result(finding: Finding, index: dict[str, int], root: Path, lines: SourceLines, stored: JsonPositions) -> dict:
    loc = finding.location
    physical: dict = {"artifactLocation": _artifact(loc.path, root)}
    location: dict = {"physicalLocation": physical}
    if loc.cell is not None:
        # a notebook's cell lines are no lines of its JSON file: the region is where the file
        # stores them, and the cell and its lines go in a logical location
        physical["region"] = _stored_region(loc, stored)
        where = ":".join([loc.path, *loc.places()])
        location["logicalLocations"] = [{"name": f"cell {loc.cell}", "fullyQualifiedName": where}]
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
        "message": {"text": _in_cell(loc.cell, loc.line, loc.column, finding.message)},
        "locations": [location],
        "partialFingerprints": {"gradlintFingerprint/v1": _fingerprint(finding, physical["artifactLocation"]["uri"], lines)},
    }


def _notification(error: FileError, root: Path, stored: JsonPositions) -> dict:
    physical: dict = {"artifactLocation": _artifact(error.path, root)}
    if error.cell is not None:
        at = stored.position(error.path, error.cell, error.line, error.column)
        if at is not None:
            physical["region"] = {"startLine": at[0], "startColumn": at[1]}
    elif error.line is not None:
        physical["region"] = {"startLine": error.line, "startColumn": error.column or 1}
    message = _in_cell(error.cell, error.line, error.column, error.message)
    return {"level": "error", "message": {"text": message}, "locations": [{"physicalLocation": physical}]}


def render(result: RunResult, context) -> str:
    rules = list(all_rules())
    index = {cls.code: i for i, cls in enumerate(rules)}
    root = Path(os.path.realpath(context.root)) if context.root is not None else repository_root()
    lines = SourceLines(context.sources)
    stored = JsonPositions()
    base = root.as_uri() if root.as_uri().endswith("/") else root.as_uri() + "/"
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
                "originalUriBaseIds": {"%SRCROOT%": {"uri": base}},
                "results": [_result(f, index, root, lines, stored) for f in result.findings],
                "invocations": [
                    {
                        "executionSuccessful": True,
                        "toolExecutionNotifications": [_notification(e, root, stored) for e in result.errors],
                    }
                ],
            }
        ],
    }
    return json.dumps(document, indent=2) + "\n"
