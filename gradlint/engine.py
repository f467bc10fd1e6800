"""Files -> frontends -> checks -> suppressions, for one file and for a whole run."""

from __future__ import annotations

import ast
import os
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

import libcst as cst

from gradlint.config import Config, enabled_rules, ignored_for_file
from gradlint.diagnostics import FileError, FileResult, Finding, RunResult
from gradlint.files import discover, display_path
from gradlint.rule import GraphRule, Rule, SourceRule
from gradlint.source import SourceFile
from gradlint.suppression import UNUSED_NOQA_CODE, apply_suppressions, parse_suppressions


@dataclass
class Checker:
    """The rules of one run, split by what they read."""

    config: Config
    rules: list[Rule]

    @classmethod
    def from_config(cls, config: Config) -> "Checker":
        return cls(config, enabled_rules(config))

    @property
    def source_rules(self) -> list[SourceRule]:
        return [r for r in self.rules if isinstance(r, SourceRule)]

    @property
    def graph_rules(self) -> list[GraphRule]:
        return [r for r in self.rules if isinstance(r, GraphRule)]

    @property
    def enabled_codes(self) -> set[str]:
        return {r.code for r in self.rules}


def read_text(path: Path, max_size: int) -> str:
    """The file's text, or an OSError / ValueError whose message is the one line we report."""
    size = path.stat().st_size
    if size > max_size:
        raise ValueError(
            f"file is {size / 1e6:.1f} MB, over the {max_size / 1e6:.1f} MB limit (max-file-size); skipped"
        )
    data = path.read_bytes()
    if b"\0" in data[:8192]:
        raise ValueError("binary file (contains NUL bytes); skipped")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ValueError(f"not valid UTF-8 (byte {exc.start}); skipped") from None


def _os_message(exc: OSError) -> str:
    return (exc.strerror or str(exc)).lower()


def parse_python(path: str, text: str) -> SourceFile:
    """Parse with CPython first: it rejects what would crash libcst's native parser
    (nesting past the interpreter's limits) with a proper message and line."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ast.parse(text, filename=path)
    return SourceFile.parse(path, text)


def check_python(path: Path, shown: str, checker: Checker, project=None) -> FileResult:
    result = FileResult(shown)
    config = checker.config
    try:
        text = read_text(path, config.max_file_size)
    except OSError as exc:
        result.errors.append(FileError(shown, f"cannot read file: {_os_message(exc)}"))
        return result
    except ValueError as exc:
        result.errors.append(FileError(shown, str(exc)))
        return result
    suppressions = parse_suppressions(text)
    if suppressions.file_all:
        return result
    try:
        source = parse_python(shown, text)
    except SyntaxError as exc:
        where = f"{exc.lineno}:{exc.offset}: " if exc.lineno else ""
        result.errors.append(FileError(shown, f"syntax error: {where}{exc.msg}"))
        return result
    except (RecursionError, MemoryError):
        result.errors.append(FileError(shown, "syntax error: nested too deeply to parse"))
        return result
    except cst.ParserSyntaxError as exc:
        result.errors.append(FileError(shown, f"syntax error: {exc.raw_line}:{exc.raw_column}: {exc.message}"))
        return result
    except ValueError as exc:  # e.g. source code string cannot contain null bytes
        result.errors.append(FileError(shown, f"syntax error: {exc}"))
        return result
    findings: list[Finding] = []
    try:
        for rule in checker.source_rules:
            findings.extend(rule.check_source(source))
        graph_findings, models = _graphs_of_python(source, checker, project)
        findings.extend(graph_findings)
        result.models.extend(models)
    except RecursionError:
        result.errors.append(FileError(shown, "nested too deeply to analyse; skipped"))
        return result
    findings = _apply_file_ignores(findings, shown, config)
    result.findings = apply_suppressions(
        findings,
        suppressions,
        shown,
        report_unused=UNUSED_NOQA_CODE in checker.enabled_codes,
        enabled_codes=checker.enabled_codes,
    )
    return result


def _graphs_of_python(source: SourceFile, checker: Checker, project) -> tuple[list[Finding], list]:
    from gradlint.frontends.python import build_graphs
    from gradlint.gain import model_record

    findings: list[Finding] = []
    models = []
    for graph in build_graphs(source, project):
        findings.extend(run_graph_rules(graph, checker.graph_rules))
        models.append(model_record(graph))
    return findings, models


def run_graph_rules(graph, rules: Iterable[GraphRule]) -> list[Finding]:
    findings: list[Finding] = []
    for rule in rules:
        findings.extend(rule.check_graph(graph))
    return findings


def check_onnx(path: Path, shown: str, checker: Checker) -> FileResult:
    from gradlint.frontends.onnx import check_onnx_file

    result = check_onnx_file(path, shown, checker)
    result.findings = _apply_file_ignores(result.findings, shown, checker.config)
    return result


def _apply_file_ignores(findings: list[Finding], shown: str, config: Config) -> list[Finding]:
    ignored = ignored_for_file(shown, config)
    if not ignored:
        return findings
    return [f for f in findings if not any(f.code.startswith(code) for code in ignored)]


def check_path(path: Path, checker: Checker, project=None) -> FileResult:
    shown = display_path(path)
    try:
        if path.suffix == ".onnx":
            return check_onnx(path, shown, checker)
        return check_python(path, shown, checker, project)
    except Exception as exc:  # a bug of ours must not end the run
        return FileResult(shown, errors=[FileError(shown, f"internal error: {type(exc).__name__}: {exc}")])


def run(paths: list[Path], config: Config, jobs: int | None = None) -> RunResult:
    checker = Checker.from_config(config)
    files, missing = discover(paths, config)
    outcome = RunResult()
    outcome.errors.extend(FileError(p, m) for p, m in missing)
    from gradlint.frontends.python import Project

    project = Project.for_files(files)
    for result in _map_files(files, checker, project, jobs):
        outcome.findings.extend(result.findings)
        outcome.errors.extend(result.errors)
        outcome.models.extend(result.models)
    outcome.files_checked = len(files)
    outcome.findings.sort(key=Finding.sort_key)
    outcome.errors.sort(key=lambda e: e.path)
    outcome.models.sort(key=lambda m: (m.path, m.line or 0, m.name))
    return outcome


def _map_files(files: list[Path], checker: Checker, project, jobs: int | None):
    workers = jobs or os.cpu_count() or 1
    if workers <= 1 or len(files) < 8:
        for path in files:
            yield check_path(path, checker, project)
        return
    from gradlint.workers import parallel_map

    yield from parallel_map(files, checker, project, workers)
