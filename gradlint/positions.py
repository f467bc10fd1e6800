"""Line and column of every node, in one code-generation pass, cheaper than libcst's provider.

libcst's PositionProvider builds a CodePosition and a CodeRange for every node
and splits every token with a regular expression; on a model file that pass
costs more than the parse itself. This one keeps plain tuples, only looks for
newlines in tokens that have one, and gives the same syntactic spans
(leading whitespace and comments excluded, as PositionProvider does).
"""

from __future__ import annotations

import libcst as cst
from libcst._nodes.internal import CodegenState

Span = tuple[int, int, int, int]  # start line, start column (0-based), end line, end column


class _Syntactic:
    __slots__ = ("end_node", "node", "start", "start_node", "state")

    def __init__(self, state: _PositionState, node, start_node, end_node) -> None:
        self.state = state
        self.node = node
        self.start_node = start_node
        self.end_node = end_node

    def __enter__(self) -> None:
        self.start = (self.state.line, self.state.column)

    def __exit__(self, *exc: object) -> None:
        state = self.state
        spans = state.spans
        if self.start_node is not None:
            first = spans[self.start_node]
            start = (first[0], first[1])
        else:
            start = self.start
        if self.end_node is not None:
            last = spans[self.end_node]
            end = (last[2], last[3])
        else:
            end = (state.line, state.column)
        spans[self.node] = (start[0], start[1], end[0], end[1])


class _PositionState(CodegenState):
    def __init__(self, module: cst.Module) -> None:
        super().__init__(default_indent=module.default_indent, default_newline=module.default_newline)
        self.line = 1
        self.column = 0
        self.spans: dict[cst.CSTNode, Span] = {}
        self._stack: list[tuple[int, int]] = []

    def _advance(self, value: str) -> None:
        if "\n" in value or "\r" in value:
            value = value.replace("\r\n", "\n").replace("\r", "\n")
            self.line += value.count("\n")
            self.column = len(value) - value.rfind("\n") - 1
        else:
            self.column += len(value)

    def add_indent_tokens(self) -> None:
        self.tokens.extend(self.indent_tokens)
        for token in self.indent_tokens:
            self._advance(token)

    def add_token(self, value: str) -> None:
        self.tokens.append(value)
        self._advance(value)

    def before_codegen(self, node: cst.CSTNode) -> None:
        self._stack.append((self.line, self.column))

    def after_codegen(self, node: cst.CSTNode) -> None:
        line, column = self._stack.pop()
        if node not in self.spans:
            self.spans[node] = (line, column, self.line, self.column)

    def record_syntactic_position(self, node, *, start_node=None, end_node=None):
        return _Syntactic(self, node, start_node, end_node)


def node_spans(module: cst.Module) -> dict[cst.CSTNode, Span]:
    state = _PositionState(module)
    module._codegen(state)
    return state.spans
