"""The lines of the files that findings point into, read once per report."""

from __future__ import annotations

from pathlib import Path

from gradlint.notebooks import cell_lines
from gradlint.reading import python_lines, read_text

# what a code frame is drawn from: Python source, not a notebook's JSON (its cells are read
# apart) nor an ONNX graph
_FRAMED_SUFFIXES = (".py", ".pyi", ".pyw")


class SourceLines:
    """Each file's lines as the checks numbered them (``python_lines``: a \\f or \\x85 ends
    no line). ``texts`` holds files that are not on disk as they were checked (standard input)."""

    def __init__(self, texts: dict[str, str] | None = None) -> None:
        self._texts = dict(texts or {})
        self._files: dict[tuple[str, int | None], list[str]] = {}

    def lines(self, path: str, cell: int | None = None) -> list[str]:
        """The file's lines, or with ``cell`` the lines of that cell of the notebook at ``path``."""
        key = (path, cell)
        if key not in self._files:
            text = self._texts.get(path)
            if cell is not None:
                self._files[key] = cell_lines(path, cell, text)
                return self._files[key]
            if text is None and path.endswith(_FRAMED_SUFFIXES):
                try:
                    text = read_text(Path(path), None)
                except (OSError, ValueError):
                    text = None
            self._files[key] = python_lines(text) if text else []
        return self._files[key]

    def line(self, path: str, number: int | None, cell: int | None = None) -> str | None:
        lines = self.lines(path, cell)
        if number is None or not 0 < number <= len(lines):
            return None
        return lines[number - 1]
