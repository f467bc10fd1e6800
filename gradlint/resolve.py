"""Which configuration applies to each checked file, decided as ruff decides it.

Each file takes the nearest configuration file among its folders (``config.config_file_in``:
``.gradlint.toml``, ``gradlint.toml``, then a ``pyproject.toml`` with ``[tool.gradlint]``);
a file with none above it takes the one nearest the current folder, or the defaults.
Configurations are not merged with the ones above them, only with what they ``extend``.
``--config`` gives every file one configuration and ``--isolated`` the defaults. The
command line's selection and settings apply over each of them.
"""

from __future__ import annotations

import copy
import os
from collections.abc import Callable
from pathlib import Path

from gradlint.config import Config, config_file_in, find_config_file, load_config

Override = Callable[[Config], None]


class Resolver:
    """The configuration of each path of a run, each file read once."""

    def __init__(
        self,
        config_path: Path | None = None,
        isolated: bool = False,
        override: Override | None = None,
        fixed: Config | None = None,
    ) -> None:
        self.override = override
        self._by_file: dict[str, Config] = {}
        self._by_folder: dict[str, Config] = {}
        self.hierarchical = fixed is None and not isolated and config_path is None
        if fixed is not None:
            self.base = fixed
        elif isolated:
            self.base = self._overridden(Config())
        elif config_path is not None:
            self.base = self._load(config_path)
        else:
            found = find_config_file(Path.cwd())
            self.base = self._load(_as_given(found)) if found is not None else self._overridden(Config())

    @classmethod
    def of(cls, config: Config | Resolver) -> Resolver:
        """A resolver that gives every file ``config`` (a resolver stays as it is)."""
        return config if isinstance(config, Resolver) else cls(fixed=config)

    def _overridden(self, config: Config) -> Config:
        if self.override is not None:
            config = copy.deepcopy(config)
            self.override(config)
        return config

    def _load(self, path: Path) -> Config:
        key = os.path.abspath(path)
        if key not in self._by_file:
            self._by_file[key] = self._overridden(load_config(path))
        return self._by_file[key]

    def config_for(self, path: Path, is_dir: bool | None = None) -> Config:
        """The configuration of a file, or of a folder and what it holds."""
        if not self.hierarchical:
            return self.base
        absolute = os.path.abspath(path)
        if is_dir is None:
            is_dir = os.path.isdir(absolute)
        return self._of_folder(absolute if is_dir else os.path.dirname(absolute))

    def _of_folder(self, folder: str) -> Config:
        passed = []
        current = folder
        while True:
            found = self._by_folder.get(current)
            if found is not None:
                break
            passed.append(current)
            config_file = config_file_in(Path(current))
            if config_file is not None:
                found = self._load(_as_given(config_file))
                break
            parent = os.path.dirname(current)
            if parent == current:
                found = self.base
                break
            current = parent
        for each in passed:
            self._by_folder[each] = found
        return found


def _as_given(path: Path) -> Path:
    """An absolute path below the current folder made relative to it, as a user names it."""
    try:
        return path.relative_to(Path.cwd())
    except ValueError:
        return path
