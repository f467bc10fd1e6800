"""Classes imported from other files of the same tree, found on disk next to the file being checked.

Only parsed, never imported. ``from .models import Net`` and ``from models import Net`` are looked
up relative to the importing file (and, for absolute names, its parent folders).
"""

from __future__ import annotations

from pathlib import Path

import libcst as cst

from gradlint.files import display_path
from gradlint.reading import read_text
from gradlint.source import SourceFile

MAX_PARENTS = 4
MAX_BYTES = 1_000_000


def imported_class(importer: str, qualified: str, requires=None) -> tuple[SourceFile, str] | None:
    """The file and class name that ``qualified`` (as the import map spells it) refers to;
    only a file whose text ``requires`` accepts is parsed, when it is given."""
    module, _, name = qualified.rpartition(".")
    if not module or not name[:1].isupper():
        return None
    for candidate in _module_files(Path(importer).resolve().parent, module):
        try:
            text = read_text(candidate, MAX_BYTES)
        except (OSError, ValueError):
            continue
        if f"class {name}" not in text or (requires is not None and not requires(text)):
            continue  # decided on the text: most candidates need no parse
        source = _parse(candidate, text)
        if source is not None:
            return source, name
    return None


def _module_files(folder: Path, module: str) -> list[Path]:
    dots = len(module) - len(module.lstrip("."))
    parts = [p for p in module.lstrip(".").split(".") if p]
    if dots:
        bases = (
            [folder.parents[dots - 2] if dots > 1 else folder]
            if dots - 2 < len(folder.parents)
            else []
        )
    else:
        bases = [folder, *list(folder.parents)[:MAX_PARENTS]]
    found = []
    for base in bases:
        stem = base.joinpath(*parts) if parts else base
        for path in (stem.with_suffix(".py"), stem / "__init__.py"):
            if path.is_file():
                found.append(path)
    return found


def _parse(path: Path, text: str) -> SourceFile | None:
    try:
        return SourceFile.parse_shared(display_path(path), text)
    except (ValueError, SyntaxError, RecursionError, MemoryError, cst.ParserSyntaxError):
        return None
