"""Which files one worker should check together.

A model file reads the blocks it imports from another file of the run by parsing that file
whole (``gradlint.frontends.python.index``), and a process keeps its recent trees for reuse
(``gradlint.source``). When the file that defines the blocks and the files that import them
are checked by different workers, each worker parses it: on timm, two workers both parsed
vision_transformer.py, eva.py and naflexvit.py, a fifteenth of the run's CPU. So a file that
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


def chunks(files: list[Path], texts: dict[Path, str], workers: int, size: int) -> list[list[int]]:
    """The indices of ``files`` as chunks of work, heaviest first (characters of source):
    each group of files that import from one another in one chunk, imported files
    first, and the other files ``size`` at a time, largest first."""
    weights = [len(texts.get(path, "")) for path in files]
    groups = _groups(files, texts, weights, workers)
    grouped = {i for group in groups for i in group}
    alone = sorted((i for i in range(len(files)) if i not in grouped), key=lambda i: -weights[i])
    work = groups + [alone[k : k + size] for k in range(0, len(alone), size)]
    return sorted(work, key=lambda chunk: -sum(weights[i] for i in chunk))


def _groups(files: list[Path], texts: dict[Path, str], weights: list[int], workers: int) -> list[list[int]]:
    resolve = _Resolver(files)
    defined: dict[int, set[str]] = {}  # the top-level classes and functions of each imported file
    edges: list[tuple[int, int, int]] = []  # (weight of the imported file, importer, imported)
    for i, path in enumerate(files):
        text = texts.get(path)
        if not text or "import" not in text:
            continue
        for match in _FROM.finditer(text):
            module, inside, plain = match.groups()
            target = resolve(module, path)
            if target is None or target == i:
                continue
            if target not in defined:
                defined[target] = set(_DEFINED.findall(texts.get(files[target], "")))
            if defined[target] and not defined[target].isdisjoint(_WORD.findall(inside or plain)):
                edges.append((weights[target], i, target))
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

    imported = set()
    for _, importer, target in sorted(edges, key=lambda e: -e[0]):  # the costliest parses first
        a, b = root(importer), root(target)
        if a != b and weight[a] + weight[b] <= cap:
            parent[a] = b
            weight[b] += weight[a]
            imported.add(target)
        elif a == b:
            imported.add(target)
    members: dict[int, list[int]] = {}
    for i in range(len(files)):
        members.setdefault(root(i), []).append(i)
    # the imported files first, so that their trees are there when the importers need them
    return [
        sorted(group, key=lambda i: (i not in imported, -weights[i]))
        for group in members.values()
        if len(group) > 1
    ]


class _Resolver:
    """The index in ``files`` of the file a ``from`` import's module names, as Python would
    find it: relative to the importer, or by the end of its path for an absolute name."""

    def __init__(self, files: list[Path]) -> None:
        self.index = {os.path.normcase(os.path.abspath(path)): i for i, path in enumerate(files)}
        self.by_stem: dict[str, list[str]] = {}
        for key in self.index:
            stem = os.path.splitext(os.path.basename(key))[0]
            if stem == "__init__":
                stem = os.path.basename(os.path.dirname(key))
            self.by_stem.setdefault(stem, []).append(key)

    def __call__(self, module: str, importer: Path) -> int | None:
        level = len(module) - len(module.lstrip("."))
        parts = [p for p in module[level:].split(".") if p]
        if level:
            folder = os.path.dirname(os.path.abspath(importer))
            for _ in range(level - 1):
                folder = os.path.dirname(folder)
            if not parts:
                return None  # ``from . import x``: a module, not its classes
            base = os.path.join(folder, *parts)
            for candidate in (base + ".py", os.path.join(base, "__init__.py")):
                found = self.index.get(os.path.normcase(candidate))
                if found is not None:
                    return found
            return None
        if not parts:
            return None
        tail = os.sep + os.path.join(*parts)
        endings = (os.path.normcase(tail + ".py"), os.path.normcase(os.path.join(tail, "__init__.py")))
        for key in self.by_stem.get(parts[-1], ()):
            if key.endswith(endings):
                return self.index[key]
        return None
