"""Reading a source file safely: regular files only, size-limited, decoded as Python does,
and checked by CPython's parser before libcst's native parser (which crashes on nesting
past the interpreter's limits) ever sees it. Imports no libcst: plain files never pay for it."""

from __future__ import annotations

import ast
import gc
import re
import stat
import warnings
from contextlib import contextmanager
from pathlib import Path

_ENCODING_COOKIE = re.compile(rb"^[ \t\f]*#.*?coding[:=][ \t]*([-\w.]+)")


def read_text(path: Path, max_size: int | None) -> str:
    """The file's text, or an OSError / ValueError whose message is the one line we report."""
    info = path.stat()
    if not stat.S_ISREG(info.st_mode):
        raise ValueError(f"not a regular file ({file_kind(info.st_mode)}); skipped")
    if max_size is not None and info.st_size > max_size:
        raise ValueError(
            f"file is {info.st_size / 1e6:.1f} MB, over the {max_size / 1e6:.1f} MB limit (max-file-size); skipped"
        )
    return decode_source(path.read_bytes())


def decode_source(data: bytes) -> str:
    if b"\0" in data[:8192]:
        raise ValueError("binary file (contains NUL bytes); skipped")
    encoding = "utf-8-sig"
    for line in data.split(b"\n", 2)[:2]:  # PEP 263: a coding cookie on line 1 or 2
        match = _ENCODING_COOKIE.match(line)
        if match:
            encoding = match.group(1).decode("ascii")
            break
    try:
        return data.decode(encoding)
    except LookupError:
        raise ValueError(f"unknown encoding {encoding!r} in the coding declaration; skipped") from None
    except UnicodeDecodeError as exc:
        name = "UTF-8" if encoding == "utf-8-sig" else encoding
        raise ValueError(f"not valid {name} (byte {exc.start}); skipped") from None


def file_kind(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "a directory"
    if stat.S_ISFIFO(mode):
        return "a named pipe"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    return "not a file"


def check_syntax(path: str, text: str) -> ast.Module:
    """CPython's tree of ``text``; raises SyntaxError, RecursionError or MemoryError for
    what CPython cannot parse. The last few trees are kept: a file summarised for the bases
    of another file's classes is often parsed next, or checked soon after."""
    tree = _RECENT_TREES.pop(text, None)
    if tree is None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            tree = ast.parse(text, filename=path)
    _RECENT_TREES[text] = tree
    while len(_RECENT_TREES) > RECENT_TREES:
        del _RECENT_TREES[next(iter(_RECENT_TREES))]
    return tree


RECENT_TREES = 4
_RECENT_TREES: dict[str, ast.Module] = {}  # text -> its tree, oldest first


def definition_spans(tree: ast.Module) -> tuple[list, list]:
    """Every ``class`` and every ``def`` statement in source order (statements only: neither
    can sit inside an expression): classes as (line of ``class``, last line, lines of its
    ``__init__``), functions as (first line, decorators included, last line)."""
    classes: list[tuple[int, int, tuple[int, int] | None]] = []
    functions: list[tuple[int, int]] = []
    pending: list[ast.AST] = list(reversed(tree.body))
    while pending:
        stmt = pending.pop()
        if isinstance(stmt, ast.ClassDef):
            init = None
            for item in stmt.body:
                if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)) and item.name == "__init__":
                    init = statement_lines(item)
            classes.append((stmt.lineno, stmt.end_lineno or stmt.lineno, init))
        elif isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
            functions.append(statement_lines(stmt))
        children: list = []
        for name in ("body", "handlers", "orelse", "finalbody", "cases"):
            block = getattr(stmt, name, None)
            if block:
                children.extend(block)
        pending.extend(reversed(children))
    return classes, functions


def statement_lines(node: ast.stmt) -> tuple[int, int]:
    """A statement's first line, decorators included, and its last."""
    decorators = getattr(node, "decorator_list", ())
    return min([node.lineno, *(d.lineno for d in decorators)]), node.end_lineno or node.lineno


_SPARING = [False]


@contextmanager
def collector_spared():
    """Keep the trees parsed inside this block away from the cyclic garbage collector.

    A libcst tree is millions of small objects without a single cycle, and the collector
    would walk each of them in its young generations, again and again, for nothing. Each
    tree is frozen as soon as it is parsed (``gc.freeze``, see ``collector_paused``) and
    the block unfreezes everything when it ends, so cycles made meanwhile are collected
    later as usual and nothing leaks. The engine wraps each file's check in this block.
    """
    if _SPARING[0] or not gc.isenabled():
        yield
        return
    _SPARING[0] = True
    try:
        yield
    finally:
        _SPARING[0] = False
        gc.unfreeze()


@contextmanager
def collector_paused():
    """Around a parse: inside ``collector_spared``, no collection runs while the tree is
    built, and the tree is frozen after; elsewhere, nothing changes."""
    if not _SPARING[0]:
        yield
        return
    # No collection of the young garbage first: a freeze carries it along, and once unfrozen
    # it waits in the oldest generation for a full collection, but cyclic garbage is rare
    # here (a few thousand objects over a seventh of transformers) and the collection before
    # every parse cost 2% of the run.
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        gc.enable()
