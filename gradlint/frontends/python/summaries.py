"""Which classes of the tree cannot be nn.Modules, from CPython's trees alone.

The interpreter decides that a class is a module by resolving its bases until it meets a
layer of ``torch.nn`` (``Interpreter.make_class``), and that may mean parsing with libcst
every file on the way: a tokenizer or processor class in transformers drags in
``tokenization_utils_base.py`` or ``processing_utils.py``, thousands of lines, only to learn
that it is no module. This module follows the same bases through per-file summaries made
with ``ast`` (ten times cheaper) and answers False only when every base resolves, as the
interpreter would resolve it, to something that is no torch layer. Anything it cannot follow
(a star import, an alias assigned in code, a base that is a call) answers True, and the
interpreter decides as before.
"""

from __future__ import annotations

import ast
import builtins
from pathlib import Path
from typing import Any

from gradlint.frontends.python import stdlib
from gradlint.notebooks import read_code
from gradlint.reading import check_syntax

MAX_DEPTH = 64  # names followed in a row; transformers' processors sit seven files from their last base
_BUILTIN_NAMES = frozenset(dir(builtins))


class Summary:
    """A file's top-level names: classes with their bases, imports, and anything else."""

    def __init__(self, tree: ast.Module) -> None:
        self.names: dict[str, list[tuple]] = {}
        self.star = False
        pending: list[ast.stmt] = list(tree.body)
        while pending:
            stmt = pending.pop(0)
            if isinstance(stmt, ast.ClassDef):
                bases = [_dotted(b) for b in stmt.bases]
                if stmt.keywords and any(k.arg is None for k in stmt.keywords):
                    bases.append(None)  # class X(**kw): cannot follow
                self._add(stmt.name, ("class", bases, _own_init(stmt)))
            elif isinstance(stmt, ast.Import):
                for alias in stmt.names:
                    if alias.asname:
                        self._add(alias.asname, ("import", alias.name))
                    else:
                        head = alias.name.split(".")[0]
                        self._add(head, ("import", head))
            elif isinstance(stmt, ast.ImportFrom):
                module = "." * stmt.level + (stmt.module or "")
                for alias in stmt.names:
                    if alias.name == "*":
                        self.star = True
                        continue
                    joined = f"{module}.{alias.name}" if module and not module.endswith(".") else module + alias.name
                    self._add(alias.asname or alias.name, ("import", joined))
            elif isinstance(stmt, (ast.If, ast.Try, getattr(ast, "TryStar", ast.Try), ast.With, ast.For, ast.While)):
                for field in ("body", "orelse", "finalbody"):
                    pending[:0] = list(getattr(stmt, field, []) or [])
                for handler in getattr(stmt, "handlers", []) or []:
                    pending[:0] = list(handler.body)
                for name in _bound_names(stmt):
                    self._add(name, ("other",))
            elif _is_alias(stmt):
                self._add(stmt.targets[0].id, ("alias", _dotted(stmt.value)))  # PreTrainedTokenizer = PythonBackend
            else:
                for name in _bound_names(stmt):
                    self._add(name, ("other",))

    def _add(self, name: str, entry: tuple) -> None:
        self.names.setdefault(name, []).append(entry)


UNKNOWN_INIT = "?"


def _own_init(node: ast.ClassDef):
    """Whether the class's own ``__init__`` needs an argument (True or False), None when the
    body defines none, and UNKNOWN_INIT when that cannot be told from the body (``dataclass``
    writes one, an assignment may bind one). Other class decorators are ignored, as the
    interpreter ignores them."""
    for decorator in node.decorator_list:  # the interpreter knows no other class decorator
        if (_dotted(decorator.func if isinstance(decorator, ast.Call) else decorator) or "").endswith("dataclass"):
            return UNKNOWN_INIT
    found = None
    for stmt in node.body:
        if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)) and stmt.name == "__init__":
            args = stmt.args
            positional = [*args.posonlyargs, *args.args][1:]
            required = len(positional) > len(args.defaults)
            found = required or any(default is None for default in args.kw_defaults)
        elif "__init__" in _bound_names(stmt) or isinstance(stmt, (ast.If, ast.Try, ast.With)):
            return UNKNOWN_INIT
    return found


def _bound_names(stmt: ast.stmt) -> set[str]:
    """Names a statement binds at top level, other than classes and imports."""
    found: set[str] = set()
    if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
        found.add(stmt.name)
        return found
    targets: list[ast.AST] = []
    if isinstance(stmt, ast.Assign):
        targets = list(stmt.targets)
    elif isinstance(stmt, (ast.AnnAssign, ast.AugAssign, ast.For, ast.AsyncFor)):
        targets = [stmt.target]
    elif isinstance(stmt, (ast.With, ast.AsyncWith)):
        targets = [item.optional_vars for item in stmt.items if item.optional_vars is not None]
    elif isinstance(stmt, ast.Global):
        found.update(stmt.names)
    while targets:  # names, and names inside tuples and lists: ``Cls.attr = ...`` binds nothing
        target = targets.pop()
        if isinstance(target, ast.Name):
            found.add(target.id)
        elif isinstance(target, (ast.Tuple, ast.List)):
            targets.extend(target.elts)
        elif isinstance(target, ast.Starred):
            targets.append(target.value)
    if isinstance(stmt, (ast.Assign, ast.AnnAssign, ast.AugAssign, ast.Expr)):
        value = getattr(stmt, "value", None)
        for node in ast.walk(value) if value is not None else ():
            if isinstance(node, ast.NamedExpr) and isinstance(node.target, ast.Name):
                found.add(node.target.id)
    return found


def _is_alias(stmt: ast.stmt) -> bool:
    """``Name = other.name``: a second name for what the right side names."""
    return (isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Name)
            and _dotted(stmt.value) is not None)


def _dotted(expr: ast.expr) -> str | None:
    parts: list[str] = []
    while isinstance(expr, ast.Attribute):
        parts.append(expr.attr)
        expr = expr.value
    if isinstance(expr, ast.Name):
        parts.append(expr.id)
        return ".".join(reversed(parts))
    return None


class ModuleClasses:
    """Answers "may this class be an nn.Module?" for the classes of a project."""

    def __init__(self, project: Any) -> None:
        self.project = project
        self.summaries: dict[str, Summary | None] = {}
        self._answers: dict[tuple[str, str], bool] = {}  # (file key, name) -> _name's answer

    def summary(self, ctx: Any) -> Summary | None:
        if ctx.key not in self.summaries:
            self.summaries[ctx.key] = _summarise(ctx)
        return self.summaries[ctx.key]

    def may_be_module(self, ctx: Any, bases: list[str | None]) -> bool:
        try:
            return any(self._name(ctx, base, 0) for base in bases)
        except RecursionError:
            return True

    def _name(self, ctx: Any, dotted: str | None, depth: int) -> bool:
        """May the name ``dotted``, read in file ``ctx``, be (or lead to) a torch layer?

        Answers are kept: the bases of a tree's classes meet again in a few shared files.
        A name met again while it is still being followed (an import cycle) answers True
        meanwhile; True is always a safe answer, and a False is only ever reached when
        every path was followed to its end."""
        if dotted is None or depth > MAX_DEPTH:
            return True
        key = (ctx.key, dotted)
        known = self._answers.get(key)
        if known is None:
            self._answers[key] = True
            known = self._answers[key] = self._followed(ctx, dotted, depth)
        return known

    def _followed(self, ctx: Any, dotted: str, depth: int) -> bool:
        summary = self.summary(ctx)
        if summary is None:
            return True
        head, _, rest = dotted.partition(".")
        entries = summary.names.get(head)
        if not entries:
            if summary.star:
                return True
            # not defined in the file: a builtin base such as object or Exception is no layer
            return not (head in _BUILTIN_NAMES and not rest)
        for entry in entries:
            if entry[0] == "class":
                if rest or any(self._name(ctx, base, depth + 1) for base in entry[1]):
                    return True
            elif entry[0] == "import":
                if self._qualified(ctx, entry[1] + ("." + rest if rest else ""), depth + 1):
                    return True
            elif entry[0] == "alias":
                if self._name(ctx, entry[1] + ("." + rest if rest else ""), depth + 1):
                    return True
            else:
                return True
        return False

    def _qualified(self, ctx: Any, qualified: str, depth: int) -> bool:
        """As ``Interpreter.import_value`` resolves an imported name."""
        if depth > MAX_DEPTH:
            return True
        if qualified == "torch" or qualified.startswith("torch."):
            return True
        if qualified.split(".")[0] in stdlib.NAMESPACES:
            return False  # math, functools, ...: never a layer
        found = self._import_target(ctx, qualified)
        if found is None:
            return False  # no class of the tree: unknown to the interpreter too
        target, attr = found
        if target is ctx:
            return True
        return self._name(target, attr, depth + 1)

    def _import_target(self, ctx: Any, qualified: str) -> tuple[Any, str] | None:
        """The file of the tree an imported name comes from, and its name there, as
        ``Interpreter.import_value`` finds them; None for a module object (not a class), a
        name of an unknown top-level package, or a module outside the tree."""
        if self.project.resolve_module(qualified, ctx) is not None:
            return None  # a module object
        dots = qualified[: len(qualified) - len(qualified.lstrip("."))]
        module, _, attr = qualified[len(dots):].rpartition(".")
        if not module and not dots:
            return None  # the interpreter cannot see into an unknown top-level package
        target = self.project.resolve_module(dots + module, ctx)
        return (target, attr) if target is not None else None

    def inherited_init_needs_arguments(self, ctx: Any, bases: list[str | None]) -> bool:
        """True when a class with these bases and no ``__init__`` of its own inherits one that
        needs an argument, as the interpreter would find it; False when that is not certain.
        Followed along first bases while the method resolution order is sure to take them,
        so that a model's base in another file need not be parsed with libcst to learn it."""
        try:
            for _ in range(MAX_DEPTH):
                if not bases:
                    return False
                found = self._class_entry(ctx, bases[0], 0)
                if found is None:
                    return False
                ctx, entry = found
                if entry[2] is not None:
                    return entry[2] is True  # the first base always comes next in the MRO
                if len(bases) != 1:
                    return False  # what follows depends on the other bases
                bases = entry[1]
        except RecursionError:
            pass
        return False

    def _class_entry(self, ctx: Any, dotted: str | None, depth: int) -> tuple[Any, tuple] | None:
        """The file and summary entry of the class ``dotted`` names in ``ctx``, when it names
        one class of the tree beyond doubt."""
        if dotted is None or depth > MAX_DEPTH:
            return None
        summary = self.summary(ctx)
        head, _, rest = dotted.partition(".")
        entries = summary.names.get(head) if summary is not None else None
        if not entries or len(entries) != 1:
            return None
        entry = entries[0]
        if entry[0] == "class":
            return (ctx, entry) if not rest else None
        if entry[0] != "import":
            return None
        qualified = entry[1] + ("." + rest if rest else "")
        found = None if qualified.startswith("torch") else self._import_target(ctx, qualified)
        if found is None or found[0] is ctx:
            return None
        return self._class_entry(found[0], found[1], depth + 1)


def _summarise(ctx: Any) -> Summary | None:
    try:
        source = ctx.__dict__.get("source")
        text = source.text if source is not None else read_code(Path(ctx.path), None)[0]
        return Summary(check_syntax(ctx.path, text))  # the tree is kept for a parse that follows
    except (OSError, ValueError, SyntaxError, RecursionError, MemoryError):
        return None
