"""Checking the text an editor holds, saved or not, as ``gradlint check`` checks the file.

The language server (``gradlint.server``) asks this module, and only for plain data: the
project's configuration for the document's path, the tree around it for imports, the same
pipeline as the command line, and nothing written anywhere (no cache). Imports no pygls,
so that it can be tested without it.
"""

from __future__ import annotations

import copy
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from gradlint.config import Config
from gradlint.diagnostics import FileError, FileResult
from gradlint.files import discover, display_path, excluded_explicitly
from gradlint.gitignore import GitIgnore
from gradlint.notebooks import CellMap
from gradlint.resolve import Resolver
from gradlint.suppression import NOQA


@dataclass
class Workspace:
    """What the server keeps between checks: the files of each project root (for imports),
    found once and again when a saved file is new to them."""

    folders: list[Path] = field(default_factory=list)  # the editor's workspace folders
    _files: dict[Path, list[Path]] = field(default_factory=dict)

    def config_for(self, path: Path, resolver: Resolver | None = None) -> Config:
        """The configuration ``gradlint check`` would use for the file at ``path`` (ConfigError
        if it is bad); without one, the workspace folder holding the file is the project root."""
        config = (resolver or Resolver()).config_for(path, is_dir=False)
        if config.source is None:
            config = copy.copy(config)
            config.root = self._folder_of(path)
        return config

    def _folder_of(self, path: Path) -> Path:
        absolute = Path(os.path.abspath(path))
        holding = [f for f in self.folders if absolute.is_relative_to(Path(os.path.abspath(f)))]
        return max(holding, key=lambda f: len(str(f))) if holding else absolute.parent

    def files(self, config: Config, refresh_for: Path | None = None, resolver: Resolver | None = None) -> list[Path]:
        """The files a check of the project root would find (for imports), found once."""
        root = config.root
        known = self._files.get(root)
        if known is None or (refresh_for is not None and refresh_for not in known):
            known, _ = discover([root], resolver or Resolver())
            self._files[root] = known = [Path(os.path.abspath(p)) for p in known]
        return known


def check_buffer(path: Path, text: str, workspace: Workspace, cells: CellMap | None = None) -> FileResult:
    """The findings and errors of ``text`` as the content of the Python file at ``path`` (or
    the joined code cells of the notebook there, ``cells`` saying where each starts); a file
    the configuration excludes gets none. ``ConfigError`` for a bad configuration."""
    from gradlint.check_file import check_python
    from gradlint.engine import Checker, indexable
    from gradlint.project_index import LazyProject
    from gradlint.reading import collector_spared

    path = Path(os.path.abspath(path))
    resolver = Resolver()  # read afresh: the configuration files may have been edited
    config = workspace.config_for(path, resolver)
    shown = display_path(path)
    if excluded_explicitly(path, resolver, GitIgnore() if config.respect_gitignore else None):
        return FileResult(shown)
    files = workspace.files(config, resolver=resolver)
    if path not in files:
        files = [*files, path]
    checker = Checker(config)
    try:
        with collector_spared():
            return check_python(path, shown, checker, LazyProject(indexable(files, config.max_file_size)), text, cells)
    except Exception as exc:  # noqa: BLE001 - a bug of ours must not end the session
        return FileResult(shown, errors=[FileError(shown, f"internal error: {type(exc).__name__}: {exc}")])


def noqa_edit(line: str, code: str) -> tuple[int, str] | None:
    """Where in ``line`` (a 0-based column) to insert what, so that the line suppresses
    ``code``: a new ``  # noqa: CODE`` at its end, or the code added to the line's
    ``# noqa: ...`` list; None when the line suppresses it already."""
    match = NOQA.search(line)
    if match is None:
        return len(line.rstrip()), "  # noqa: " + code
    codes = match.group("codes")
    if codes is None:
        return None  # a bare noqa suppresses every code
    if any(code.startswith(c.strip().upper()) for c in re.split(r"[\s,]+", codes) if c):
        return None
    return match.end("codes"), ", " + code
