"""Functions and methods that the checked file imports from another file of the tree, read
through the one resolver (which records the file as a dependency of the checked one)."""

from __future__ import annotations

import libcst as cst

from gradlint.codefacts.syntax import methods
from gradlint.codefacts.words import OUTSIDE_THE_TREE
from gradlint.source import SourceFile


def _in_the_tree(source: SourceFile | None, qualified: str | None):
    """(resolver, module, name) of a dotted name another file of the tree may define; None
    for a name of torch and the other libraries outside it, or with no module part."""
    resolver = getattr(source, "resolver", None)
    if not qualified or resolver is None or qualified.split(".")[0] in OUTSIDE_THE_TREE:
        return None
    module, _, name = qualified.rpartition(".")
    return (resolver, module, name) if module else None


def foreign_definition(
    source: SourceFile | None, qualified: str | None, method: str | None = None, also=None
) -> tuple[cst.FunctionDef, SourceFile] | None:
    """The function ``qualified`` (with ``method``: that method of the class ``qualified``)
    as defined in another file of the tree, with that file; None when it is not one, or
    when ``also(text)`` turns the file down before it is parsed."""
    target = _in_the_tree(source, qualified)
    if target is None:
        return None
    resolver, module, name = target
    word = f"class {name}" if method is not None else f"def {name}"
    other = resolver.imported_source(
        source.path, module, lambda text: word in text and (also is None or also(text))
    )
    if other is None or other is source:
        return None
    for stmt in other.module.body:
        if method is None and type(stmt) is cst.FunctionDef and stmt.name.value == name:
            return stmt, other
        if method is not None and type(stmt) is cst.ClassDef and stmt.name.value == name:
            found = methods(stmt).get(method)
            return (found, other) if found is not None else None
    return None


def may_define(source: SourceFile | None, qualified: str | None, also=None) -> bool:
    """Whether ``foreign_definition(source, qualified, also=also)`` may find a function, from
    the other file's text alone: that file is never parsed here (the resolver still records
    it as a dependency of ``source``)."""
    target = _in_the_tree(source, qualified)
    if target is None:
        return False
    resolver, module, name = target
    verdicts: list[bool] = []

    def accept(text: str) -> bool:
        verdicts.append(f"def {name}" in text and (also is None or also(text)))
        return False  # the verdict is all that is asked: no parse

    resolver.imported_source(source.path, module, accept)
    return bool(verdicts) and verdicts[0]
