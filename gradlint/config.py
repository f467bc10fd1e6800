"""``[tool.gradlint]`` discovery and rule selection by code prefix."""

from __future__ import annotations

import fnmatch
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

from gradlint.bounded import NotRegularFile, read_bytes
from gradlint.rule import Rule, all_rules, rule_by_code_or_name

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

KNOWN_KEYS = {
    "select",
    "ignore",
    "extend-select",
    "extend-ignore",
    "per-file-ignores",
    "exclude",
    "extend-exclude",
    "options",
    "max-file-size",
    "onnx-init-checks",
    "onnx-ignore-nodes",
    "cache-dir",
    "jobs",
    "probe",
}


class ConfigError(Exception):
    """A configuration or selection the user has to correct (exit code 2)."""


@dataclass
class Config:
    select: list[str] | None = None  # None: the default rules, every rule but the opt-in ones
    ignore: list[str] = field(default_factory=list)
    extend_select: list[str] = field(default_factory=list)
    per_file_ignores: dict[str, list[str]] = field(default_factory=dict)
    exclude: list[str] = field(default_factory=list)
    options: dict[str, dict[str, Any]] = field(default_factory=dict)
    max_file_size: int = 5_000_000
    onnx_init_checks: bool = True
    onnx_ignore_nodes: list[str] = field(default_factory=list)
    cache_dir: str | None = None
    jobs: int | None = None
    probe: dict[str, Any] = field(default_factory=dict)
    root: Path = field(default_factory=Path.cwd)  # folder of the config file, or cwd
    source: Path | None = None  # the file it came from

    def fingerprint(self) -> str:
        """A stable string of everything that changes what a check reports."""
        return repr(
            (
                None if self.select is None else sorted(self.select),
                sorted(self.ignore),
                sorted(self.extend_select),
                sorted((k, tuple(v)) for k, v in self.per_file_ignores.items()),
                sorted((k, sorted(v.items())) for k, v in self.options.items()),
                self.max_file_size,
                self.onnx_init_checks,
                sorted(self.onnx_ignore_nodes),
            )
        )


def find_config_file(start: Path | list[Path]) -> Path | None:
    """The nearest pyproject.toml at or above ``start`` that has a [tool.gradlint] table.

    Given several paths (pre-commit passes every staged file), the search starts
    at the folder they all share.
    """
    starts = [_real(p) for p in (start if isinstance(start, list) else [start])] or [Path.cwd()]
    folders = [p if p.is_dir() else p.parent for p in starts]
    try:
        folder = Path(os.path.commonpath(folders))
    except ValueError:  # different drives
        folder = folders[0]
    for candidate in [folder, *folder.parents]:
        pyproject = candidate / "pyproject.toml"
        if pyproject.is_file():
            try:
                text = _read_config_text(pyproject)
            except (OSError, UnicodeDecodeError):
                continue
            try:
                data = tomllib.loads(text)
            except tomllib.TOMLDecodeError:
                # ours, but broken: loading it says what is wrong (exit 2) instead of ignoring it
                if "tool.gradlint" in text:
                    return pyproject
                continue
            if "gradlint" in data.get("tool", {}):
                return pyproject
    return None


MAX_CONFIG_SIZE = 1024 * 1024


def _read_config_text(path: Path) -> str:
    """A configuration file's text: a regular file of at most a MiB (never a pipe or a device)."""
    return read_bytes(path, MAX_CONFIG_SIZE).decode("utf-8")


def load_config(path: Path | None) -> Config:
    if path is None:
        return Config()
    try:
        data = tomllib.loads(_read_config_text(path))
    except FileNotFoundError:
        raise ConfigError(f"config file not found: {path}") from None
    except NotRegularFile as exc:
        raise ConfigError(f"cannot read config file: {exc}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read config file {path}: {exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: invalid TOML: {exc}") from None
    if path.name == "pyproject.toml":
        table = data.get("tool", {}).get("gradlint", {})
    else:  # a dedicated gradlint.toml / .gradlint.toml
        table = data.get("tool", {}).get("gradlint", data)
    return config_from_table(table, path)


def _str_list(table: dict[str, Any], key: str, where: Path) -> list[str]:
    value = table.get(key, [])
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"{where}: '{key}' must be a list of strings")
    return value


def _code_list(table: dict[str, Any], key: str, where: Path) -> list[str]:
    return [_selector(v) for v in _str_list(table, key, where)]


def _selector(value: str) -> str:
    value = value.strip()
    return "ALL" if value.upper() == "ALL" else value.upper()


def _check_option_types(rule: type[Rule], values: dict[str, Any], where: Path) -> None:
    """A value must have its default's type (an int where a float is expected is fine)."""
    for key, value in values.items():
        default = rule.options[key]
        if default is None:
            continue
        expected = (int, float) if isinstance(default, float) else type(default)
        wrong = not isinstance(value, expected) or (isinstance(value, bool) and not isinstance(default, bool))
        if wrong:
            raise ConfigError(
                f"{where}: options.{rule.code}.{key} must be {type(default).__name__}, got {value!r}"
            )


def config_from_table(table: dict[str, Any], path: Path) -> Config:
    unknown = set(table) - KNOWN_KEYS
    if unknown:
        raise ConfigError(f"{path}: unknown key(s) in [tool.gradlint]: {', '.join(sorted(unknown))}")
    config = Config(root=path.parent.resolve(), source=path)
    if "select" in table:
        config.select = _code_list(table, "select", path)
    config.ignore = _code_list(table, "ignore", path) + _code_list(table, "extend-ignore", path)
    config.extend_select = _code_list(table, "extend-select", path)
    config.exclude = _str_list(table, "exclude", path) + _str_list(table, "extend-exclude", path)
    config.onnx_ignore_nodes = _str_list(table, "onnx-ignore-nodes", path)
    pfi = table.get("per-file-ignores", {})
    if not isinstance(pfi, dict):
        raise ConfigError(f"{path}: 'per-file-ignores' must be a table of glob = [codes]")
    for pattern, codes in pfi.items():
        if isinstance(codes, str):
            codes = [codes]
        if not isinstance(codes, list) or not all(isinstance(c, str) for c in codes):
            raise ConfigError(f"{path}: per-file-ignores[{pattern!r}] must be a list of codes")
        config.per_file_ignores[pattern] = [_selector(c) for c in codes]
    options = table.get("options", {})
    if not isinstance(options, dict):
        raise ConfigError(f"{path}: 'options' must be a table of rule tables")
    for key, values in options.items():
        rule = rule_by_code_or_name(key)
        if rule is None:
            raise ConfigError(f"{path}: options for unknown rule {key!r}")
        if not isinstance(values, dict):
            raise ConfigError(f"{path}: options.{key} must be a table")
        bad = set(values) - set(rule.options)
        if bad:
            known = ", ".join(sorted(rule.options)) or "none"
            raise ConfigError(
                f"{path}: {rule.code} ({rule.name}) has no option {', '.join(sorted(bad))} (known: {known})"
            )
        _check_option_types(rule, values, path)
        config.options.setdefault(rule.code, {}).update(values)
    if "max-file-size" in table:
        if not isinstance(table["max-file-size"], int) or table["max-file-size"] <= 0:
            raise ConfigError(f"{path}: 'max-file-size' must be a positive integer (bytes)")
        config.max_file_size = table["max-file-size"]
    if "onnx-init-checks" in table:
        value = table["onnx-init-checks"]
        if not isinstance(value, bool):
            raise ConfigError(f"{path}: 'onnx-init-checks' must be true or false")
        config.onnx_init_checks = value
    if "cache-dir" in table:
        if not isinstance(table["cache-dir"], str) or not table["cache-dir"]:
            raise ConfigError(f"{path}: 'cache-dir' must be a path")
        config.cache_dir = _cache_dir_inside(config.root, table["cache-dir"], path)
    if "jobs" in table:
        jobs = table["jobs"]
        if not isinstance(jobs, int) or isinstance(jobs, bool) or jobs < 1:
            raise ConfigError(f"{path}: 'jobs' must be a positive integer")
        config.jobs = jobs
    probe = table.get("probe", {})
    if not isinstance(probe, dict):
        raise ConfigError(f"{path}: [tool.gradlint.probe] must be a table")
    config.probe = probe
    for code in (config.select or []) + config.ignore + config.extend_select:
        validate_selector(code, str(path))
    for codes in config.per_file_ignores.values():
        for code in codes:
            validate_selector(code, str(path))
    return config


def _cache_dir_inside(root: Path, value: str, where: Path) -> str:
    """The configured cache folder, which must be a folder of its own below the project root.

    A configuration arrives with every cloned repository: one that could point the cache
    at ``..`` would have ``gradlint clean`` working on someone else's files. A folder
    elsewhere can still be named on the command line (``--cache-dir``).
    """
    folder = os.path.normpath(os.path.join(root, value))
    real_root = os.path.realpath(root)
    inside = (
        os.path.commonpath([folder, str(root)]) == str(root)
        and os.path.commonpath([os.path.realpath(folder), real_root]) == real_root
    )
    if not inside or os.path.realpath(folder) == real_root:
        raise ConfigError(
            f"{where}: 'cache-dir' must name a folder below the project root {root}, got {value!r} "
            "(a folder elsewhere can be given with --cache-dir)"
        )
    return folder


def validate_selector(selector: str, where: str = "command line") -> None:
    if selector == "ALL":
        return
    if not any(cls.code.startswith(selector) for cls in all_rules()):
        raise ConfigError(f"{where}: unknown rule code or prefix {selector!r}")


def _matches(code: str, selectors: list[str]) -> int:
    """Length of the most specific selector matching ``code`` (-1 when none does)."""
    best = -1
    for selector in selectors:
        if selector == "ALL":
            best = max(best, 0)
        elif code.startswith(selector):
            best = max(best, len(selector))
    return best


def enabled_rules(config: Config) -> list[Rule]:
    """Instantiate the selected rules with their options.

    As in ruff, the more specific selector wins: ``select = ["GL1"]`` with
    ``ignore = ["GL101"]`` keeps GL1 but GL101. ``ALL`` means every rule; without a
    ``select``, the default rules run, as broad as ``ALL`` but without the opt-in ones
    (``default_enabled = False``), which a selector turns on by their code or a prefix.
    """
    chosen = []
    for cls in all_rules():
        if config.select is None:
            by_select = 0 if cls.default_enabled else -1
        else:
            by_select = _matches(cls.code, config.select)
        selected = max(by_select, _matches(cls.code, config.extend_select))
        ignored = _matches(cls.code, config.ignore)
        if selected < 0 or ignored >= selected:
            continue
        try:
            chosen.append(cls(config.options.get(cls.code)))
        except ValueError as exc:
            raise ConfigError(str(exc)) from None
    return chosen


def is_excluded(path: Path, config: Config, root: Path | None = None) -> bool:
    """True when a path matches a default exclusion or a configured ``exclude`` glob."""
    if any(fnmatch.fnmatch(path.name, pattern) for pattern in DEFAULT_EXCLUDE):
        return True
    if not config.exclude:
        return False
    rel = _relative(path, root or config.root)
    for pattern in config.exclude:
        if fnmatch.fnmatch(rel, pattern) or fnmatch.fnmatch(path.name, pattern):
            return True
        if fnmatch.fnmatch(rel, pattern.rstrip("/") + "/*"):
            return True
    return False


def ignored_for_file(path: str, config: Config) -> list[str]:
    rel = _relative(Path(path), config.root)
    codes: list[str] = []
    for pattern, pattern_codes in config.per_file_ignores.items():
        if fnmatch.fnmatch(rel, pattern) or fnmatch.fnmatch(Path(path).name, pattern):
            codes.extend(pattern_codes)
    return codes


def _relative(path: Path, root: Path) -> str:
    try:
        return PurePosixPath(_real(path).relative_to(_real(root))).as_posix()
    except ValueError:
        return PurePosixPath(path).as_posix()


def _real(path: Path) -> Path:
    """``path`` without links, as far as they go: unlike ``Path.resolve`` before Python 3.13,
    a symlink loop is left as it is rather than raised."""
    return Path(os.path.realpath(path))
