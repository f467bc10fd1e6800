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

    def __init__(self, path: str, text: str, module: cst.Module, class_spans: list | None = None) -> None:
        self.path = path
        self.text = text
        self.module = module
        self._class_spans = class_spans  # from CPython's tree, when the gate made one

    @classmethod
    def parse(cls, path: str, text: str) -> "SourceFile":
        """CPython's parser first (SyntaxError, RecursionError), then libcst's: every file
        the checks or the cross-file index read goes through this gate."""
        from gradlint.reading import check_syntax, class_spans, collector_paused

        tree = check_syntax(path, text)
        with collector_paused():
            module = cst.parse_module(text)
        return cls(path, text, module, class_spans(tree))

    @cached_property
    def _class_starts(self) -> dict[cst.ClassDef, tuple]:
        """Each class statement's lines, by pairing libcst's class statements with CPython's
        in source order: both parsers see the same classes in the same order."""
        if self._class_spans is None:
            return {}
        from gradlint.statements import class_statements

        classes = class_statements(self.module)
        if len(classes) != len(self._class_spans):
            return {}
        return dict(zip(classes, self._class_spans))

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
    def lines(self) -> list[str]:
        return self.text.splitlines()

    @cached_property
    def python_lines(self) -> list[str]:
        """Lines as Python numbers them: ``str.splitlines`` also splits at form feeds."""
        import re

        return re.split(r"\r\n|\r|\n", self.text)

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


def _name_after_class(line: str, name: str) -> int | None:
    import re

    match = re.search(rf"\bclass\s+({re.escape(name)})\b", line)
    return match.start(1) if match else None

