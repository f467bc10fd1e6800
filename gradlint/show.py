"""``--show-settings`` and ``--show-files``: what a run would use, without checking anything."""

from __future__ import annotations

from pathlib import Path

from gradlint.config import Config, enabled_rules
from gradlint.files import discover, display_path
from gradlint.resolve import Resolver
from gradlint.rule_options import toml_value


def settings_text(path: Path, resolver: Resolver) -> str:
    """The resolved settings of ``path`` as TOML, headed by the files they came from."""
    config = resolver.config_for(path)
    lines = [f"# settings for {display_path(path)}"]
    if config.source is None:
        lines.append("# from: no configuration file (the defaults)")
    else:
        lines.append(f"# from: {display_path(config.source)}")
        lines.extend(f"# extends: {display_path(base)}" for base in config.extends)
    lines.append(f"# root: {display_path(config.root)}")
    lines.append(f"# enabled rules: {' '.join(rule.code for rule in enabled_rules(config))}")
    for ignored, extended in config.later_selections:  # an extending file's, the command line's
        lines.append(f"# then: ignore = {toml_value(ignored)}, extend-select = {toml_value(extended)}")
    lines.append("[tool.gradlint]")
    if config.select is None:
        lines.append("# select: none, so every rule but the opt-in ones")
    lines.extend(f"{key} = {toml_value(value)}" for key, value in _values(config) if value is not None)
    for code, values in sorted(config.options.items()):
        lines.append(f"\n[tool.gradlint.options.{code}]")
        lines.extend(f"{key} = {toml_value(value)}" for key, value in sorted(values.items()))
    return "\n".join(lines) + "\n"


def _values(config: Config) -> list[tuple[str, object]]:
    return [
        ("select", config.select),  # None: not set
        ("ignore", config.ignore),
        ("extend-select", config.extend_select),
        ("per-file-ignores", config.per_file_ignores),
        ("exclude", config.exclude),
        ("extend-exclude", config.extend_exclude),
        ("respect-gitignore", config.respect_gitignore),
        ("max-file-size", config.max_file_size),
        ("onnx-init-checks", config.onnx_init_checks),
        ("onnx-ignore-nodes", config.onnx_ignore_nodes),
        ("cache-dir", config.cache_dir or str(config.root / ".gradlint_cache")),
        ("jobs", config.jobs if config.jobs is not None else "every core"),
    ]


def files_text(paths: list[Path], resolver: Resolver, force_exclude: bool) -> tuple[str, list[tuple[str, str]]]:
    """The files a run would check, one a line, and the paths that cannot be checked."""
    files, problems = discover(paths, resolver, force_exclude=force_exclude)
    return "".join(f"{display_path(path)}\n" for path in sorted(files, key=display_path)), problems
