"""One `gradlint probe` invocation: targets from the command line or the config, each measured
in a child process, judged, joined with the static findings, reported."""

from __future__ import annotations

import importlib.machinery
import importlib.util
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click

from gradlint.config import ConfigError, find_config_file, load_config
from gradlint.probe import EXIT_HEALTHY, EXIT_PROBLEM, EXIT_USAGE
from gradlint.probe.runner import ProbeFailure, ProbeInterrupted, Request, run_child
from gradlint.probe.settings import ProbeSettings, TargetEntry, parse_shape, settings_from_table


@dataclass
class ProbeOptions:
    device: str | None
    seed: int | None
    input_shape: str | None
    fmt: str
    plot: Path | None
    loss: str | None
    timeout: float | None
    config_path: Path | None
    dtype: str | None = None


PLOT_NEEDS = "--plot needs matplotlib: pip install 'torch-gradlint[probe]'"


def _say(message: str) -> None:
    click.echo(f"gradlint probe: error: {message}", err=True)


def _warn(message: str) -> None:
    click.echo(f"gradlint probe: warning: {message}", err=True)


def split_target(spec: str, root: Path) -> tuple[Path, str]:
    """``models/net.py:build`` to (path, name); the last colon splits, so drive letters survive."""
    file_part, sep, name = spec.rpartition(":")
    if not sep or not file_part or not name or not name.replace(".", "").replace("_", "").isalnum():
        raise ValueError(f"target {spec!r} is not FILE.py:NAME")
    path = Path(file_part)
    if not path.is_absolute():
        path = root / path
    if path.is_dir():
        raise ValueError(f"target {spec!r}: {file_part} is a folder, not a .py file")
    if not path.is_file():
        raise ValueError(f"target {spec!r}: no such file {file_part}")
    # Python imports source only by these endings: anything else would fail in the child.
    if path.suffix not in importlib.machinery.SOURCE_SUFFIXES:
        raise ValueError(f"target {spec!r}: {file_part} is not a Python file (.py)")
    return path, name


def run_probes(targets: list[str], options: ProbeOptions) -> int:
    try:
        # The config nearest the first target's file, as `gradlint check` finds it for a path.
        start = Path(targets[0].rpartition(":")[0] or ".") if targets else Path.cwd()
        config_file = options.config_path or find_config_file(
            start if start.exists() else Path.cwd()
        )
        config = load_config(config_file)
        where = str(config.source or "[tool.gradlint.probe]")
        settings = settings_from_table(config.probe, where, config.root)
        shape = parse_shape(options.input_shape) if options.input_shape else None
    except (ConfigError, ValueError) as exc:
        _say(str(exc))
        return EXIT_USAGE
    if targets:
        entries = [TargetEntry(t, shape) for t in targets]
        root = Path.cwd()
    else:
        entries = [TargetEntry(e.spec, shape or e.input_shape, e.loss) for e in settings.targets]
        root = settings.root
    if not entries:
        _say(
            "no target: give FILE.py:NAME, or list targets under [tool.gradlint.probe] in pyproject.toml"
        )
        return EXIT_USAGE
    # Found without importing it: the parent process never loads torch.
    if importlib.util.find_spec("torch") is None:
        _say("gradlint probe needs torch: pip install 'torch-gradlint[probe]'")
        return EXIT_USAGE
    # Before any model runs: a missing chart library should not cost a pass first.
    if options.plot is not None and importlib.util.find_spec("matplotlib") is None:
        _say(PLOT_NEEDS)
        return EXIT_USAGE
    documents, worst = [], EXIT_HEALTHY
    for index, entry in enumerate(entries):
        try:
            doc = probe_one(entry, root, options, settings, config)
            if options.plot is not None:
                _plot(doc, options.plot, index if len(entries) > 1 else None)
        except ProbeInterrupted as stopped:
            _say(str(stopped))
            return stopped.exit_code
        except ProbeFailure as failure:
            _say(str(failure))
            worst = max(worst, failure.exit_code)
            continue
        documents.append(doc)
        if options.fmt == "text":
            click.echo(_text(doc), nl=False)
        worst = max(worst, EXIT_HEALTHY if doc["healthy"] else EXIT_PROBLEM)
    if options.fmt == "json" and documents:
        payload: Any = documents[0] if len(entries) == 1 else {"probes": documents}
        click.echo(json.dumps(payload, indent=2))
    return worst


def _text(doc: dict[str, Any]) -> str:
    from gradlint.probe.report import render_text

    return render_text(doc)


def _plot(doc: dict[str, Any], path: Path, index: int | None) -> None:
    from gradlint.probe.plot import plot_grad_flow

    if index is not None:
        path = path.with_name(
            f"{path.stem}-{index + 1}-{doc['model_class']}{path.suffix or '.png'}"
        )
    try:
        plot_grad_flow(doc, path)
    except ImportError as exc:
        # matplotlib went missing after the check up front, or one of its own imports fails.
        missing = (exc.name or "").partition(".")[0] == "matplotlib"
        raise ProbeFailure(PLOT_NEEDS if missing else f"{PLOT_NEEDS} ({exc})", EXIT_USAGE) from None
    except OSError as exc:
        raise ProbeFailure(f"cannot write {path}: {exc.strerror or exc}", EXIT_USAGE) from None
    doc["plot"] = str(path)


def probe_one(
    entry: TargetEntry, root: Path, options: ProbeOptions, settings: ProbeSettings, config
) -> dict[str, Any]:
    from gradlint.probe.join import join
    from gradlint.probe.report import document, mark_activation_flags
    from gradlint.probe.verdicts import judge

    try:
        path, name = split_target(entry.spec, root)
    except ValueError as exc:
        raise ProbeFailure(str(exc), EXIT_USAGE) from None
    request = Request(
        file=path.resolve(),
        name=name,
        device=options.device or settings.device,
        seed=settings.seed if options.seed is None else options.seed,
        loss=options.loss or entry.loss or settings.loss,
        input_shape=entry.input_shape,
        saturation_input=settings.thresholds.saturation_input,
        timeout=options.timeout or settings.timeout,
        dtype=options.dtype or "float32",
    )
    measured = run_child(request, warn=_warn)
    verdicts = judge(measured, settings.thresholds, settings.dead_params_fail)
    findings, models = static_findings(path, measured, config)
    joined, static_ratio = join(findings, models, measured, config.options, settings.thresholds)
    doc = document(
        entry.spec, request, measured, verdicts, joined, static_ratio, settings.thresholds
    )
    mark_activation_flags(doc)
    return doc


def static_findings(path: Path, measured: dict[str, Any], config) -> tuple[list[dict], list[dict]]:
    """The static engine on the target file and on the files of the model's classes beside it
    (sibling imports): the same path `gradlint check` takes, torch-free."""
    from gradlint.engine import run

    folder = path.resolve().parent
    files = [path]
    for span in measured.get("spans", []):
        other = Path(span["path"])
        if other != path.resolve() and other.is_relative_to(folder) and other not in files:
            files.append(other)
            files.extend(i for i in _package_inits(other, folder) if i not in files)
    try:
        outcome = run(files, config, jobs=1)
    except ConfigError as exc:
        raise ProbeFailure(str(exc), EXIT_USAGE) from None
    return [f.to_json() for f in outcome.findings], [m.to_json() for m in outcome.models]


def _package_inits(path: Path, folder: Path) -> list[Path]:
    """The ``__init__.py`` files between ``path`` and ``folder``: ``from blocks import X``
    resolves through blocks/__init__.py, so the index needs it beside the block's file."""
    inits = []
    parent = path.parent
    while parent != folder and parent.is_relative_to(folder):
        init = parent / "__init__.py"
        if init.is_file():
            inits.append(init)
        parent = parent.parent
    return inits
