"""Which files one worker should check together.

A model file reads the blocks it imports from another file of the run by parsing that file
whole (``gradlint.frontends.python.index``), and a process keeps its recent trees for reuse
(``gradlint.source``). When the file that defines the blocks and the files that import them
are checked by different workers, each worker parses it. So a file that
imports classes or functions from another file of the run is checked in one chunk with it,
that file first, while the chunk stays a small share of the run, so that the workers still
end together.

Decided on text alone, like ``gradlint.partial.imported_names``: a ``from`` import whose
module resolves to a file of the run and which names a class or function defined at the top
of that file. A miss costs a parse, never a result: grouping only orders the work.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

_FROM = re.compile(r"^[ \t]*from[ \t]+(\.*[\w.]*)[ \t]+import[ \t]+(?:\(([^)]*)\)|([\w, \t]+))", re.MULTILINE)
_DEFINED = re.compile(r"^(?:class|def|async[ \t]+def)[ \t]+(\w+)", re.MULTILINE)  # top-level classes and functions
_WORD = re.compile(r"\w+")

SHARE = 2  # a group weighs at most 1 / (SHARE * workers) of the run


def groups(files: list[Path], texts: dict[Path, str], project, workers: int) -> list[list[int]]:
    """The indices of ``files`` that one worker should check together, a list per group of
    two or more, imported files first. Module names are resolved by ``project``, the
    frontend's index (``Project.module_key``), as the checks resolve them."""
    weights = [len(texts.get(path, "")) for path in files]
    index = {os.path.normcase(os.path.abspath(path)): i for i, path in enumerate(files)}
    defined: dict[int, set[str]] = {}  # the top-level classes and functions of each imported file
    edges: list[tuple[int, int]] = []  # (importer, imported)
    for i, path in enumerate(files):
        text = texts.get(path)
        if not text or "import" not in text:
            continue
        for match in _FROM.finditer(text):
            module, inside, plain = match.groups()
            target = index.get(project.module_key(module, str(path)) or "")
            if target is None or target == i:
                continue
            if target not in defined:
                defined[target] = set(_DEFINED.findall(texts.get(files[target], "")))
            if not defined[target].isdisjoint(_WORD.findall(inside or plain)):
                edges.append((i, target))
    if not edges:
        return []
    cap = sum(weights) // (SHARE * max(1, workers))
    parent = list(range(len(files)))
    weight = list(weights)

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for importer, target in sorted(edges, key=lambda e: -weights[e[1]]):  # the costliest parses first
        a, b = root(importer), root(target)
        if a != b and weight[a] + weight[b] <= cap:
            parent[a] = b
            weight[b] += weight[a]
    imported = {target for importer, target in edges if root(importer) == root(target)}
    members: dict[int, list[int]] = {}
    for i in range(len(files)):
        members.setdefault(root(i), []).append(i)
    # the imported files first, so that their trees are there when the importers need them
    return [
        sorted(group, key=lambda i: (i not in imported, -weights[i]))
        for group in members.values()
        if len(group) > 1
    ]
