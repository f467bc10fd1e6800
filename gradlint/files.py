"""Which files a run checks: paths given, folders walked, exclusions (each folder's
configuration's, and git's) applied."""

from __future__ import annotations

import os
from pathlib import Path

from gradlint.config import Config, is_excluded
from gradlint.gitignore import GitIgnore
from gradlint.markdown_code import DOCUMENT_SUFFIXES
from gradlint.resolve import Resolver

CHECKED_SUFFIXES = (".py", ".pyi", ".ipynb", ".onnx")


def discover(
    paths: list[Path], config: Config | Resolver, force_exclude: bool = False,
    documents: list[Path] | None = None,
) -> tuple[list[Path], list[tuple[str, str]]]:
    """Files to check, sorted, and (path, message) pairs for paths that cannot be checked.
    ``documents``, when given, receives the Markdown files of the walked folders (under the
    same exclusions): their Python blocks may build the tree's models, they are not checked.

    A file named on the command line is checked even when an ``exclude`` glob or git
    ignores it, as ruff does, unless ``force_exclude`` (what a pre-commit hook
    wants: it names every staged file).
    """
    resolver = Resolver.of(config)
    gitignore = GitIgnore() if resolver.base.respect_gitignore else None
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
            if force_exclude and excluded_explicitly(given, resolver, gitignore, is_dir=True):
                continue
            _walk(given, resolver, gitignore, add, problems, documents)
        elif _quietly(given.is_dir):
            problems.append((display_path(given), "is a directory, not a file; skipped"))
        elif _quietly(given.exists) or _quietly(given.is_symlink):
            if force_exclude and excluded_explicitly(given, resolver, gitignore):
                continue
            add(given)
        else:
            problems.append((display_path(given), "no such file or directory"))
    return found, problems


def excluded_explicitly(path: Path, resolver: Resolver, gitignore: GitIgnore | None, is_dir: bool = False) -> bool:
    """Whether ``--force-exclude`` leaves out a path named on the command line."""
    if _excluded_with_parents(path, resolver):
        return True
    return gitignore is not None and gitignore.ignored_with_parents(os.path.abspath(path), is_dir)


def _walk(top: Path, resolver: Resolver, gitignore: GitIgnore | None, add, problems: list[tuple[str, str]],
          documents: list[Path] | None = None) -> None:
    def on_error(exc: OSError) -> None:
        problems.append((display_path(Path(exc.filename or top)), f"cannot read folder: {(exc.strerror or str(exc)).lower()}"))

    for folder, dirnames, filenames in os.walk(top, followlinks=False, onerror=on_error):
        here = Path(folder)
        settings = resolver.config_for(here, is_dir=True)
        kept = []
        for name in sorted(dirnames):
            candidate = here / name
            # judged by the folder that holds it, before its own configuration (as in ruff)
            if is_excluded(candidate, settings) or _ignored(gitignore, candidate, True):
                continue
            if _quietly((candidate / "pyvenv.cfg").is_file):
                continue
            if name.endswith(CHECKED_SUFFIXES) and not _quietly(candidate.is_symlink):
                # a folder named like a source file is a mistake worth a line, not a package
                problems.append((display_path(candidate), "is a directory, not a file; skipped"))
                continue
            kept.append(name)
        dirnames[:] = kept
        for name in sorted(filenames):
            document = documents is not None and name.lower().endswith(DOCUMENT_SUFFIXES)
            if not name.endswith(CHECKED_SUFFIXES) and not document:
                continue
            candidate = here / name
            if not is_excluded(candidate, settings) and not _ignored(gitignore, candidate, False):
                if document:
                    documents.append(candidate)
                else:
                    add(candidate)


def _ignored(gitignore: GitIgnore | None, path: Path, is_dir: bool) -> bool:
    return gitignore is not None and gitignore.ignored(os.path.abspath(path), is_dir)


def _quietly(predicate) -> bool:
    """A Path predicate, False on a folder the user may list but not search (EACCES)."""
    try:
        return predicate()
    except OSError:
        return False


def _excluded_with_parents(path: Path, resolver: Resolver) -> bool:
    """Whether the path or a folder it lies in is excluded, each judged, as a walk would
    judge it, by the configuration of the folder that holds it.

    Folders above a configuration's root do not count: a project that lives under
    ``~/build`` is not excluded as a whole.
    """
    current = os.path.abspath(path)  # not resolve(): the file may be a symlink loop
    first = True
    while True:
        parent = os.path.dirname(current)
        config = resolver.config_for(Path(parent), is_dir=True)
        root = os.path.realpath(config.root)
        if not first and os.path.commonpath([os.path.realpath(parent), root]) != root:
            return False
        if is_excluded(Path(current), config):
            return True
        if parent == current:
            return False
        current, first = parent, False


def display_path(path: Path) -> str:
    """The path as the user will recognise it: relative to the working folder when below it."""
    if path.is_absolute():
        try:
            return path.relative_to(Path.cwd()).as_posix()
        except ValueError:
            return path.as_posix()
    return os.path.normpath(path).replace(os.sep, "/")
