"""A whole run: the files found, the cache consulted, the rest checked on every core.

One file's way through the pipeline is ``gradlint.check_file``."""

from __future__ import annotations

import functools
import gc
import os
import stat
from contextlib import contextmanager
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

from gradlint.check_file import check_path, check_python, run_graph_rules
from gradlint.config import Config, enabled_rules
from gradlint.diagnostics import FileError, FileResult, Finding, RunResult
from gradlint.files import discover, display_path
from gradlint.notebooks import is_notebook
from gradlint.plan import Plan
from gradlint.project_index import LazyProject, project_of
from gradlint.reading import read_text
from gradlint.resolve import Resolver
from gradlint.rule import GraphRule, Rule, SourceRule

if TYPE_CHECKING:
    from gradlint.cache import ResultCache

__all__ = ["Checker", "check_path", "check_python", "indexable", "run", "run_graph_rules"]


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


def run(
    paths: list[Path],
    config: Config | Resolver,
    jobs: int | None = None,
    use_cache: bool = False,
    force_exclude: bool = False,
    filters: bool = True,
) -> RunResult:
    """Check ``paths``, each file with its configuration (``config``: one for all, or a
    ``Resolver`` that finds each file's) and with the run's files as its cross-file context."""
    resolver = Resolver.of(config)
    documents: list[Path] = []
    files, problems = discover(paths, resolver, force_exclude=force_exclude, documents=documents)
    documents.extend(f for f in files if is_notebook(f))  # a notebook's cells may build the tree's models
    outcome = RunResult()
    outcome.errors.extend(FileError(p, m) for p, m in problems)
    checkers: dict[int, Checker] = {}  # one per configuration: files are grouped by it
    checker_of: dict[Path, Checker] = {}
    for path in files:
        settings = resolver.config_for(path, is_dir=False)
        if id(settings) not in checkers:
            checkers[id(settings)] = Checker(settings, filters=filters)
        checker_of[path] = checkers[id(settings)]
    caches = _caches(files, checker_of, outcome) if use_cache else {}
    results: list[FileResult | None] = [None] * len(files)
    pending: list[int] = []
    for index, path in enumerate(files):
        cache = caches.get(id(checker_of[path]))
        hit = cache.lookup(path, display_path(path)) if cache is not None else None
        if hit is None:
            pending.append(index)
        else:
            results[index] = hit
    if pending:
        # the index covers the whole tree, cached files included: their classes are
        # still what the changed files import
        project = LazyProject(indexable(files, {p: checker_of[p].config.max_file_size for p in files}), documents)
        todo = [files[i] for i in pending]
        with _few_collections():
            checked = _map_files(todo, checker_of, project, jobs)
        for index, result in zip(pending, checked):
            results[index] = result
            cache = caches.get(id(checker_of[files[index]]))
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


def _caches(files: list[Path], checker_of: dict[Path, Checker], outcome: RunResult) -> dict[int, ResultCache]:
    """A cache per configuration, in that configuration's cache folder: an entry's key holds
    the settings that decide the file's results."""
    from gradlint.cache import ResultCache, cache_folder

    caches = {}
    for checker in dict.fromkeys(checker_of.values()):
        cache = ResultCache(cache_folder(checker.config), checker.config, files)
        if cache.problem is not None and cache.problem not in outcome.warnings:
            outcome.warnings.append(cache.problem)
        caches[id(checker)] = cache
    return caches


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


def indexable(files: list[Path], max_size: int | dict[Path, int]) -> list[Path]:
    """The files the cross-file index may open: reading a pipe would block it, and a
    file over the size limit (its configuration's) would cost it what the limit is there to save."""
    kept = []
    for path in files:
        if path.suffix not in (".py", ".pyi"):
            continue
        try:
            info = path.stat()
        except OSError:
            continue
        limit = max_size[path] if isinstance(max_size, dict) else max_size
        if stat.S_ISREG(info.st_mode) and info.st_size <= limit:
            kept.append(path)
    return kept


def _map_files(files: list[Path], checker_of: dict[Path, Checker], project, jobs: int | None) -> list[FileResult]:
    workers = min(jobs or os.cpu_count() or 1, len(files))
    # forking costs more than checking a handful of files
    if workers <= 1 or len(files) < 2 * workers:
        # rules load with the first file that needs them: a plain file never imports libcst
        return [check_path(path, checker_of[path], project) for path in files]
    checkers = list(dict.fromkeys(checker_of[path] for path in files))
    for checker in checkers:  # built once, before any fork
        _ = (checker.source_rules, checker.graph_rules, checker.enabled_codes)
    from gradlint.workers import parallel_map

    project = project_of(project)
    groups: list[list[int]] = []
    if any(checker.source_rules or checker.graph_rules for checker in checkers):
        from gradlint.partial import imported_names

        texts = _texts(project.files, max(checker.config.max_file_size for checker in checkers))
        imported = imported_names(texts.values())
        for checker in checkers:
            checker.imported = imported
        from gradlint.affinity import groups as affinity_groups

        groups = affinity_groups(files, texts, project, workers)
    return parallel_map(files, functools.partial(_check_with, checker_of=checker_of, project=project), workers, groups)


def _check_with(path: Path, checker_of: dict[Path, Checker], project) -> FileResult:
    return check_path(path, checker_of[path], project)


def _texts(paths: list[Path], max_size: int | None) -> dict[Path, str]:
    """The text of each file that can be read; the others are left to their checks to report."""
    texts = {}
    for path in paths:
        try:
            texts[path] = read_text(path, max_size)
        except (OSError, ValueError):
            continue
    return texts
