"""One Python file as the checks see it: its text, its libcst tree, positions on demand."""

from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING

import libcst as cst

from gradlint.diagnostics import Location

if TYPE_CHECKING:
    from libcst.metadata import CodeRange


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
        return cls(path, text, cst.parse_module(text))

    @cached_property
    def lines(self) -> list[str]:
        return self.text.splitlines()

    @cached_property
    def _positions(self):
        from libcst.metadata import MetadataWrapper, PositionProvider

        wrapper = MetadataWrapper(self.module, unsafe_skip_copy=True)
        return wrapper.resolve(PositionProvider)

    def code_range(self, node: cst.CSTNode) -> "CodeRange | None":
        return self._positions.get(node)

    def location(self, node: cst.CSTNode) -> Location:
        """The 1-based span of ``node``; columns count characters, as editors do."""
        span = self.code_range(node)
        if span is None:
            return Location(self.path, 1, 1)
        return Location(
            self.path,
            span.start.line,
            span.start.column + 1,
            span.end.line,
            span.end.column + 1,
        )

    def code_of(self, node: cst.CSTNode) -> str:
        return self.module.code_for_node(node)
