"""The file a fix edits: its libcst tree, the spans of its nodes, and edits made from them.

Transforms find the node a finding points at by its span, and describe their repair as
edits of the original text: everything outside the edited span stays byte for byte
what the user wrote.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import libcst as cst
from libcst.metadata import MetadataWrapper, ParentNodeProvider, PositionProvider

from gradlint.diagnostics import Edit, Finding
from gradlint.names import dotted
from gradlint.reading import line_offsets


@dataclass(frozen=True)
class Span:
    """0-based character offsets into the text, end exclusive."""

    start: int
    end: int


class FixTree:
    """One parse of one file, shared by every transform that repairs a finding in it."""

    def __init__(self, path: str, text: str) -> None:
        self.path = path
        self.text = text
        wrapper = MetadataWrapper(cst.parse_module(text), unsafe_skip_copy=True)
        self.module = wrapper.module
        self._positions = wrapper.resolve(PositionProvider)
        self._parents = wrapper.resolve(ParentNodeProvider)
        self.line_starts = line_offsets(text)
        self.newline = self.module.default_newline

    # positions ------------------------------------------------------------------------
    def offset(self, line: int, column: int) -> int:
        """Offset of a 1-based line and 0-based column."""
        return self.line_starts[line - 1] + column

    def span(self, node: cst.CSTNode) -> Span:
        pos = self._positions[node]
        return Span(
            self.offset(pos.start.line, pos.start.column), self.offset(pos.end.line, pos.end.column)
        )

    def line_of(self, offset: int) -> int:
        """1-based line of an offset."""
        low, high = 0, len(self.line_starts) - 1
        while low < high:
            mid = (low + high + 1) // 2
            if self.line_starts[mid] <= offset:
                low = mid
            else:
                high = mid - 1
        return low + 1

    def edit(self, start: int, end: int, replacement: str) -> Edit:
        sl, el = self.line_of(start), self.line_of(end)
        return Edit(
            sl,
            start - self.line_starts[sl - 1] + 1,
            el,
            end - self.line_starts[el - 1] + 1,
            replacement,
        )

    def code(self, node: cst.CSTNode) -> str:
        span = self.span(node)
        return self.text[span.start : span.end]

    # nodes ----------------------------------------------------------------------------
    def at(self, finding: Finding, kinds: tuple[type, ...] = (cst.CSTNode,)) -> cst.CSTNode | None:
        """The node of one of ``kinds`` whose span is exactly the finding's."""
        loc = finding.location
        if loc.line is None or loc.end_line is None:
            return None
        try:
            start = self.offset(loc.line, (loc.column or 1) - 1)
            end = self.offset(loc.end_line, (loc.end_column or 1) - 1)
        except IndexError:
            return None
        return self.node_at(start, end, kinds)

    def node_at(
        self, start: int, end: int, kinds: tuple[type, ...] = (cst.CSTNode,)
    ) -> cst.CSTNode | None:
        for node in self._positions:
            if isinstance(node, kinds) and self.span(node) == Span(start, end):
                return node
        return None

    def parent(self, node: cst.CSTNode) -> cst.CSTNode | None:
        return self._parents.get(node)

    def ancestors(self, node: cst.CSTNode) -> Iterator[cst.CSTNode]:
        current = self.parent(node)
        while current is not None:
            yield current
            current = self.parent(current)

    def statement(self, node: cst.CSTNode) -> cst.BaseStatement | None:
        """The statement (a line of simple statements, or a compound one) holding ``node``."""
        if isinstance(node, cst.BaseStatement):
            return node
        for up in self.ancestors(node):
            if isinstance(up, cst.BaseStatement):
                return up
        return None

    def block_of(self, statement: cst.CSTNode) -> tuple[list[cst.BaseStatement], int] | None:
        """The statements of the block holding ``statement``, and its index there."""
        owner = self.parent(statement)
        body = getattr(owner, "body", None)
        if isinstance(body, (list, tuple)) and statement in body:
            return list(body), list(body).index(statement)
        return None

    def enclosing(self, node: cst.CSTNode, kind: type) -> cst.CSTNode | None:
        return next((up for up in self.ancestors(node) if isinstance(up, kind)), None)

    # whole lines ----------------------------------------------------------------------
    def lines(self, statement: cst.CSTNode) -> Span:
        """The whole lines of a statement, from its indentation to its line end included."""
        span = self.span(statement)
        first = self.line_starts[self.line_of(span.start) - 1]
        last_line = self.line_of(max(span.end - 1, span.start))
        end = self.line_starts[last_line] if last_line < len(self.line_starts) else len(self.text)
        return Span(first, end)

    def indent_of(self, statement: cst.CSTNode) -> str:
        span = self.span(statement)
        start = self.line_starts[self.line_of(span.start) - 1]
        return self.text[start : span.start]

    def alone_on_its_lines(self, statement: cst.CSTNode) -> bool:
        """A statement with nothing else on its lines (no `a; b`, no `if x: a`)."""
        if type(statement) is not cst.SimpleStatementLine or len(statement.body) != 1:
            return False
        lines = self.lines(statement)
        span = self.span(statement)
        return not self.text[lines.start : span.start].strip()

    # names ----------------------------------------------------------------------------
    def nn_prefix(self) -> str | None:
        """How this file names ``torch.nn``: ``nn``, ``torch.nn``, or None when it cannot."""
        through_torch = None
        for stmt in self.module.body:
            if type(stmt) is not cst.SimpleStatementLine:
                continue
            for small in stmt.body:
                if type(small) is cst.ImportFrom and small.module is not None:
                    if dotted(small.module) != "torch" or type(small.names) is cst.ImportStar:
                        continue
                    for alias in small.names:
                        if dotted(alias.name) == "nn":
                            return alias.asname.name.value if alias.asname else "nn"
                elif type(small) is cst.Import:
                    for alias in small.names:
                        name = dotted(alias.name)
                        if name == "torch.nn" and alias.asname is not None:
                            return alias.asname.name.value
                        if name in ("torch", "torch.nn") and alias.asname is None:
                            through_torch = "torch.nn"
                        elif name == "torch" and alias.asname is not None:
                            through_torch = f"{alias.asname.name.value}.nn"
        return through_torch


def calls_in(node: cst.CSTNode, method: str) -> Iterator[cst.Call]:
    """Calls ``<something>.method(...)`` inside ``node``, nested functions left out."""
    stack = [node]
    while stack:
        current = stack.pop()
        if (
            type(current) is cst.Call
            and type(current.func) is cst.Attribute
            and current.func.attr.value == method
        ):
            yield current
        if current is not node and type(current) in (cst.FunctionDef, cst.ClassDef, cst.Lambda):
            continue
        stack.extend(current.children)
