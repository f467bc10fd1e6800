"""Statement-level walks over a libcst module.

Classes and functions can only be statements, so finding them never needs a walk into
expressions: visiting statements alone touches a small fraction of a file's nodes.
"""

from __future__ import annotations

from collections.abc import Iterator

import libcst as cst

_SIMPLE = (cst.SimpleStatementLine, cst.SimpleStatementSuite)


def _inner(stmt: cst.CSTNode) -> list[cst.CSTNode]:
    """The statements (and clauses holding statements) directly inside ``stmt``, in order."""
    if isinstance(stmt, _SIMPLE):
        return []
    found: list[cst.CSTNode] = []
    body = getattr(stmt, "body", None)
    if type(body) is cst.IndentedBlock:
        found.extend(body.body)
    elif isinstance(body, (list, tuple)):  # the module itself
        found.extend(body)
    found.extend(getattr(stmt, "handlers", ()))  # try: except clauses, before else/finally
    found.extend(getattr(stmt, "cases", ()))  # match: case clauses
    orelse = getattr(stmt, "orelse", None)
    if orelse is not None:
        found.append(orelse)  # an elif (If) or an Else clause
    final = getattr(stmt, "finalbody", None)
    if final is not None:
        found.append(final)
    return found


def iter_statements(module: cst.Module) -> Iterator[tuple[cst.CSTNode, cst.ClassDef | None]]:
    """Every statement and clause, in source order, with the class whose body holds it
    (a method's owner; None inside functions and at top level)."""
    pending: list[tuple[cst.CSTNode, cst.ClassDef | None]] = [(s, None) for s in reversed(_inner(module))]
    while pending:
        stmt, owner = pending.pop()
        yield stmt, owner
        if type(stmt) is cst.ClassDef:
            inside: cst.ClassDef | None = stmt
        elif type(stmt) is cst.FunctionDef:
            inside = None
        else:
            inside = owner
        pending.extend((child, inside) for child in reversed(_inner(stmt)))


def class_statements(module: cst.Module) -> list[cst.ClassDef]:
    """Every ``class`` statement, in source order."""
    return [stmt for stmt, _ in iter_statements(module) if type(stmt) is cst.ClassDef]
