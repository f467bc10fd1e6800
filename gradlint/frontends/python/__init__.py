"""The python frontend: evaluates nn.Module classes abstractly into layer graphs."""

from __future__ import annotations

from pathlib import Path

from gradlint.ir import LayerGraph
from gradlint.source import SourceFile


class Project:
    """What the linted tree defines, across files, for resolving imports."""

    def __init__(self, files: list[Path]) -> None:
        self.files = files

    @classmethod
    def for_files(cls, files: list[Path]) -> "Project":
        return cls(files)


def build_graphs(source: SourceFile, project: Project | None) -> list[LayerGraph]:
    """One layer graph per nn.Module class of ``source`` that resolves with its defaults."""
    return []
