"""Files -> frontends -> checks -> suppressions, for one file and for a whole run."""

from __future__ import annotations

import functools
import gc
import os
import stat
from collections.abc import Iterable
from contextlib import contextmanager
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gradlint.config import Config, enabled_rules, ignored_for_file
from gradlint.diagnostics import FileError, FileResult, Finding, RunResult
from gradlint.files import discover, display_path
from gradlint.plan import Plan
from gradlint.reading import NotAnalysable, check_syntax, collector_spared, file_kind, read_text
from gradlint.rule import GraphRule, Rule, SourceRule

if TYPE_CHECKING:
    from gradlint.source import SourceFile
from gradlint.suppression import UNUSED_NOQA_CODE, apply_suppressions, parse_suppressions


class Checker:
    """The rules of one run, split by what they read.

    The rules are instantiated on first use: a run that finds every file in the
    cache never imports them, nor the parser they need.
    """

    # the words of the run's import statements (gradlint.partial.imported_names); None when
    # not worked out, and then any file may get a partial tree
    imported: frozenset[str] | None = None

    def __init__(self, config: Config, rules: list[Rule] | None = None, filters: bool = True) -> None:
        self.config = config
        self.filters = filters  # False: every file parsed whole, every rule run (for tests)
        if rules is not None:
            self.rules = rules

    @classmethod
    def from_config(cls, config: Config) -> Checker:
        return cls(config)

    @cached_property
    def rules(self) -> list[Rule]:
        return enabled_rules(self.config)

    @cached_property
    def source_rules(self) -> list[SourceRule]:
        return [r for r in self.rules if isinstance(r, SourceRule)]

    @cached_property
    def graph_rules(self) -> list[GraphRule]:
        return [r for r in self.rules if isinstance(r, GraphRule)]

    @cached_property
    def enabled_codes(self) -> set[str]:
        return {r.code for r in self.rules}

    @cached_property
    def plan(self) -> Plan:
        return Plan(self.source_rules, bool(self.graph_rules), self.filters)


def _os_message(exc: OSError) -> str:
    return (exc.strerror or str(exc)).lower()


class _Unparsable(Exception):
    """A file that does not parse; the message is the line we report."""


_UNPARSABLE = (SyntaxError, RecursionError, MemoryError, ValueError)


def _parse(shown: str, text: str, checker: Checker | None = None, project=None) -> SourceFile | None:
    """The parsed file; None when the text mentions nothing any rule reads, and
    ``_SCREENED`` when it does but, decided without libcst, no enabled rule concerns it."""
    try:
        if checker is not None and not checker.plan.worth_parsing(text):
            check_syntax(shown, text)  # syntax errors are still worth a line
            return None
        tree = check_syntax(shown, text)
        if checker is not None and not _concerns_a_rule(shown, text, tree, checker, project):
            return _SCREENED
        import libcst as cst

        from gradlint.source import SourceFile

        try:
            if checker is not None and _may_be_partial(shown, text, checker):
                left_out = _left_out(text, tree, checker)
                if left_out:
                    return SourceFile.parse_partial(shown, text, tree, left_out)
            return SourceFile.parse_shared(shown, text, tree)
        except cst.ParserSyntaxError as exc:
            raise _Unparsable(f"syntax error: {exc.raw_line}:{exc.raw_column}: {exc.message}") from None
    except _UNPARSABLE as exc:
        raise _Unparsable(_unparsable_message(exc)) from None


_SCREENED: Any = object()  # no rule concerns the file, as the bases of its classes show


def _concerns_a_rule(shown: str, text: str, tree, checker: Checker, project) -> bool:
    """Whether any enabled rule may have something to say about the file, decided without
    libcst: the source rules by the words their analyses need, the model rules by whether a
    class of the file may be an nn.Module (its bases followed through summaries of the
    files they come from), and a ``noqa`` comment always (it may turn out unused)."""
    if checker.plan.needs_source_rules(text):
        return True
    if not checker.graph_rules:
        return False
    real = _project_of(project)
    may_have_models = getattr(real, "may_have_models", None)
    return may_have_models is None or may_have_models(shown, tree)


def _may_be_partial(shown: str, text: str, checker: Checker) -> bool:
    """Whether the file may get a partial tree: not when this process holds a whole one
    already, nor when another file of the run imports it (that file would parse it whole
    again)."""
    from gradlint.partial import module_stem
    from gradlint.source import SourceFile

    if not checker.plan.filters or SourceFile.recent(shown, text) is not None:
        return False
    return checker.imported is None or module_stem(shown) not in checker.imported


def _left_out(text: str, tree, checker: Checker) -> list[tuple[int, int]]:
    """The top-level statements of the file that no enabled rule reads (gradlint.partial)."""
    test = checker.plan.statement_test(text)
    if test is None:
        return []
    from gradlint.partial import unneeded_statements

    return unneeded_statements(text, tree, test)


def _unparsable_message(exc: BaseException) -> str:
    if isinstance(exc, NotAnalysable):
        return str(exc)  # valid Python: not a syntax error
    if isinstance(exc, SyntaxError):
        where = f"{exc.lineno}:{exc.offset}: " if exc.lineno else ""
        return f"syntax error: {where}{exc.msg}"
    if isinstance(exc, (RecursionError, MemoryError)):
        return "syntax error: nested too deeply to parse"
    return f"syntax error: {exc}"  # e.g. source code string cannot contain null bytes


def check_python(path: Path, shown: str, checker: Checker, project=None, text: str | None = None) -> FileResult:
    result = FileResult(shown)
    config = checker.config
    if text is None:
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
        source = _parse(shown, text, checker, project)
    except _Unparsable as exc:
        result.errors.append(FileError(shown, str(exc)))
        return result
    if source is _SCREENED:
        if checker.graph_rules:
            # no model, as far as the bases of its classes show: those files still count
            result.dependencies = _dependencies(path, project)
        return result
    if source is None:
        return result
    if project is None:  # one file alone: its imports still resolve beside it
        project = LazyProject([path])
    findings: list[Finding] = []
    try:
        source.use_resolver(project)
        for rule in checker.plan.rules_for(text):
            findings.extend(rule.check_source(source))
        # the layer graphs serve only the model checks; other files of the tree that the
        # source rules read through the resolver are dependencies all the same
        if checker.graph_rules:
            graph_findings, models = _graphs_of_python(source, checker, project)
            findings.extend(graph_findings)
            result.models.extend(models)
            result.dependencies = _dependencies(path, project)
        else:
            result.dependencies = _recorded_dependencies(path, project)
    except RecursionError:
        result.errors.append(FileError(shown, "nested too deeply to analyse; skipped"))
        return result
    ignored_here = ignored_for_file(shown, config)
    active = {c for c in checker.enabled_codes if not any(c.startswith(i) for i in ignored_here)}
    findings = _drop_ignored(findings, ignored_here)
    findings = apply_suppressions(
        findings,
        suppressions,
        shown,
        report_unused=UNUSED_NOQA_CODE in active,
        enabled_codes=active,
    )
    result.findings = findings
    return result


def _graphs_of_python(source: SourceFile, checker: Checker, project) -> tuple[list[Finding], list]:
    from gradlint.frontends.python import build_graphs
    from gradlint.records import model_record

    findings: list[Finding] = []
    models = []
    for graph in build_graphs(source, _project_of(project)):
        findings.extend(run_graph_rules(graph, checker.graph_rules))
        models.append(model_record(graph))
    return findings, models


def run_graph_rules(graph, rules: Iterable[GraphRule]) -> list[Finding]:
    findings: list[Finding] = []
    for rule in rules:
        findings.extend(rule.check_graph(graph))
    return findings


def check_onnx(path: Path, shown: str, checker: Checker) -> FileResult:
    try:
        info = path.stat()
    except OSError as exc:
        return FileResult(shown, errors=[FileError(shown, f"cannot read file: {_os_message(exc)}")])
    if not stat.S_ISREG(info.st_mode):
        return FileResult(shown, errors=[FileError(shown, f"not a regular file ({file_kind(info.st_mode)}); skipped")])
    if info.st_size == 0:
        return FileResult(shown, errors=[FileError(shown, "empty file: not an ONNX model")])
    try:
        from gradlint.frontends.onnx import check_onnx_file
    except ImportError as exc:
        if (exc.name or "").split(".")[0] != "onnx":
            raise
        message = "checking .onnx files needs the onnx package: pip install 'gradlint[onnx]'"
        return FileResult(shown, errors=[FileError(shown, message)])
    result = check_onnx_file(path, shown, checker)
    result.findings = _drop_ignored(result.findings, ignored_for_file(shown, checker.config))
    return result


def _drop_ignored(findings: list[Finding], ignored: list[str]) -> list[Finding]:
    if not ignored:
        return findings
    return [f for f in findings if not any(f.code.startswith(code) for code in ignored)]


def check_path(path: Path, checker: Checker, project=None) -> FileResult:
    shown = display_path(path)
    try:
        if path.suffix == ".onnx":
            return check_onnx(path, shown, checker)
        with collector_spared():
            return check_python(path, shown, checker, project)
    except Exception as exc:  # noqa: BLE001 - a bug of ours must not end the run
        return FileResult(shown, errors=[FileError(shown, f"internal error: {type(exc).__name__}: {exc}")])


def _recorded_dependencies(path: Path, project) -> list[str]:
    """The tree files that the source rules read for ``path`` through the resolver."""
    if isinstance(project, LazyProject):
        if not project.started:
            return []
        project = project.get()
    return sorted(project.recorded_dependencies(str(path)))


def _dependencies(path: Path, project) -> list[str]:
    """Tree files whose definitions this file's results used; every file when the
    frontend cannot say (stale results are worse than slow ones)."""
    project = _project_of(project)
    if project is None:
        return []
    dependencies_of = getattr(project, "dependencies_of", None)
    if dependencies_of is not None:
        try:
            return sorted(str(p) for p in dependencies_of(str(path)))
        except Exception:  # noqa: BLE001, S110 - then every file, below
            pass
    return sorted(str(p) for p in getattr(project, "files", ()))


def run(
    paths: list[Path],
    config: Config,
    jobs: int | None = None,
    use_cache: bool = False,
    force_exclude: bool = False,
    filters: bool = True,
) -> RunResult:
    checker = Checker(config, filters=filters)
    files, problems = discover(paths, config, force_exclude=force_exclude)
    outcome = RunResult()
    outcome.errors.extend(FileError(p, m) for p, m in problems)
    cache = None
    if use_cache:
        from gradlint.cache import ResultCache, cache_folder

        cache = ResultCache(cache_folder(config), config, files)
        if cache.problem is not None:
            outcome.warnings.append(cache.problem)
    results: list[FileResult | None] = [None] * len(files)
    pending: list[int] = []
    for index, path in enumerate(files):
        hit = cache.lookup(path, display_path(path)) if cache is not None else None
        if hit is None:
            pending.append(index)
        else:
            results[index] = hit
    if pending:
        # the index covers the whole tree, cached files included: their classes are
        # still what the changed files import
        project = LazyProject(indexable(files, config.max_file_size))
        todo = [files[i] for i in pending]
        with _few_collections():
            checked = _map_files(todo, checker, project, jobs)
        for index, result in zip(pending, checked):
            results[index] = result
            if cache is not None:
                cache.store(files[index], result)
    for result in results:
        outcome.findings.extend(result.findings)
        outcome.errors.extend(result.errors)
        outcome.models.extend(result.models)
    outcome.files_checked = len(files)
    outcome.findings.sort(key=Finding.sort_key)
    outcome.errors.sort(key=lambda e: e.path)
    outcome.models.sort(key=lambda m: (m.path, m.line or 0, m.name))
    return outcome


@contextmanager
def _few_collections():
    """Run the cyclic garbage collector far less often while checking.

    A parse allocates millions of small objects, and by default every 700 allocations
    start a collection that walks the young objects, and every few of those the whole
    heap, retained trees and all. Trees hold no cycles, so collecting rarely frees as
    much. The thresholds are mypy's.
    """
    previous = gc.get_threshold()
    gc.set_threshold(200_000, 30, 30)
    try:
        yield
    finally:
        gc.set_threshold(*previous)


class LazyProject:
    """The frontend's cross-file index, built when the first file needs it: a run whose
    files all skip the parser never imports the frontend."""

    def __init__(self, files: list[Path]) -> None:
        self.files = files
        self._project = None

    @property
    def started(self) -> bool:
        return self._project is not None

    def get(self):
        if self._project is None:
            from gradlint.frontends.python import Project

            self._project = Project.for_files(self.files)
        return self._project

    def imported_source(self, importer: str, module: str, accept=None):
        """The one resolver of the run (``gradlint.source.ModuleResolver``), built on demand."""
        return self.get().imported_source(importer, module, accept)


def _project_of_files(project) -> list[Path]:
    return list(getattr(project, "files", ()))


def _project_of(project):
    return project.get() if isinstance(project, LazyProject) else project


def indexable(files: list[Path], max_size: int) -> list[Path]:
    """The files the cross-file index may open: reading a pipe would block it, and a
    file over the size limit would cost it what the limit is there to save."""
    kept = []
    for path in files:
        if path.suffix not in (".py", ".pyi"):
            continue
        try:
            info = path.stat()
        except OSError:
            continue
        if stat.S_ISREG(info.st_mode) and info.st_size <= max_size:
            kept.append(path)
    return kept


def _map_files(files: list[Path], checker: Checker, project, jobs: int | None) -> list[FileResult]:
    workers = min(jobs or os.cpu_count() or 1, len(files))
    # forking costs more than checking a handful of files
    if workers <= 1 or len(files) < 2 * workers:
        # rules load with the first file that needs them: a plain file never imports libcst
        return [check_path(path, checker, project) for path in files]
    _ = (checker.source_rules, checker.graph_rules, checker.enabled_codes)  # built once, before any fork
    from gradlint.workers import parallel_map

    project = _project_of(project)
    groups: list[list[int]] = []
    if checker.source_rules or checker.graph_rules:
        from gradlint.partial import imported_names

        texts = _texts(_project_of_files(project), checker.config.max_file_size)
        checker.imported = imported_names(texts.values())
        if hasattr(project, "module_key"):
            from gradlint.affinity import groups as affinity_groups

            groups = affinity_groups(files, texts, project, workers)
    return parallel_map(files, functools.partial(check_path, checker=checker, project=project), workers, groups)


def _texts(paths: list[Path], max_size: int | None) -> dict[Path, str]:
    """The text of each file that can be read; the others are left to their checks to report."""
    texts = {}
    for path in paths:
        try:
            texts[path] = read_text(path, max_size)
        except (OSError, ValueError):
            continue
    return texts
