"""Jupyter notebooks as Python source: the code cells joined into one module.

The code cells are joined in order, one line of the module for each line of a cell, so a
model defined in one cell and trained in another is analysed as one file, as the kernel
runs it. IPython's own syntax is masked, as ruff treats it: a line magic (``%matplotlib``),
a shell escape (``!pip install``) and a help request (``model?``) become ``pass`` on their
own line (an assignment from one, ``files = !ls``, keeps its target), so no line moves. A
cell run by a cell magic (``%%bash``, ``%%writefile``) or by an automagic (``pip install``
on the first line) holds no Python and is left out; the few cell magics that run their
cell as Python (``%%time``, ``%%capture``, ...) keep it. Locations in the joined text are
mapped back to (cell, line in cell) by ``CellMap``; cells are numbered from 1 among all
the notebook's cells, markdown ones included, as the notebook shows them.

Imports neither libcst nor the checks: reading a notebook costs a JSON parse.
"""

from __future__ import annotations

import bisect
import json
import re
from dataclasses import dataclass, replace
from pathlib import Path

from gradlint.diagnostics import FileResult, Location
from gradlint.reading import python_lines, read_source_bytes, read_text

SUFFIX = ".ipynb"
# outputs (images, tables) make a notebook's JSON much larger than the code it holds: the
# limit on source (max-file-size) applies to the joined code, and the JSON may be this much larger
OUTPUT_ALLOWANCE = 20

# IPython's automagics that may open a cell without their ``%`` (ruff's list): such a cell
# is shell-like commands, never Python
_AUTOMAGICS = frozenset((
    "alias", "alias_magic", "autoawait", "autocall", "automagic", "bookmark", "cd", "code_wrap",
    "colors", "conda", "config", "debug", "dhist", "dirs", "doctest_mode", "edit", "env", "gui",
    "history", "killbgscripts", "load", "load_ext", "loadpy", "logoff", "logon", "logstart",
    "logstate", "logstop", "lsmagic", "macro", "magic", "mamba", "matplotlib", "micromamba",
    "notebook", "page", "pastebin", "pdb", "pdef", "pdoc", "pfile", "pinfo", "pinfo2", "pip",
    "popd", "pprint", "precision", "prun", "psearch", "psource", "pushd", "pwd", "pycat", "pylab",
    "quickref", "recall", "rehashx", "reload_ext", "rerun", "reset", "reset_selective", "run",
    "save", "sc", "set_env", "sx", "system", "tb", "time", "timeit", "unalias", "unload_ext", "who",
    "who_ls", "whos", "xdel", "xmode",
))
_ASSIGNING = frozenset(("=", "+=", "-=", "*=", "/=", "//=", "%=", "**=", "&=", "|=", "^="))
# cell magics whose cell is Python that runs in the notebook's namespace (ruff's list)
_PYTHON_CELL_MAGICS = frozenset(("capture", "debug", "ipytest", "prun", "pypy", "python", "python3", "time", "timeit"))
_LINE_IN_MESSAGE = re.compile(r"\bline (\d+)\b(?! of )")
_ASSIGNED_MAGIC = re.compile(r"^(\s*[A-Za-z_][\w.]*(?:\s*,\s*[A-Za-z_][\w.]*)*\s*=\s*)[%!]")


class NotANotebook(ValueError):
    """A file named like a notebook that is none; the message is the line to report."""


def is_notebook(path: str | Path) -> bool:
    return str(path).endswith(SUFFIX)


@dataclass(frozen=True)
class Notebook:
    text: str  # the code cells joined, IPython syntax masked
    cells: CellMap


def read_code(path: Path, max_size: int | None) -> tuple[str, CellMap | None]:
    """The Python a file holds, and for a notebook where each cell starts in it; an OSError
    or ValueError whose message is the one line to report."""
    if is_notebook(path):
        notebook = read_notebook(path, max_size)
        return notebook.text, notebook.cells
    return read_text(path, max_size), None


def read_notebook(path: Path, max_size: int | None) -> Notebook:
    """The notebook's code, or an OSError / ValueError whose message is the one line to report."""
    limit = None if max_size is None else max_size * OUTPUT_ALLOWANCE
    notebook = parse_notebook(read_source_bytes(path, limit, "notebook"))
    if max_size is not None and len(notebook.text.encode("utf-8")) > max_size:
        raise ValueError(
            f"the notebook's code is {len(notebook.text) / 1e6:.1f} MB, over the "
            f"{max_size / 1e6:.1f} MB limit (max-file-size); skipped"
        )
    return notebook


def parse_notebook(data: bytes) -> Notebook:
    """The joined code of an nbformat 4 notebook; ValueError with the line to report for
    anything else (bad JSON, JSON that is no notebook, an older format)."""
    if not data.strip():
        raise NotANotebook("empty file: not a Jupyter notebook; skipped")
    try:
        document = json.loads(data.decode("utf-8-sig"))
    except UnicodeDecodeError as exc:
        raise ValueError(f"not a Jupyter notebook: not valid UTF-8 (byte {exc.start}); skipped") from None
    except json.JSONDecodeError as exc:
        raise ValueError(
            f"not a Jupyter notebook: invalid JSON at line {exc.lineno}, column {exc.colno} ({exc.msg}); skipped"
        ) from None
    except RecursionError:
        raise ValueError("not a Jupyter notebook: JSON nested too deeply; skipped") from None
    if not isinstance(document, dict) or "nbformat" not in document:
        raise NotANotebook("not a Jupyter notebook: JSON without 'nbformat' and 'cells'; skipped")
    version = document["nbformat"]
    if not isinstance(version, int) or isinstance(version, bool) or version != 4:
        raise ValueError(f"Jupyter notebook format {version!r} is not supported (nbformat 4 is); skipped")
    cells = document.get("cells")
    if not isinstance(cells, list):
        raise NotANotebook("not a Jupyter notebook: no 'cells' list; skipped")
    if not _is_python(document.get("metadata")):
        return Notebook("", CellMap(()))
    return join_cells([(number, _code_of(cell, number)) for number, cell in enumerate(cells, 1)])


def join_cells(cells: list[tuple[int, str | None]]) -> Notebook:
    """The module of a notebook's code cells, given as (cell number, source; None for a cell
    that is not Python code) in order: a cell run by a cell magic that is not Python, or by
    an automagic, is left out, and IPython's syntax is masked."""
    lines: list[str] = []
    starts: list[tuple[int, int]] = []
    for number, code in cells:
        if code is None:
            continue
        cell_lines = python_lines(code)
        if _runs_something_else(cell_lines):
            continue
        starts.append((len(lines) + 1, number))
        lines.extend(mask_ipython(cell_lines))
    return Notebook("\n".join(lines) + "\n" if lines else "", CellMap(tuple(starts)))


def _is_python(metadata: object) -> bool:
    """Whether the notebook's kernel runs Python (an R or Julia notebook holds no Python);
    a notebook that does not say is taken for Python."""
    if not isinstance(metadata, dict):
        return True
    for key, field in (("language_info", "name"), ("kernelspec", "language")):
        info = metadata.get(key)
        if isinstance(info, dict) and isinstance(info.get(field), str):
            return info[field].lower() in ("python", "python3", "ipython", "ipython3")
    return True


def _code_of(cell: object, number: int) -> str | None:
    """The source of a code cell that holds Python; None for any other cell."""
    if not isinstance(cell, dict) or not isinstance(cell.get("cell_type"), str):
        raise NotANotebook(f"not a Jupyter notebook: cell {number} has no 'cell_type'; skipped")
    source = cell.get("source", "")
    if isinstance(source, list) and all(isinstance(part, str) for part in source):
        source = "".join(source)
    if not isinstance(source, str):
        raise NotANotebook(f"not a Jupyter notebook: the source of cell {number} is not text; skipped")
    if cell["cell_type"] != "code":
        return None
    metadata = cell.get("metadata")
    vscode = metadata.get("vscode") if isinstance(metadata, dict) else None
    if isinstance(vscode, dict) and vscode.get("languageId", "python") != "python":
        return None  # a cell VS Code runs as another language
    return source


def _runs_something_else(lines: list[str]) -> bool:
    """A cell of shell-like automagic commands, or run by a cell magic that is not Python."""
    words = lines[0].split() if lines else []
    if words and words[0] in _AUTOMAGICS and (len(words) < 2 or words[1] not in _ASSIGNING):
        return True
    for line in lines:
        first = line.split(maxsplit=1)[0] if line.strip() else ""
        if first.startswith("%%") and len(first) > 2 and first[2:] not in _PYTHON_CELL_MAGICS:
            return True
    return False


def mask_ipython(lines: list[str]) -> list[str]:
    """``lines`` with each line of IPython syntax made plain Python of the same line count.

    Only a line that starts a statement can be a magic: one inside brackets, a string or a
    backslash continuation is Python (``% b`` continuing ``(a``)."""
    masked: list[str] = []
    depth, quote, continued, in_magic = 0, None, False, False
    for line in lines:
        if in_magic:  # a magic continued with a backslash
            masked.append("")
            in_magic = line.rstrip().endswith("\\")
            continue
        if depth == 0 and quote is None and not continued:
            replacement = _masked(line)
            if replacement is not None:
                masked.append(replacement)
                in_magic = line.rstrip().endswith("\\")
                continue
        masked.append(line)
        depth, quote, continued = _scan(line, depth, quote)
    return masked


def _masked(line: str) -> str | None:
    stripped = line.lstrip()
    indent = line[: len(line) - len(stripped)]
    if stripped.startswith(("%", "!", "?")):
        return indent + "pass"
    assigned = _ASSIGNED_MAGIC.match(line)
    if assigned:
        return assigned.group(1) + "None"
    code = stripped.split("#", 1)[0].rstrip()
    if code.endswith("?") and "'" not in code and '"' not in code:
        return indent + "pass"  # ``model?`` asks for help
    return None


def _scan(line: str, depth: int, quote: str | None) -> tuple[int, str | None, bool]:
    """The bracket depth, the open triple quote and whether a backslash continues the line,
    after ``line``."""
    i, n = 0, len(line)
    while i < n:
        char = line[i]
        if quote is not None:
            if char == "\\":
                i += 2
                continue
            if line.startswith(quote, i):
                i += 3
                quote = None
                continue
            i += 1
            continue
        if char == "#":
            return depth, None, False
        if char in "([{":
            depth += 1
        elif char in ")]}":
            depth = max(0, depth - 1)
        elif char in "'\"":
            if line.startswith(char * 3, i):
                quote = char * 3
                i += 3
                continue
            i += 1
            while i < n and line[i] != char:
                i += 2 if line[i] == "\\" else 1
        i += 1
    return depth, quote, quote is None and line.endswith("\\")


@dataclass(frozen=True)
class CellMap:
    """Where each code cell starts in the joined text: (first line, cell number), in order."""

    starts: tuple[tuple[int, int], ...]

    def where(self, line: int) -> tuple[int, int]:
        """(cell number, line in that cell) of a line of the joined text."""
        at = bisect.bisect_right(self.starts, (line, float("inf"))) - 1
        if at < 0:
            return (self.starts[0][1] if self.starts else 1), line
        first, number = self.starts[at]
        return number, line - first + 1

    def position(self, line: int, column: int | None = None) -> str:
        """``cell 3:4:8`` (or ``cell 3:4``) for a line and column of the joined text."""
        cell, row = self.where(line)
        return f"cell {cell}:{row}" + (f":{column}" if column is not None else "")

    def location(self, location: Location) -> Location:
        if location.line is None or location.cell is not None:
            return location
        cell, line = self.where(location.line)
        end_line, end_column = location.end_line, location.end_column
        if end_line is not None:
            end_cell, end_line = self.where(end_line)
            if end_cell != cell:  # joined text spans cells only when a cell does not end its statement
                end_line, end_column = None, None
        return replace(location, line=line, end_line=end_line, end_column=end_column, cell=cell)

    def message(self, text: str) -> str:
        """A message's ``line 12`` (of the joined text) as ``line 5 of cell 3``; a line of
        another file (``line 12 of model.py``) stays."""

        def cell_line(match: re.Match) -> str:
            cell, line = self.where(int(match.group(1)))
            return f"line {line} of cell {cell}"

        return _LINE_IN_MESSAGE.sub(cell_line, text) if "line " in text else text

    def extra(self, extra: dict) -> dict:
        """Extra data's ``*_line`` numbers as cell lines, each with its ``*_cell``, and the
        lines of its ``*_span`` lists."""
        mapped = dict(extra)
        for key, value in extra.items():
            if key.endswith("_line") and isinstance(value, int) and not isinstance(value, bool):
                mapped[key[: -len("line")] + "cell"], mapped[key] = self.where(value)
            elif key.endswith("_span") and isinstance(value, list) and len(value) == 4 and all(
                isinstance(v, int) for v in value
            ):  # [line, column, end line, end column], as cell lines
                mapped[key] = [self.where(value[0])[1], value[1], self.where(value[2])[1], value[3]]
        return mapped

    def relocate(self, result: FileResult) -> None:
        """Turn the joined text's lines of ``result`` into cell lines, in place."""
        # a fix edits the joined text, which is not the file: notebooks are reported, not fixed
        result.findings = [
            replace(f, message=self.message(f.message), location=self.location(f.location), fix=None,
                    extra=self.extra(f.extra))
            for f in result.findings
        ]
        for model in result.models:
            if model.line is not None and "cell" not in model.extra:
                model.extra["cell"], model.line = self.where(model.line)


def cell_lines(path: str | Path, cell: int, text: str | None = None) -> list[str]:
    """The lines of one cell of the notebook at ``path`` (whose JSON is ``text`` when given,
    as for standard input), as written, for reports that show source; empty when it cannot
    be read as a notebook any more."""
    try:
        document = json.loads(Path(path).read_bytes().decode("utf-8-sig") if text is None else text)
        source = document["cells"][cell - 1]["source"]
        return python_lines("".join(source) if isinstance(source, list) else source)
    except (OSError, ValueError, RecursionError, LookupError, TypeError):
        return []
