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
        text = lines.line(loc.path, loc.line)
        anchor = f"line {loc.line}" if text is None else " ".join(text.split())
    return hashlib.sha256(f"{finding.code}\0{uri}\0{anchor}".encode()).hexdigest()[:32]


def _result(finding: Finding, index: dict[str, int], root: Path, lines: SourceLines) -> dict:
    loc = finding.location
    physical: dict = {"artifactLocation": _artifact(loc.path, root)}
    location: dict = {"physicalLocation": physical}
    if loc.line is not None:
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
        "message": {"text": finding.message},
        "locations": [location],
        "partialFingerprints": {"gradlintFingerprint/v1": _fingerprint(finding, physical["artifactLocation"]["uri"], lines)},
    }


def _notification(error: FileError, root: Path) -> dict:
    physical: dict = {"artifactLocation": _artifact(error.path, root)}
    if error.line is not None:
        physical["region"] = {"startLine": error.line, "startColumn": error.column or 1}
    return {"level": "error", "message": {"text": error.message}, "locations": [{"physicalLocation": physical}]}


def render(result: RunResult, context) -> str:
    rules = list(all_rules())
    index = {cls.code: i for i, cls in enumerate(rules)}
    root = Path(os.path.realpath(context.root)) if context.root is not None else repository_root()
    lines = SourceLines(context.sources)
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
                "results": [_result(f, index, root, lines) for f in result.findings],
                "invocations": [
                    {
                        "executionSuccessful": True,
                        "toolExecutionNotifications": [_notification(e, root) for e in result.errors],
                    }
                ],
            }
        ],
    }
    return json.dumps(document, indent=2) + "\n"
