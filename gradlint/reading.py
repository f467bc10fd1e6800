"""Reading a source file safely: regular files only, size-limited, decoded as Python does,
and checked by CPython's parser before libcst's native parser (which crashes on nesting
past the interpreter's limits) ever sees it. Imports no libcst: plain files never pay for it."""

from __future__ import annotations

import ast
import codecs
import gc
import re
import warnings
from contextlib import contextmanager
from pathlib import Path

from gradlint.bounded import NotRegularFile, read_bytes

# no size limit for a file named on purpose (max-file-size unset); os.read still reads in chunks
_NO_LIMIT = 1 << 62

_ENCODING_COOKIE = re.compile(rb"^[ \t\f]*#.*?coding[:=][ \t]*([-\w.]+)")

# CPython's tokenizer ends a line at "\r\n", a lone "\r" or "\n", and nowhere else. Every
# pass over the text that counts lines must agree with the line numbers of its tree:
# str.splitlines also splits at \v, \f, \x1c-\x1e, \x85, \u2028 and \u2029, which
# Python source may hold in strings and comments, and split("\n") misses the lone "\r".
LINE_END = re.compile(r"\r\n?|\n")
_LINE_ENDS = re.compile(r"(\r\n?|\n)")


def python_lines(text: str) -> list[str]:
    """The lines of ``text`` as CPython numbers them (line n at index n - 1), without their
    ends; one more than there are line ends, as ``str.split`` gives."""
    if "\r" not in text:
        return text.split("\n")  # the same split, several times faster
    return LINE_END.split(text)


def lines_and_ends(text: str) -> tuple[list[str], list[str]]:
    """``python_lines(text)`` and the end of each line (the last one's is "")."""
    if "\r" not in text:
        lines = text.split("\n")
        return lines, ["\n"] * (len(lines) - 1) + [""]
    parts = _LINE_ENDS.split(text)
    return parts[0::2], [*parts[1::2], ""]


def line_offsets(text: str) -> list[int]:
    """The offset at which each line of ``text`` starts, as CPython numbers the lines."""
    return [0] + [match.end() for match in LINE_END.finditer(text)]


def line_start(text: str, offset: int) -> int:
    """The offset where the line holding ``offset`` starts."""
    return max(text.rfind("\n", 0, offset), text.rfind("\r", 0, offset)) + 1


def cpython_newlines(text: str) -> str:
    r"""``text`` as CPython's tokenizer reads it: every line end made "\n", so that no line
    or column moves. As CPython's ``translate_newlines`` does, a text ending in "\r\n" gets
    one "\n" more: that is why a backslash and "\r\n" may end a file for CPython while a
    backslash and "\n" may not."""
    if "\r" not in text:
        return text
    return LINE_END.sub("\n", text) + ("\n" if text.endswith("\r\n") else "")


class NotAnalysable(ValueError):
    """Valid Python that gradlint cannot analyse; the message is the line to report."""


# libcst's tree takes some kilobytes for each node of CPython's tree: past this many nodes a
# file would take gigabytes to parse; the largest hand-written modules stay well below
MAX_SYNTAX_NODES = 250_000


def check_size(text: str, statements: list[ast.stmt]) -> None:
    """NotAnalysable when ``statements`` (CPython's) hold more than ``MAX_SYNTAX_NODES``."""
    limit = MAX_SYNTAX_NODES
    if 2 * len(text) < limit:
        return  # CPython's tree has at most about two nodes a character (``a@b@b``)
    count = 0
    pending: list[ast.AST] = list(statements)
    children = ast.iter_child_nodes
    while pending:
        count += 1
        if count > limit:
            _RECENT_TREES.pop(text, None)  # a tree this large is not worth its memory
            raise NotAnalysable(f"too large to analyse: more than {limit:,} syntax nodes; skipped")
        pending.extend(children(pending.pop()))


def read_text(path: Path, max_size: int | None) -> str:
    """The file's text, or an OSError / ValueError whose message is the one line we report."""
    return decode_source(read_source_bytes(path, max_size))


def read_source_bytes(path: Path, max_size: int | None, what: str = "file") -> bytes:
    """The bytes of a regular file of at most ``max_size`` bytes (a module's source, or a
    notebook's JSON), or an OSError / ValueError whose message is the one line we report.

    Opened without blocking and checked on the open descriptor (``bounded.read_bytes``): a FIFO
    swapped in after a ``stat`` cannot hang the run.
    """
    try:
        return read_bytes(path, _NO_LIMIT if max_size is None else max_size)
    except NotRegularFile as exc:
        if exc.kind is not None:
            raise ValueError(f"not a regular file ({exc.kind}); skipped") from None
        size = exc.size or 0
        raise ValueError(
            f"{what} is {size / 1e6:.1f} MB, over the {max_size / 1e6:.1f} MB limit (max-file-size); skipped"
        ) from None


def decode_source(data: bytes) -> str:
    head = data[:8192]
    if b"\0" in head:
        width = _wide_text(head)
        if width:
            # CPython reads neither (and a coding declaration cannot name them: it must be
            # readable as ASCII), so the text would never run or import
            raise ValueError(
                f"{width} text; Python source must be UTF-8 or an ASCII-compatible encoding "
                "declared by a coding comment (PEP 263); skipped"
            )
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


_WIDE_BOMS = (
    (codecs.BOM_UTF32_LE, "UTF-32"),  # before UTF-16's, which begins it
    (codecs.BOM_UTF32_BE, "UTF-32"),
    (codecs.BOM_UTF16_LE, "UTF-16"),
    (codecs.BOM_UTF16_BE, "UTF-16"),
)


def _wide_text(head: bytes) -> str | None:
    """The name of the wide encoding (UTF-16, UTF-32) the first bytes of a file are text
    in: by its byte-order mark, or, without one, by a NUL in most of every other byte and
    in none of the rest (text in the ASCII range, as source code mostly is)."""
    for bom, name in _WIDE_BOMS:
        if head.startswith(bom):
            return name
    pairs = len(head) // 2 * 2
    for nuls, rest in ((head[1:pairs:2], head[0:pairs:2]), (head[0:pairs:2], head[1:pairs:2])):
        if pairs >= 16 and nuls.count(0) >= len(nuls) * 3 // 4 and 0 not in rest:
            return "UTF-16"
    return None


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
    # here, and a collection before every parse costs more than it frees.
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        gc.enable()


CALL = re.compile(r"\b([A-Za-z_][A-Za-z0-9_]*)\s*\(")


def names_called_outside_classes(text: str) -> set[str]:
    """Names called in top-level code or functions, not inside class bodies (by indentation)."""
    names: set[str] = set()
    in_class = False
    for line in python_lines(text):
        if line and not line[0].isspace() and not line.startswith(("#", ")", "]", "}", "@")):
            in_class = line.startswith("class ")
        if not in_class and "(" in line:
            names.update(CALL.findall(line))
    return names
