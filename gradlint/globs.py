"""Which paths the globs of a configuration match: ``exclude``, ``per-file-ignores``."""

from __future__ import annotations

import fnmatch
import glob
import os
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from gradlint.config import Config

DEFAULT_EXCLUDE = (
    ".bzr",
    ".direnv",
    ".eggs",
    ".git",
    ".hg",
    ".svn",
    ".tox",
    ".nox",
    ".venv",
    "venv",
    ".ipynb_checkpoints",
    "__pycache__",
    "__pypackages__",
    ".mypy_cache",
    ".pytest_cache",
    ".ruff_cache",
    ".gradlint_cache",
    "_build",
    "buck-out",
    "build",
    "dist",
    "site-packages",
    "node_modules",
    "*.egg-info",
)


def anchored(pattern: str, root: Path) -> str:
    """A glob relative to ``root`` made absolute; one without a slash matches a name anywhere."""
    if "/" not in pattern or os.path.isabs(pattern):
        return pattern
    return glob.escape(real_path(root).as_posix()) + "/" + pattern


def is_excluded(path: Path, config: Config, root: Path | None = None) -> bool:
    """True when a path matches a default exclusion or a configured ``exclude`` glob."""
    if any(fnmatch.fnmatch(path.name, pattern) for pattern in DEFAULT_EXCLUDE):
        return True
    for pattern in config.exclude + config.extend_exclude:
        if _glob_matches(path, pattern, root or config.root):
            return True
    return False


def ignored_for_file(path: str, config: Config) -> list[str]:
    codes: list[str] = []
    for pattern, pattern_codes in config.per_file_ignores.items():
        if _glob_matches(Path(path), pattern, config.root, folder=False):
            codes.extend(pattern_codes)
    return codes


def _glob_matches(path: Path, pattern: str, root: Path, folder: bool = True) -> bool:
    """A glob against the path relative to ``root`` (an absolute one: against the real
    path), and against the file's name."""
    subject = real_path(path).as_posix() if os.path.isabs(pattern) else _relative(path, root)
    if fnmatch.fnmatch(subject, pattern) or fnmatch.fnmatch(path.name, pattern):
        return True
    # "legacy/" names the folder itself (a walk skips it whole) and what lies in it
    return folder and any(fnmatch.fnmatch(subject, p) for p in (pattern.rstrip("/"), pattern.rstrip("/") + "/*"))


def _relative(path: Path, root: Path) -> str:
    try:
        return PurePosixPath(real_path(path).relative_to(real_path(root))).as_posix()
    except ValueError:
        return PurePosixPath(path).as_posix()


def real_path(path: Path) -> Path:
    """``path`` without links, as far as they go: unlike ``Path.resolve`` before Python 3.13,
    a symlink loop is left as it is rather than raised."""
    return Path(os.path.realpath(path))
