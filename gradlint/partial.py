"""Top-level statements that no check of a file reads, left out of its libcst parse.

A model file is often half tables and registry functions: timm's ``default_cfgs`` of
pretrained weights and a ``@register_model`` function per variant. The checks read the
classes, what the classes use, the module-level code and the functions that may build a
model; a loss or training-loop rule may read any function, so a file such rules concern is
parsed whole. Each left-out statement becomes a string literal spanning the same lines,
so that every position in the parsed text is its position in the file.

Which statements are needed is decided on CPython's tree and on text, conservatively: a
statement is kept when a rule asks for it (``SourceRule.reads``, via ``gradlint.plan``), when its body
names a class of the file (it may build a model), when it mentions ``noqa`` or ``import``
(the import table is the file's, imports inside functions included), and when a kept
statement names it.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Callable, Iterable
from pathlib import Path

from gradlint.reading import lines_and_ends, python_lines, statement_lines

MIN_LINES = 3  # a shorter assignment costs less to parse than to judge

_IMPORT = re.compile(r"^[ \t]*(?:from[ \t]+([\w.]+)[ \t]+import[ \t]+\(?([\w, \t]+)|import[ \t]+([\w., \t]+))", re.MULTILINE)

_FUNCTIONS = (ast.FunctionDef, ast.AsyncFunctionDef)


def imported_names(texts: Iterable[str]) -> frozenset[str]:
    """Every word of the import statements of ``texts``: a file whose module name is not
    among them is imported by none of them, and its partial tree will not be followed by a
    whole parse when another file of the run imports from it. A scan of the text, a fraction
    of the cost of parsing; a name it misses costs time, never a result."""
    words: set[str] = set()
    for text in texts:
        for match in _IMPORT.finditer(text):
            for group in match.groups():
                if group:
                    words.update(re.findall(r"\w+", group))
    return frozenset(words)


def module_stem(path: str) -> str:
    """The last part of the module name a file is imported as."""
    file = Path(path)
    return file.parent.name if file.stem == "__init__" else file.stem


def unneeded_statements(text: str, tree: ast.Module, needs: Callable[[str], bool]) -> list[tuple[int, int]]:
    """The (first, last) lines of the top-level statements of ``text`` that nothing reads;
    ``needs(statement_text)`` says whether some rule reads a statement."""
    lines = python_lines(text)
    body = tree.body
    spans = [statement_lines(stmt) for stmt in body]
    classes = {stmt.name for stmt in body if isinstance(stmt, ast.ClassDef)}
    candidates: dict[int, str] = {}  # index -> source text
    defined: dict[str, list[int]] = {}
    for i, stmt in enumerate(body):
        first, last = spans[i]
        if isinstance(stmt, _FUNCTIONS):
            names = [stmt.name]
        elif isinstance(stmt, (ast.Assign, ast.AnnAssign)) and last - first + 1 >= MIN_LINES:
            names = _assigned(stmt)
            if not names:
                continue
        else:
            continue
        if (i > 0 and spans[i - 1][1] >= first) or (i + 1 < len(body) and spans[i + 1][0] <= last):
            continue  # shares a line with another statement
        source = "\n".join(lines[first - 1:last])
        if "noqa" in source or "import" in source or needs(source):
            continue  # an import inside a function still names a module for the whole file
        if isinstance(stmt, _FUNCTIONS) and not classes.isdisjoint(_words(source)):
            continue
        candidates[i] = source
        for name in names:
            defined.setdefault(name, []).append(i)
    if not candidates:
        return []
    # what the kept statements name is kept too, until nothing more is named: a statement
    # reads a top-level name only through a Name node (the checks follow no ``globals()``),
    # and each Name is a word of its text (a word in a string or an attribute keeps more)
    pending = [i for i in range(len(body)) if i not in candidates]
    while pending and candidates:
        named: set[str] = set()
        for i in pending:
            first, last = spans[i]
            named |= defined.keys() & _words("\n".join(lines[first - 1:last]))
        pending = [i for name in named for i in defined[name] if candidates.pop(i, None) is not None]
    return sorted(spans[i] for i in candidates)


def masked(text: str, spans: list[tuple[int, int]]) -> str:
    """``text`` with the lines of each span turned into one string literal over as many lines,
    each line end kept as it was."""
    lines, ends = lines_and_ends(text)
    for first, last in spans:
        if first == last:
            lines[first - 1] = '""'
            continue
        lines[first - 1] = '"""'
        for k in range(first, last - 1):
            # an empty line between a lone "\r" and its own "\n" would make them one line end
            lines[k] = " " if ends[k - 1] == "\r" and ends[k] == "\n" else ""
        lines[last - 1] = '"""'
    return "".join(line + end for line, end in zip(lines, ends))


def _assigned(stmt: ast.Assign | ast.AnnAssign) -> list[str]:
    targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
    names = []
    for target in targets:
        if not isinstance(target, ast.Name):
            return []  # tuples, attributes, subscripts: kept
        names.append(target.id)
    return names


_WORD = re.compile(r"\w+")


def _words(source: str) -> set[str]:
    """The words of a statement's text: every name it reads, and more."""
    return set(_WORD.findall(source))
