"""One Python file as the checks see it: its text, its libcst tree, positions on demand."""

from __future__ import annotations

import os
from collections.abc import Callable
from contextlib import contextmanager
from functools import cached_property
from typing import Protocol

import libcst as cst

from gradlint.diagnostics import Location

RECENT_TEXT = 1_000_000  # characters of source whose trees a process keeps for reuse (about 50 MB)


class ModuleResolver(Protocol):
    def imported_source(
        self, importer: str, module: str, accept: Callable[[str], bool] | None = None
    ) -> SourceFile | None: ...


class SourceFile:
    """A parsed Python file.

    Positions are resolved lazily: most files produce no finding, and libcst's
    position metadata costs a full pass over the tree.
    """

    partial = False  # some top-level statements left out of ``module`` (gradlint.partial)
    # the project's resolver of the run, through which a check reads another file of the
    # tree (and the cache learns that this file's results depend on it)
    resolver: ModuleResolver | None = None

    def __init__(self, path: str, text: str, module: cst.Module, spans: tuple | None = None) -> None:
        self.path = path
        self.text = text
        self.module = module
        self.spans = spans  # (classes, functions) from CPython's tree, when the gate made one

    def use_resolver(self, resolver: ModuleResolver) -> None:
        """Read other files through ``resolver`` from now on. A tree kept from an earlier run
        forgets the facts the checks worked out with the old one: they may rest on files
        that have changed since."""
        if resolver is not self.resolver:
            self.resolver = resolver
            self.__dict__.pop("_code_facts", None)

    @classmethod
    def parse(cls, path: str, text: str, tree=None) -> SourceFile:
        """CPython's parser first (SyntaxError, RecursionError), then libcst's: every file
        the checks or the cross-file index read goes through this gate (``tree``: CPython's
        tree of ``text``, when the caller has made it already)."""
        from gradlint.reading import check_size, check_syntax, definition_spans

        if tree is None:
            tree = check_syntax(path, text)
        check_size(text, tree.body)
        return cls(path, text, _parsed_module(text), definition_spans(tree))

    @classmethod
    def parse_partial(cls, path: str, text: str, tree, left_out: list[tuple[int, int]]) -> SourceFile:
        """A parse of ``text`` without the top-level statements at the ``left_out`` lines,
        positions unchanged; only the checks of the file itself read it, never the
        cross-file index (another file may import what it lacks)."""
        import bisect

        from gradlint.partial import masked
        from gradlint.reading import NotAnalysable, check_size, definition_spans, statement_lines

        starts = [first for first, _ in left_out]

        def kept(line: int) -> bool:
            at = bisect.bisect_right(starts, line) - 1
            return at < 0 or line > left_out[at][1]

        check_size(text, [stmt for stmt in tree.body if kept(statement_lines(stmt)[0])])
        try:
            module = _parsed_module(masked(text, left_out))
        except NotAnalysable:
            return cls.parse(path, text, tree)  # what libcst rejects may lie in a masked line
        classes, functions = definition_spans(tree)

        source = cls(path, text, module, ([c for c in classes if kept(c[0])], [f for f in functions if kept(f[0])]))
        source.partial = True
        return source

    @classmethod
    def recent(cls, path: str, text: str) -> SourceFile | None:
        """This process's recent parse of the file, when its text is still ``text`` (now
        the most recent)."""
        key = os.path.abspath(path)
        found = _RECENT.pop(key, None)
        if found is None or found.text != text:
            return None
        _RECENT[key] = found
        return found if found.path == path else cls(path, text, found.module, found.spans)

    @classmethod
    def parse_shared(cls, path: str, text: str, tree=None) -> SourceFile:
        """``parse``, reusing this process's recent parse of the same file and text.

        A file is read by the engine when it is checked and again by the frontends when
        another file imports from it; the recent trees are kept, up to ``RECENT_TEXT``
        characters of source in all, so that the common imports of a tree are parsed once.
        """
        found = cls.recent(path, text)
        if found is not None:
            return found
        source = cls.parse(path, text, tree)
        _RECENT[os.path.abspath(path)] = source
        held = sum(len(s.text) for s in _RECENT.values())
        while held > RECENT_TEXT and len(_RECENT) > 1:
            held -= len(_RECENT.pop(next(iter(_RECENT))).text)
        return source

    @cached_property
    def definitions(self) -> tuple[list[cst.ClassDef], list[cst.FunctionDef]]:
        """Every ``class`` and every ``def`` statement of the tree, each in source order,
        found in one walk over its statements."""
        from gradlint.statements import iter_statements

        classes: list[cst.ClassDef] = []
        functions: list[cst.FunctionDef] = []
        for stmt, _ in iter_statements(self.module):
            if type(stmt) is cst.ClassDef:
                classes.append(stmt)
            elif type(stmt) is cst.FunctionDef:
                functions.append(stmt)
        return classes, functions

    @cached_property
    def _class_starts(self) -> dict[cst.ClassDef, tuple]:
        """Each class statement's lines, by pairing libcst's class statements with CPython's
        in source order: both parsers see the same classes in the same order."""
        if self.spans is None:
            return {}
        return _paired(self.definitions[0], self.spans[0])

    @cached_property
    def _function_starts(self) -> dict[cst.FunctionDef, tuple]:
        """Each ``def`` statement's lines, paired with CPython's in source order as classes are."""
        if self.spans is None:
            return {}
        return _paired(self.definitions[1], self.spans[1])

    def function_text(self, node: cst.FunctionDef) -> str | None:
        """The source lines of a function, decorators included, for text filters; None when
        they are not known."""
        span = self._function_starts.get(node)
        return None if span is None else "\n".join(self.python_lines[span[0] - 1:span[1]])

    def class_text(self, node: cst.ClassDef, without_init: bool = False) -> str | None:
        """The source lines of a class (optionally less its ``__init__``), for text filters;
        None when they are not known."""
        span = self._class_starts.get(node)
        if span is None:
            return None
        first, last, init = span
        lines = self.python_lines[first - 1:last]
        if without_init and init is not None:
            lines = lines[: init[0] - first] + lines[init[1] - first + 1:]
        return "\n".join(lines)

    def class_location(self, node: cst.ClassDef) -> Location | None:
        """The span of a class's name, without the pass over the whole tree that
        ``location`` needs: most classes are located only to name a model."""
        span = self._class_starts.get(node)
        line = span[0] if span is not None else None
        name = node.name.value
        if line is not None and line <= len(self.python_lines):
            text = self.python_lines[line - 1]
            start = _name_after_class(text, name)
            if start is not None:
                return Location(self.path, line, start + 1, line, start + len(name) + 1)
        return None

    @cached_property
    def python_lines(self) -> list[str]:
        """Lines as Python numbers them (gradlint.reading.python_lines)."""
        from gradlint.reading import python_lines

        return python_lines(self.text)

    @property
    def lines(self) -> list[str]:
        return self.python_lines

    @cached_property
    def _spans(self):
        from gradlint.positions import node_spans

        return node_spans(self.module)

    def location(self, node: cst.CSTNode) -> Location:
        """The 1-based span of ``node``; columns count characters, as editors do."""
        span = self._spans.get(node)
        if span is None:
            return Location(self.path, 1, 1)
        start_line, start_column, end_line, end_column = span
        return Location(self.path, start_line, start_column + 1, end_line, end_column + 1)

    def code_of(self, node: cst.CSTNode) -> str:
        return self.module.code_for_node(node)


def _parsed_module(text: str) -> cst.Module:
    """libcst's tree of a text CPython has parsed. libcst rejects some line ends CPython
    takes (a backslash and "\r\n" that end the file): then the text as CPython reads it,
    where every line and column is the same; NotAnalysable if libcst rejects that too."""
    from gradlint.reading import NotAnalysable, collector_paused, cpython_newlines

    with collector_paused(), _validation_skipped():
        try:
            return cst.parse_module(text)
        except cst.ParserSyntaxError as exc:
            error = exc
            read = cpython_newlines(text)
            if read != text:
                try:
                    return cst.parse_module(read)
                except cst.ParserSyntaxError:
                    pass
    where = f"{error.raw_line}:{error.raw_column}: {error.message}"
    raise NotAnalysable(f"cannot analyse: libcst cannot parse this valid Python ({where}); skipped")


def _paired(nodes: list, spans: list) -> dict:
    return dict(zip(nodes, spans)) if len(nodes) == len(spans) else {}


def _name_after_class(line: str, name: str) -> int | None:
    import re

    match = re.search(rf"\bclass\s+({re.escape(name)})\b", line)
    return match.start(1) if match else None


_RECENT: dict[str, SourceFile] = {}  # absolute path -> its latest parse, oldest first


# libcst validates every node as it is built (``CSTNode.__post_init__`` calls
# ``_validate``): checks that guard hand-built trees, such as balanced parentheses and
# whitespace holding only whitespace. A tree from the parser meets them by construction,
# and the text has passed CPython's parser first; libcst's own comment on the method
# notes the work could be avoided when parsing a file. Skipping it saves about a fifth of
# the parse. Only done while the method does nothing but validate, as in libcst 1.x.
_VALIDATING = cst.CSTNode.__dict__.get("__post_init__")
_SKIPPABLE = getattr(getattr(_VALIDATING, "__code__", None), "co_names", None) == ("_validate",)


def _built_unchecked(self) -> None:
    pass


@contextmanager
def _validation_skipped():
    if not _SKIPPABLE:
        yield
        return
    cst.CSTNode.__post_init__ = _built_unchecked
    try:
        yield
    finally:
        cst.CSTNode.__post_init__ = _VALIDATING
