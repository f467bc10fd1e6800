"""GitHub Actions workflow commands: one annotation per finding."""

from __future__ import annotations

from gradlint.diagnostics import RunResult
from gradlint.notebook_json import JsonPositions

_LEVEL = {"error": "error", "warning": "warning", "info": "notice"}


def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


def render(result: RunResult, context) -> str:
    lines = []
    stored = JsonPositions()
    for f in result.findings:
        loc = f.location
        props = [f"file={_escape_property(loc.path)}"]
        message = f.message if loc.node is None else f"{loc.node} ({loc.op_type}): {f.message}"
        if loc.cell is not None:
            # a line of a notebook's cell is no line of the file GitHub shows: the annotation
            # goes on the line that stores it (on the file when none does alone), and the
            # message says where in the cell
            message = f"cell {loc.cell}, line {loc.line}, column {loc.column}: {message}"
            at = stored.position(loc.path, loc.cell, loc.line, loc.column)
            if at is not None:
                props += [f"line={at[0]}", f"col={at[1]}"]
                end = stored.position(loc.path, loc.cell, loc.end_line, loc.end_column) if loc.end_line else None
                if end is not None:
                    props.append(f"endLine={end[0]}")
                    if end[0] == at[0]:
                        props.append(f"endColumn={end[1]}")
        elif loc.line is not None:
            props.append(f"line={loc.line}")
            if loc.column is not None:
                props.append(f"col={loc.column}")
            if loc.end_line is not None:
                props.append(f"endLine={loc.end_line}")
                if loc.end_line == loc.line and loc.end_column is not None:  # GitHub: one line only
                    props.append(f"endColumn={loc.end_column}")
        props.append(f"title={_escape_property(f.code)}")
        lines.append(f"::{_LEVEL[f.severity]} {','.join(props)}::{_escape_data(message)}")
    for e in result.errors:
        place = "" if e.line is None else f",line={e.line},col={e.column or 1}"
        message = e.message
        if e.cell is not None:
            at = stored.position(e.path, e.cell, e.line, e.column)
            place = "" if at is None else f",line={at[0]},col={at[1]}"
            message = f"cell {e.cell}, line {e.line}, column {e.column}: {message}"
        lines.append(f"::error file={_escape_property(e.path)}{place},title=gradlint::{_escape_data(message)}")
    return "\n".join(lines) + ("\n" if lines else "")
