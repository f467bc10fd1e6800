"""The python frontend: evaluates nn.Module classes abstractly into layer graphs.

``Project`` indexes the linted tree (module names, lazily parsed files);
``build_graphs`` interprets each nn.Module class of one file with its
constructor defaults and walks its forward into a LayerGraph.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

from gradlint.frontends.python.build import build_graphs_of
from gradlint.frontends.python.index import Project
from gradlint.ir import LayerGraph
from gradlint.source import SourceFile

__all__ = ["Project", "build_graphs"]


def build_graphs(source: SourceFile, project: Project | None,
                 estimated: Callable[[LayerGraph], bool] | None = None, blocks: bool = True) -> list[LayerGraph]:
    """One layer graph per nn.Module class of ``source`` that resolves with its defaults.

    ``estimated(graph)`` tells whether the gain model gives a graph built on stand-in sizes
    an estimate; only then is the second build, that checks the stand-ins cancel, made.
    ``blocks``: also graphs of classes that need constructor arguments nothing in the file
    passes, built from a configuration's defaults, on stand-in sizes or taken from inside a
    model of the file (``attrs["record_only"]`` says which): for model records only, so that
    a report without models does not pay for them and findings never depend on them."""
    if project is None:
        project = Project.for_files([Path(source.path)])
    if blocks and getattr(source, "partial", False) and project.called_elsewhere(source.path, _CLASS.findall(source.text)):
        # another file builds a model of this one, and runs what the partial parse left out
        # (``model.apply(weights_init)`` with this file's function)
        source = SourceFile.parse_shared(source.path, source.text)
    ctx = project.context(source.path, source)
    try:
        return build_graphs_of(ctx, project, estimated, blocks)
    except RecursionError:
        return []
    finally:
        project.release(ctx)


_CLASS = re.compile(r"^class[ \t]+(\w+)", re.MULTILINE)

