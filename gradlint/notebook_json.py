"""Where a cell's line sits in the notebook's JSON text, for reports that point into the file.

A code-scanning alert or a pull-request annotation marks a line of the file as it is stored,
and a notebook stores each line of a cell's source as one JSON string, one to a line, as
Jupyter writes it (``indent=1``). Each line of a cell is found by its exact JSON spelling on
consecutive lines of the file; where the file is written otherwise (a source held as one
string, everything on one line) the position is unknown and the report falls back to the
cell alone.
"""

from __future__ import annotations

import json
from pathlib import Path

from gradlint.bounded import read_bytes
from gradlint.reading import python_lines

_LIMIT = 256 * 1024 * 1024


class JsonPositions:
    """File line and column of (cell, line, column) positions, for each notebook asked about."""

    def __init__(self) -> None:
        self._files: dict[str, dict[tuple[int, int], tuple[int, int, bool]] | None] = {}

    def position(self, path: str, cell: int, line: int, column: int | None) -> tuple[int, int] | None:
        """The 1-based line and column in the file at ``path`` of a cell's line and column;
        None when the file does not store that line on a line of its own."""
        if path not in self._files:
            self._files[path] = _cell_lines(path)
        found = (self._files[path] or {}).get((cell, line))
        if found is None:
            return None
        number, quote, ascii_only = found
        if column is None:
            return number, quote + 1
        text = self._line_text(path, cell, line)
        prefix = json.dumps(text[: max(column - 1, 0)], ensure_ascii=ascii_only)[1:-1]
        return number, quote + 2 + len(prefix)

    def _line_text(self, path: str, cell: int, line: int) -> str:
        from gradlint.notebooks import cell_lines

        lines = cell_lines(path, cell)
        return lines[line - 1] if 0 < line <= len(lines) else ""


def _cell_lines(path: str) -> dict[tuple[int, int], tuple[int, int, bool]] | None:
    """(cell, line) -> (file line, 0-based column of the string's opening quote, whether the
    file escapes non-ASCII), for every cell line stored on a line of its own."""
    try:
        raw = read_bytes(Path(path), _LIMIT).decode("utf-8-sig")
        document = json.loads(raw)
        cells = document["cells"]
    except (OSError, ValueError, RecursionError, LookupError, TypeError):
        return None
    lines = python_lines(raw)
    found: dict[tuple[int, int], tuple[int, int, bool]] = {}
    cursor = 0
    for number, cell in enumerate(cells, 1):
        source = cell.get("source") if isinstance(cell, dict) else None
        if not _one_line_each(source):
            continue
        at = _run_of(lines, cursor, source)
        if at is None:
            continue
        start, ascii_only = at
        for offset in range(len(source)):
            text = lines[start + offset]
            found[(number, offset + 1)] = (start + offset + 1, len(text) - len(text.lstrip()), ascii_only)
        cursor = start + len(source)
    return found


def _one_line_each(source: object) -> bool:
    """A list of strings that each hold one line of the cell, its end included."""
    if not isinstance(source, list) or not source or not all(isinstance(s, str) for s in source):
        return False
    return all("\r" not in s and "\n" not in s[:-1] and (s.endswith("\n") or i == len(source) - 1)
               for i, s in enumerate(source))


def _run_of(lines: list[str], cursor: int, source: list[str]) -> tuple[int, bool] | None:
    """The first file line from ``cursor`` where ``source``'s strings stand one to a line."""
    for ascii_only in (False, True):
        spelled = [json.dumps(s, ensure_ascii=ascii_only) for s in source]
        first = spelled[0]
        for start in range(cursor, len(lines) - len(spelled) + 1):
            if _bare(lines[start]) != first:
                continue
            if all(_bare(lines[start + i]) == spelled[i] for i in range(1, len(spelled))):
                return start, ascii_only
    return None


def _bare(line: str) -> str:
    stripped = line.strip()
    return stripped.removesuffix(",")
