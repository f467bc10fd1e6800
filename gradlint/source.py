"""One Python file as the checks see it: its text, its libcst tree, positions on demand."""

from __future__ import annotations

from functools import cached_property
import libcst as cst

from gradlint.diagnostics import Location


class SourceFile:
    """A parsed Python file.

    Positions are resolved lazily: most files produce no finding, and libcst's
    position metadata costs a full pass over the tree.
    """

    def __init__(self, path: str, text: str, module: cst.Module) -> None:
        self.path = path
        self.text = text
        self.module = module

    @classmethod
    def parse(cls, path: str, text: str) -> "SourceFile":
        """CPython's parser first (SyntaxError, RecursionError), then libcst's: every file
        the checks or the cross-file index read goes through this gate."""
        from gradlint.reading import check_syntax

        check_syntax(path, text)
        return cls(path, text, cst.parse_module(text))

    @cached_property
    def lines(self) -> list[str]:
        return self.text.splitlines()

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
