"""Which files a run checks: paths given, folders walked, exclusions applied."""

from __future__ import annotations

import os
from pathlib import Path

from gradlint.config import Config, is_excluded

CHECKED_SUFFIXES = (".py", ".pyi", ".onnx")


def discover(paths: list[Path], config: Config) -> tuple[list[Path], list[tuple[str, str]]]:
    """Files to check, sorted, and (path, message) pairs for paths that do not exist.

    A file named on the command line is checked even when an ``exclude`` glob
    matches it only through its folder, as ruff does without --force-exclude.
    """
    found: list[Path] = []
    missing: list[tuple[str, str]] = []
    seen: set[str] = set()
    for given in paths:
        if given.is_dir():
            for folder, dirnames, filenames in os.walk(given, followlinks=False):
                here = Path(folder)
                dirnames[:] = sorted(
                    d for d in dirnames if not is_excluded(here / d, config)
                )
                for name in sorted(filenames):
                    if not name.endswith(CHECKED_SUFFIXES):
                        continue
                    candidate = here / name
                    if is_excluded(candidate, config):
                        continue
                    key = os.path.normpath(str(candidate))
                    if key not in seen:
                        seen.add(key)
                        found.append(candidate)
        elif given.exists() or given.is_symlink():
            key = os.path.normpath(str(given))
            if key not in seen:
                seen.add(key)
                found.append(given)
        else:
            missing.append((str(given), "no such file or directory"))
    return found, missing


def display_path(path: Path) -> str:
    """The path as the user will recognise it: relative to the working folder when below it."""
    if path.is_absolute():
        try:
            return path.relative_to(Path.cwd()).as_posix()
        except ValueError:
            return path.as_posix()
    return os.path.normpath(path).replace(os.sep, "/")
