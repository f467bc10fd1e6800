"""Which files a run checks: paths given, folders walked, exclusions applied."""

from __future__ import annotations

import os
from pathlib import Path

from gradlint.config import Config, is_excluded

CHECKED_SUFFIXES = (".py", ".pyi", ".ipynb", ".onnx")


def discover(
    paths: list[Path], config: Config, force_exclude: bool = False
) -> tuple[list[Path], list[tuple[str, str]]]:
    """Files to check, sorted, and (path, message) pairs for paths that cannot be checked.

    A file named on the command line is checked even when an ``exclude`` glob
    matches it, as ruff does, unless ``force_exclude`` (what a pre-commit hook
    wants: it names every staged file).
    """
    found: list[Path] = []
    problems: list[tuple[str, str]] = []
    seen: set[str] = set()

    def add(candidate: Path) -> None:
        key = os.path.normpath(str(candidate))
        if key not in seen:
            seen.add(key)
            found.append(candidate)

    for given in paths:
        try:
            given.lstat()
        except FileNotFoundError:
            pass
        except OSError as exc:  # a folder above it the user may not search, a name too long
            problems.append((display_path(given), f"cannot read: {(exc.strerror or str(exc)).lower()}"))
            continue
        if _quietly(given.is_dir) and not given.name.endswith(CHECKED_SUFFIXES):
            if force_exclude and is_excluded(given, config):
                continue
            _walk(given, config, add, problems)
        elif _quietly(given.is_dir):
            problems.append((display_path(given), "is a directory, not a file; skipped"))
        elif _quietly(given.exists) or _quietly(given.is_symlink):
            if force_exclude and excluded_with_parents(given, config):
                continue
            add(given)
        else:
            problems.append((display_path(given), "no such file or directory"))
    return found, problems


def _walk(top: Path, config: Config, add, problems: list[tuple[str, str]]) -> None:
    def on_error(exc: OSError) -> None:
        problems.append((display_path(Path(exc.filename or top)), f"cannot read folder: {(exc.strerror or str(exc)).lower()}"))

    for folder, dirnames, filenames in os.walk(top, followlinks=False, onerror=on_error):
        here = Path(folder)
        kept = []
        for name in sorted(dirnames):
            candidate = here / name
            if is_excluded(candidate, config) or _quietly((candidate / "pyvenv.cfg").is_file):
                continue
            if name.endswith(CHECKED_SUFFIXES) and not _quietly(candidate.is_symlink):
                # a folder named like a source file is a mistake worth a line, not a package
                problems.append((display_path(candidate), "is a directory, not a file; skipped"))
                continue
            kept.append(name)
        dirnames[:] = kept
        for name in sorted(filenames):
            if not name.endswith(CHECKED_SUFFIXES):
                continue
            candidate = here / name
            if not is_excluded(candidate, config):
                add(candidate)


def _quietly(predicate) -> bool:
    """A Path predicate, False on a folder the user may list but not search (EACCES)."""
    try:
        return predicate()
    except OSError:
        return False


def excluded_with_parents(path: Path, config: Config) -> bool:
    """Whether the file or a folder between it and the project root is excluded.

    Folders above the root do not count: a project that lives under ``~/build``
    is not excluded as a whole.
    """
    absolute = Path(os.path.abspath(path))  # not resolve(): the file may be a symlink loop
    root = Path(os.path.abspath(config.root))
    try:
        parts = absolute.relative_to(root).parts
        base = root
    except ValueError:
        parts, base = absolute.parts[-1:], absolute.parent
    current = base
    for part in parts:
        current = current / part
        if is_excluded(current, config):
            return True
    return False


def display_path(path: Path) -> str:
    """The path as the user will recognise it: relative to the working folder when below it."""
    if path.is_absolute():
        try:
            return path.relative_to(Path.cwd()).as_posix()
        except ValueError:
            return path.as_posix()
    return os.path.normpath(path).replace(os.sep, "/")
