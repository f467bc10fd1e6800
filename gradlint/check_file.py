"""One file through the pipeline: read -> plan -> parse -> frontends -> rules -> suppressions."""

from __future__ import annotations

import fnmatch
import stat
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gradlint.bounded import file_kind
from gradlint.config import ignored_for_file
from gradlint.diagnostics import FileError, FileResult, Finding
from gradlint.files import display_path
from gradlint.notebooks import CellMap, is_notebook, parse_notebook, read_code
from gradlint.project_index import LazyProject, ProjectIndex, held_source, project_of
from gradlint.reading import NotAnalysable, check_syntax, collector_spared
from gradlint.rule import GraphRule, all_rules
from gradlint.suppression import UNUSED_NOQA_CODE, apply_suppressions, parse_suppressions

if TYPE_CHECKING:
    from gradlint.engine import Checker
    from gradlint.source import SourceFile

Project = ProjectIndex | LazyProject | None


def _os_message(exc: OSError) -> str:
    return (exc.strerror or str(exc)).lower()


class _Unparsable(Exception):
    """A file that does not parse: the message we report, and where, when that is known."""

    def __init__(self, message: str, line: int | None = None, column: int | None = None) -> None:
        super().__init__(message)
        self.line, self.column = line, column

    def error(self, shown: str, cells: CellMap | None = None) -> FileError:
        """The error line; in a notebook, at the line of the cell (``cells``) it is in."""
        if cells is None or self.line is None:
            return FileError(shown, str(self), self.line, self.column)
        cell, line = cells.where(self.line)
        return FileError(shown, str(self), line, self.column, cell)


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

        held = held_source(project, shown, text)
        if held is not None:
            return held
        try:
            if checker is not None and _may_be_partial(shown, text, checker):
                left_out = _left_out(text, tree, checker)
                if left_out:
                    return SourceFile.parse_partial(shown, text, tree, left_out)
            return SourceFile.parse_shared(shown, text, tree)
        except cst.ParserSyntaxError as exc:
            raise _Unparsable(f"syntax error: {exc.message}", exc.raw_line, exc.raw_column + 1) from None
    except _UNPARSABLE as exc:
        line, column = _syntax_error_place(exc)
        raise _Unparsable(_unparsable_message(exc), line, column) from None


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
    real = project_of(project)
    return real is None or real.may_have_models(shown, tree)


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


def _syntax_error_place(exc: BaseException) -> tuple[int | None, int | None]:
    if isinstance(exc, SyntaxError) and exc.lineno:
        return exc.lineno, exc.offset or 1
    return None, None


def _unparsable_message(exc: BaseException) -> str:
    if isinstance(exc, NotAnalysable):
        return str(exc)  # valid Python: not a syntax error
    if isinstance(exc, SyntaxError):
        return f"syntax error: {exc.msg}"
    if isinstance(exc, (RecursionError, MemoryError)):
        return "syntax error: nested too deeply to parse"
    return f"syntax error: {exc}"  # e.g. source code string cannot contain null bytes


def check_python(
    path: Path, shown: str, checker: Checker, project=None, text: str | None = None, cells: CellMap | None = None
) -> FileResult:
    """One Python file, or one notebook's code cells joined (``cells``: where each starts in
    ``text``), through the pipeline; a notebook's findings come back in its cells' lines."""
    try:
        if text is None:
            text, cells = read_code(path, checker.config.max_file_size)
        elif cells is None and is_notebook(path):  # a notebook's JSON handed in (stdin)
            notebook = parse_notebook(text.encode("utf-8", "surrogatepass"))
            text, cells = notebook.text, notebook.cells
    except OSError as exc:
        return FileResult(shown, errors=[FileError(shown, f"cannot read file: {_os_message(exc)}")])
    except ValueError as exc:
        return FileResult(shown, errors=[FileError(shown, str(exc))])
    result = _check_text(path, shown, checker, project, text, cells)
    if cells is not None:
        cells.relocate(result)
    return result


def _check_text(path: Path, shown: str, checker: Checker, project, text: str, cells: CellMap | None) -> FileResult:
    result = FileResult(shown)
    config = checker.config
    suppressions = parse_suppressions(text)
    if suppressions.file_all:
        return result
    try:
        source = _parse(shown, text, checker, project)
    except _Unparsable as exc:
        result.errors.append(exc.error(shown, cells))
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
        known_codes={cls.code for cls in all_rules()},
    )
    if cells is None and any(f.fixable for f in findings):
        findings = _with_fixes(shown, text, findings)
    result.findings = findings
    return result


def _with_fixes(shown: str, text: str, findings: list[Finding]) -> list[Finding]:
    """Each fixable finding with its fix, made while the file is at hand and cached with the
    result: a warm run marks ``[*]`` without parsing the file again. The run's fix settings
    decide later which of them to offer."""
    from dataclasses import replace

    from gradlint.fixes import fix_pairs

    fixes = {id(finding): fix for finding, fix in fix_pairs(shown, text, findings)}
    return [replace(f, fix=fixes[id(f)]) if id(f) in fixes else f for f in findings]


def _graphs_of_python(source: SourceFile, checker: Checker, project) -> tuple[list[Finding], list]:
    from gradlint.frontends.python import build_graphs
    from gradlint.records import model_record

    findings: list[Finding] = []
    models = []
    for graph in build_graphs(source, project_of(project), _estimated, blocks=checker.config.model_records):
        if not graph.attrs.get("record_only"):  # built on values nothing in the file passes
            findings.extend(run_graph_rules(graph, checker.graph_rules))
        models.append(model_record(graph))
    return findings, models


def _estimated(graph) -> bool:
    from gradlint.gain import estimate

    return estimate(graph).log10_grad_ratio is not None


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
        result = check_onnx_file(path, shown, checker)
    except ImportError as exc:
        if (exc.name or "").split(".")[0] != "onnx":
            raise
        message = "checking .onnx files needs the onnx package: pip install 'torch-gradlint[onnx]'"
        return FileResult(shown, errors=[FileError(shown, message)])
    result.findings = _drop_ignored(result.findings, ignored_for_file(shown, checker.config))
    return result


def check_onnx_file(path: Path, shown: str, checker: Checker) -> FileResult:
    """The graph rules and the model record of one exported graph."""
    from gradlint.frontends.onnx import LoadError, build_graph
    from gradlint.records import onnx_record

    result = FileResult(shown)
    config = checker.config
    try:
        graph = build_graph(path, shown, config.onnx_init_checks)
    except LoadError as exc:
        result.errors.append(FileError(shown, str(exc)))
        return result
    except RecursionError:
        result.errors.append(FileError(shown, "graph nested too deeply to analyse; skipped"))
        return result
    patterns = config.onnx_ignore_nodes
    result.findings = [
        f
        for f in run_graph_rules(graph, checker.graph_rules)
        if f.location.node is None or not any(fnmatch.fnmatchcase(f.location.node, p) for p in patterns)
    ]
    result.models.append(onnx_record(graph, config.onnx_init_checks))
    result.dependencies = list(graph.attrs.get("external_files", []))
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
    project = project_of(project)
    if project is None:
        return []
    try:
        return sorted(str(p) for p in project.dependencies_of(str(path)))
    except Exception:  # noqa: BLE001 - then every file
        return sorted(str(p) for p in project.files)
