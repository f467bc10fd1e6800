"""Checking files on all cores.

Workers are forked after the rules and the cross-file index exist, so they
share them copy-on-write instead of rebuilding them; results come back in the
order of the file list whatever the scheduling.
"""

from __future__ import annotations

import multiprocessing
import sys
from pathlib import Path
from typing import Iterator

from gradlint.diagnostics import FileError, FileResult

_STATE: dict = {}


def _check_one(path: Path) -> FileResult:
    from gradlint.engine import check_path

    return check_path(path, _STATE["checker"], _STATE["project"])


def parallel_map(files: list[Path], checker, project, workers: int) -> Iterator[FileResult]:
    if sys.platform == "win32" or "fork" not in multiprocessing.get_all_start_methods():
        from gradlint.engine import check_path

        for path in files:
            yield check_path(path, checker, project)
        return
    _STATE["checker"] = checker
    _STATE["project"] = project
    context = multiprocessing.get_context("fork")
    chunk = max(1, min(16, len(files) // (workers * 8) or 1))
    try:
        with context.Pool(workers) as pool:
            yield from pool.imap(_check_one, files, chunksize=chunk)
    except Exception as exc:  # a worker died (e.g. killed for memory): say so, do not hide files
        yield FileResult("<workers>", errors=[FileError("<workers>", f"a worker process failed: {exc}")])
    finally:
        _STATE.clear()
