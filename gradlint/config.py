"""``[tool.gradlint]``: finding a configuration file, reading it (with ``extend``), and rule
selection by code prefix. Which file applies to which checked file is ``gradlint.resolve``."""

from __future__ import annotations

import copy
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

from gradlint.bounded import NotRegularFile, read_bytes
from gradlint.globs import DEFAULT_EXCLUDE, anchored, ignored_for_file, is_excluded, real_path
from gradlint.rule import Rule, all_rules, rule_by_code_or_name
from gradlint.rule_options import option_problem

__all__ = ["DEFAULT_EXCLUDE", "Config", "ConfigError", "ignored_for_file", "is_excluded", "load_config"]

FIX_KEYS = ("fixable", "unfixable", "extend-safe-fixes", "extend-unsafe-fixes")
KNOWN_KEYS = {
    "extend",
    "respect-gitignore",
    "extend-per-file-ignores",
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
    *FIX_KEYS,
}


class ConfigError(Exception):
    """A configuration or selection the user has to correct (exit code 2)."""


@dataclass
class Config:
    select: list[str] | None = None  # None: the default rules, every rule but the opt-in ones
    ignore: list[str] = field(default_factory=list)
    extend_select: list[str] = field(default_factory=list)
    # the (ignore, extend-select) of later stages without a select of their own: an extending
    # file's, the command line's, applied in order over the selection above (as in ruff)
    later_selections: list[tuple[list[str], list[str]]] = field(default_factory=list)
    per_file_ignores: dict[str, list[str]] = field(default_factory=dict)
    exclude: list[str] = field(default_factory=list)
    extend_exclude: list[str] = field(default_factory=list)
    options: dict[str, dict[str, Any]] = field(default_factory=dict)
    max_file_size: int = 5_000_000
    onnx_init_checks: bool = True
    onnx_ignore_nodes: list[str] = field(default_factory=list)
    cache_dir: str | None = None
    jobs: int | None = None
    probe: dict[str, Any] = field(default_factory=dict)
    respect_gitignore: bool = True
    fixes: dict[str, list[str]] = field(default_factory=dict)  # FIX_KEYS: code selectors
    # model records of classes built on values nothing in their file passes (configuration
    # defaults, stand-in sizes, blocks of the file's models): only the records say anything
    # of these, so a report without models skips them
    model_records: bool = True
    root: Path = field(default_factory=Path.cwd)  # folder of the config file, or cwd
    source: Path | None = None  # the file it came from
    extends: list[Path] = field(default_factory=list)  # the files it extends, nearest first

    def fingerprint(self) -> str:
        """A stable string of everything that changes what a check reports."""
        return repr(
            (
                None if self.select is None else sorted(self.select),
                sorted(self.ignore),
                sorted(self.extend_select),
                [(sorted(i), sorted(e)) for i, e in self.later_selections],
                sorted((k, tuple(v)) for k, v in self.per_file_ignores.items()),
                sorted((k, sorted(v.items())) for k, v in self.options.items()),
                self.max_file_size,
                self.onnx_init_checks,
                sorted(self.onnx_ignore_nodes),
                str(self.root) if self.per_file_ignores else "",  # relative patterns
                self.model_records,
            )
        )


# in one folder, the first of these that is a configuration wins (ruff's order)
CONFIG_NAMES = (".gradlint.toml", "gradlint.toml", "pyproject.toml")


def config_file_in(folder: Path) -> Path | None:
    """The folder's own configuration file: a ``.gradlint.toml`` or ``gradlint.toml``, or a
    ``pyproject.toml`` with a ``[tool.gradlint]`` table (one without it is not ours)."""
    for name in CONFIG_NAMES:
        candidate = folder / name
        try:
            if not candidate.is_file():
                continue
        except OSError:
            continue
        if name != "pyproject.toml" or _has_our_table(candidate):
            return candidate
    return None


def _has_our_table(pyproject: Path) -> bool:
    try:
        text = _read_config_text(pyproject)
    except (OSError, UnicodeDecodeError):
        return False
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError:
        # ours, but broken: loading it says what is wrong (exit 2) instead of ignoring it
        return "tool.gradlint" in text
    tool = data.get("tool", {})
    return isinstance(tool, dict) and "gradlint" in tool


def find_config_file(start: Path | list[Path]) -> Path | None:
    """The nearest configuration file at or above ``start`` (``config_file_in``).

    Given several paths, the search starts at the folder they all share.
    """
    starts = [real_path(p) for p in (start if isinstance(start, list) else [start])] or [Path.cwd()]
    folders = [p if p.is_dir() else p.parent for p in starts]
    try:
        folder = Path(os.path.commonpath(folders))
    except ValueError:  # different drives
        folder = folders[0]
    for candidate in [folder, *folder.parents]:
        found = config_file_in(candidate)
        if found is not None:
            return found
    return None


MAX_CONFIG_SIZE = 1024 * 1024
MAX_EXTEND_DEPTH = 32  # a configuration arrives with every clone: its chain must not exhaust the stack


def _read_config_text(path: Path) -> str:
    """A configuration file's text: a regular file of at most a MiB (never a pipe or a device)."""
    return read_bytes(path, MAX_CONFIG_SIZE).decode("utf-8")


def load_config(path: Path | None, _chain: tuple[tuple[str, Path], ...] = ()) -> Config:
    """The configuration of a file, with the files it ``extend``s merged under it."""
    if path is None:
        return Config()
    table = _read_table(path)
    base = None
    if "extend" in table:
        value = table["extend"]
        if not isinstance(value, str) or not value:
            raise ConfigError(f"{path}: 'extend' must be the path of a configuration file")
        target = Path(os.path.expandvars(os.path.expanduser(value)))
        target = Path(os.path.normpath(target if target.is_absolute() else path.parent / target))
        chain = (*_chain, (os.path.realpath(path), path))
        if any(real == os.path.realpath(target) for real, _ in chain):
            cycle = " -> ".join(str(shown) for _, shown in (*chain, ("", target)))
            raise ConfigError(f"{path}: 'extend' makes a cycle: {cycle}")
        if len(chain) >= MAX_EXTEND_DEPTH:
            raise ConfigError(f"{path}: 'extend' goes more than {MAX_EXTEND_DEPTH} files deep")
        if not os.path.lexists(target):
            raise ConfigError(f"{path}: 'extend' names {target}, which does not exist")
        base = load_config(target, chain)
    return config_from_table(table, path, base)


def _read_table(path: Path) -> dict[str, Any]:
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
    tool = data.get("tool", {})
    if path.name == "pyproject.toml":
        table = tool.get("gradlint", {}) if isinstance(tool, dict) else {}
    else:  # a dedicated gradlint.toml / .gradlint.toml
        table = tool.get("gradlint", data) if isinstance(tool, dict) else data
    if not isinstance(table, dict):
        raise ConfigError(f"{path}: [tool.gradlint] must be a table")
    return table


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
    """Each value must be of the type its rule declares (``gradlint.rule_options``)."""
    for key, value in values.items():
        problem = option_problem(rule, key, value)
        if problem is not None:
            raise ConfigError(f"{where}: options.{rule.code}: {problem}")


def _inherited(base: Config, path: Path) -> Config:
    """``base`` as the start of the configuration at ``path``: its relative globs anchored
    at its own folder, so that they mean what they meant there."""
    config = copy.deepcopy(base)
    config.root, config.source = path.parent.resolve(), path
    config.extends = [base.source, *base.extends] if base.source else []
    config.exclude = [anchored(p, base.root) for p in base.exclude]
    config.extend_exclude = [anchored(p, base.root) for p in base.extend_exclude]
    config.per_file_ignores = {anchored(p, base.root): c for p, c in base.per_file_ignores.items()}
    return config


def config_from_table(table: dict[str, Any], path: Path, base: Config | None = None) -> Config:
    """The configuration a table says, over ``base`` (the file it extends): as in ruff, its
    ``select`` starts the selection afresh, its ``ignore`` and ``extend-*`` add to the base's,
    its other keys replace the base's, and rule options merge key by key."""
    unknown = set(table) - KNOWN_KEYS
    if unknown:
        raise ConfigError(f"{path}: unknown key(s) in [tool.gradlint]: {', '.join(sorted(unknown))}")
    config = Config(root=path.parent.resolve(), source=path) if base is None else _inherited(base, path)
    select = _code_list(table, "select", path) if "select" in table else None
    ignore = _code_list(table, "ignore", path) + _code_list(table, "extend-ignore", path)
    extend_select = _code_list(table, "extend-select", path)
    if base is None:  # the first stage
        config.select, config.ignore, config.extend_select = select, ignore, extend_select
    else:
        select_selection(config, select, ignore, extend_select)
    if "exclude" in table:
        config.exclude = _str_list(table, "exclude", path)
    config.extend_exclude += _str_list(table, "extend-exclude", path)
    if "onnx-ignore-nodes" in table:
        config.onnx_ignore_nodes = _str_list(table, "onnx-ignore-nodes", path)
    if "per-file-ignores" in table:
        config.per_file_ignores = _per_file_ignores(table, "per-file-ignores", path)
    for pattern, codes in _per_file_ignores(table, "extend-per-file-ignores", path).items():
        config.per_file_ignores[pattern] = config.per_file_ignores.get(pattern, []) + codes
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
    if "respect-gitignore" in table:
        if not isinstance(table["respect-gitignore"], bool):
            raise ConfigError(f"{path}: 'respect-gitignore' must be true or false")
        config.respect_gitignore = table["respect-gitignore"]
    if "jobs" in table:
        jobs = table["jobs"]
        if not isinstance(jobs, int) or isinstance(jobs, bool) or jobs < 1:
            raise ConfigError(f"{path}: 'jobs' must be a positive integer")
        config.jobs = jobs
    probe = table.get("probe", {})
    if not isinstance(probe, dict):
        raise ConfigError(f"{path}: [tool.gradlint.probe] must be a table")
    config.probe = {**config.probe, **probe}
    config.fixes = {**config.fixes, **{key: _code_list(table, key, path) for key in FIX_KEYS if key in table}}
    fix_codes = [code for codes in config.fixes.values() for code in codes]
    for code in (config.select or []) + config.ignore + config.extend_select + fix_codes:
        validate_selector(code, str(path))
    for ignored, extended in config.later_selections:
        for code in ignored + extended:
            validate_selector(code, str(path))
    for codes in config.per_file_ignores.values():
        for code in codes:
            validate_selector(code, str(path))
    return config


def _per_file_ignores(table: dict[str, Any], key: str, path: Path) -> dict[str, list[str]]:
    pfi = table.get(key, {})
    if not isinstance(pfi, dict):
        raise ConfigError(f"{path}: '{key}' must be a table of glob = [codes]")
    found = {}
    for pattern, codes in pfi.items():
        if isinstance(codes, str):
            codes = [codes]
        if not isinstance(codes, list) or not all(isinstance(c, str) for c in codes):
            raise ConfigError(f"{path}: {key}[{pattern!r}] must be a list of codes")
        found[pattern] = [_selector(c) for c in codes]
    return found


def select_selection(
    config: Config, select: list[str] | None, ignore: list[str], extend_select: list[str]
) -> None:
    """One stage of the selection over the ones before it, as in ruff: a ``select`` starts
    afresh, ``ignore`` and ``extend-select`` add to what is there."""
    if select is not None:
        config.select, config.ignore, config.extend_select = select, ignore, extend_select
        config.later_selections = []
    elif ignore or extend_select:
        config.later_selections.append((ignore, extend_select))


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


def selector_match(code: str, selectors: list[str]) -> int:
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
    ``ignore = ["GL101"]`` keeps GL1 but GL101; at equal specificity the ignore wins. ``ALL``
    means every rule; without a ``select``, the default rules run, as broad as ``ALL`` but
    without the opt-in ones (``default_enabled = False``), which a selector turns on by their
    code or a prefix. Each later stage (an extending file's, the command line's) changes what
    the ones before it left.
    """
    stages = [((config.select or []) + config.extend_select, config.ignore)]
    stages += [(extended, ignored) for ignored, extended in config.later_selections]
    chosen = []
    for cls in all_rules():
        enabled = False
        for number, (selectors, ignores) in enumerate(stages):
            selected, ignored = selector_match(cls.code, selectors), selector_match(cls.code, ignores)
            if number == 0 and config.select is None and cls.default_enabled:
                selected = max(selected, 0)  # the default rules, as broad as ALL
            if selected > ignored:
                enabled = True
            elif ignored >= 0:
                enabled = False
        if not enabled:
            continue
        try:
            chosen.append(cls(config.options.get(cls.code)))
        except ValueError as exc:
            raise ConfigError(str(exc)) from None
    return chosen
