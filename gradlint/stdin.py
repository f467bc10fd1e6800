"""``gradlint check -``: source read from standard input, as an editor or a formatter pipe
hands it over. With ``--stdin-filename PATH`` it is checked as the file at ``PATH`` would
be: PATH's configuration, PATH's exclusions (with ``--force-exclude``), imports resolved
from PATH's folder, findings reported at PATH. Nothing is cached and nothing is written."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import BinaryIO

from gradlint.check_file import check_python
from gradlint.diagnostics import FileError, FileResult, Finding, RunResult
from gradlint.files import display_path, excluded_explicitly
from gradlint.gitignore import GitIgnore
from gradlint.project_index import LazyProject
from gradlint.reading import decode_source
from gradlint.resolve import Resolver

STDIN_NAME = "-"


def check_stdin(
    filename: Path | None, resolver: Resolver, force_exclude: bool = False, filters: bool = True,
    stream: BinaryIO | None = None,
) -> RunResult:
    from gradlint.engine import Checker

    outcome = RunResult()
    if filename is not None and force_exclude:
        gitignore = GitIgnore() if resolver.base.respect_gitignore else None
        if excluded_explicitly(filename, resolver, gitignore):
            return outcome
    config = resolver.config_for(filename, is_dir=False) if filename is not None else resolver.base
    shown = display_path(filename) if filename is not None else STDIN_NAME
    path = filename if filename is not None else Path(STDIN_NAME)
    outcome.files_checked = 1
    result = _check(path, shown, Checker(config, filters=filters), stream or sys.stdin.buffer)
    outcome.findings.extend(result.findings)
    outcome.errors.extend(result.errors)
    outcome.models.extend(result.models)
    outcome.findings.sort(key=Finding.sort_key)
    return outcome


def _check(path: Path, shown: str, checker, stream: BinaryIO) -> FileResult:
    limit = checker.config.max_file_size
    try:
        data = stream.read(limit + 1)
    except OSError as exc:
        return FileResult(shown, errors=[FileError(shown, f"cannot read standard input: {exc.strerror or exc}")])
    if len(data) > limit:
        message = f"standard input is over the {limit / 1e6:.1f} MB limit (max-file-size); skipped"
        return FileResult(shown, errors=[FileError(shown, message)])
    if path.suffix == ".onnx":
        return FileResult(shown, errors=[FileError(shown, "standard input is read as Python source, not ONNX")])
    try:
        text = decode_source(data)
    except ValueError as exc:
        return FileResult(shown, errors=[FileError(shown, str(exc))])
    # the same context as `gradlint check PATH`: the file alone, its imports found beside it
    project = LazyProject([path]) if path.name != STDIN_NAME else None
    try:
        return check_python(path, shown, checker, project, text=text)
    except Exception as exc:  # noqa: BLE001 - a bug of ours must not end in a traceback
        return FileResult(shown, errors=[FileError(shown, f"internal error: {type(exc).__name__}: {exc}")])
