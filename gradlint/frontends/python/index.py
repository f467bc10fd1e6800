"""The linted tree as the interpreter sees it: files by module name, parsed lazily, once.

Building the index costs only path arithmetic, so forked workers share it for
free; a file is read and parsed the first time something imports from it, and
what it defines at top level is summarised (name -> statement) without walking
function bodies.
"""

from __future__ import annotations

import os
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Any

import libcst as cst

from gradlint.markdown_code import DOCUMENT_SUFFIXES, python_of_document
from gradlint.names import ImportMap, from_module
from gradlint.notebooks import is_notebook, read_code
from gradlint.reading import names_called_outside_classes, python_lines, read_text
from gradlint.source import SourceFile

_BESIDE_LIMIT = 1 << 20  # bytes: a module found beside the importer and read unasked


def _key(path: Path | str) -> str:
    return os.path.normcase(os.path.abspath(str(path)))


@lru_cache(maxsize=65536)
def _is_package(folder: Path) -> bool:
    return (folder / "__init__.py").exists()


def module_names(path: Path) -> list[str]:
    """Dotted names a file may be imported as, longest first: a.b.c, b.c, c.

    The longest comes from the nearest folder without ``__init__.py``; shorter
    suffixes let ``from models.blocks import X`` find models/blocks.py whatever
    folder the run started from.
    """
    parts = [path.stem] if path.stem != "__init__" else []
    folder = path.parent
    while _is_package(folder) and folder.parent != folder:
        parts.insert(0, folder.name)
        folder = folder.parent
    # the folders above too, as long as they can be package names: namespace packages
    # (``ldm/modules/diffusionmodules/util.py`` with no ``ldm/__init__.py`` imports as
    # ``ldm.modules.diffusionmodules.util``) and src/ layouts
    while folder.name.isidentifier() and folder.parent != folder:
        parts.insert(0, folder.name)
        folder = folder.parent
    return [".".join(parts[i:]) for i in range(len(parts)) if parts[i:]]


class FileContext:
    """One file of the tree: its source, imports, and top-level definitions."""

    def __init__(self, project: Project, path: str, source: SourceFile | None = None) -> None:
        self.project = project
        self.path = path  # as given in the file list (or as the engine shows it)
        self.key = _key(path)
        self._source = source
        self.globals: dict[str, Any] = {}  # evaluated top-level names
        self.evaluating: set[str] = set()

    @cached_property
    def source(self) -> SourceFile | None:
        if self._source is not None:
            return self._source
        try:
            # the engine hands in files under max-file-size, and modules found beside an
            # importer are capped at _BESIDE_LIMIT before they get here
            if self.path.lower().endswith(DOCUMENT_SUFFIXES):
                text = python_of_document(self.path, read_text(Path(self.path), _BESIDE_LIMIT))
            else:
                text, _ = read_code(Path(self.path), None)
            return SourceFile.parse_shared(self.path, text)
        except (OSError, ValueError, SyntaxError, cst.ParserSyntaxError, RecursionError, MemoryError):
            return None

    @cached_property
    def imports(self) -> dict[str, str]:
        return ImportMap(self.source.module).aliases if self.source else {}

    @cached_property
    def star_imports(self) -> list[str]:
        """Modules the file imports every name of (``from models import *``), in order."""
        if self.source is None:
            return []
        found = []
        for stmt in self.source.module.body:
            if type(stmt) is cst.SimpleStatementLine:
                for small in stmt.body:
                    if type(small) is cst.ImportFrom and type(small.names) is cst.ImportStar:
                        found.append(from_module(small))
        return found

    @cached_property
    def definitions(self) -> dict[str, cst.CSTNode]:
        """Top-level name -> the statement that (last) defines it, looking into if/try blocks."""
        table: dict[str, cst.CSTNode] = {}
        if self.source is None:
            return table
        pending = list(self.source.module.body)
        while pending:
            stmt = pending.pop(0)
            if type(stmt) in (cst.ClassDef, cst.FunctionDef):
                table[stmt.name.value] = stmt
            elif type(stmt) is cst.SimpleStatementLine:
                for small in stmt.body:
                    if type(small) is cst.Assign:
                        for target in small.targets:
                            for name in _target_names(target.target):
                                table[name] = small
                    elif type(small) is cst.AnnAssign and small.value is not None:
                        for name in _target_names(small.target):
                            table[name] = small
            elif type(stmt) is cst.If:
                pending[:0] = list(stmt.body.body) + (list(stmt.orelse.body.body) if type(stmt.orelse) is cst.Else else [])
            elif type(stmt) is cst.Try:
                pending[:0] = list(stmt.body.body)
        return table

    def location(self, node: cst.CSTNode):
        """Where ``node`` is, worked out only if a finding or message reads it."""
        from gradlint.diagnostics import DeferredLocation

        # the path a finding shows is the parsed file's (the engine's display path)
        path = self.source.path if self.source is not None else self.path
        return DeferredLocation(path, lambda: self.resolve_location(node))

    def line_location(self, node: cst.CSTNode):
        """Where ``node`` is, to the line, found by its text: no pass over the whole tree, for
        the reasons a model record gives (finding the line of every reason by positions would
        cost a second parse of each file)."""
        from gradlint.diagnostics import DeferredLocation, Location

        path = self.source.path if self.source is not None else self.path
        return DeferredLocation(path, lambda: Location(path, self._line_of(node) if self.source is not None else 1, 1))

    def class_location(self, node: cst.ClassDef):
        """Where a class's name is; cheap, as models are named by their class."""
        found = self.source.class_location(node) if self.source is not None else None
        return found if found is not None else self.location(node.name)

    def resolve_location(self, node: cst.CSTNode):
        from gradlint.diagnostics import Location

        if self.source is None:
            return Location(self.path, 1, 1)
        if not self.positions_fail:
            try:
                return self.source.location(node)
            except RecursionError:  # libcst's position pass recurses; absurdly nested files defeat it
                self.positions_fail = True
        return Location(self.source.path, self._line_of(node), 1)

    positions_fail = False

    def _line_of(self, node: cst.CSTNode) -> int | None:
        """The line of a class or call by text search, when positions are unavailable."""
        try:
            head = python_lines(self.source.module.code_for_node(node).strip())[0]
        except (RecursionError, IndexError):
            return None
        for number, line in enumerate(self.source.lines, 1):
            if head and head in line:
                return number
        return None


def _target_names(target: cst.BaseExpression) -> list[str]:
    if type(target) is cst.Name:
        return [target.value]
    if type(target) in (cst.Tuple, cst.List):
        names: list[str] = []
        for element in target.elements:
            names.extend(_target_names(element.value))
        return names
    return []


class Project:
    """What the linted tree defines, across files, for resolving imports."""

    def __init__(self, files: list[Path], documents: list[Path] | None = None) -> None:
        self.files = [Path(f) for f in files]
        self.documents = [Path(d) for d in documents or ()]
        self.by_module: dict[str, list[str]] = {}
        self.given: dict[str, str] = {}  # normalised absolute path -> path as given
        for f in self.files:
            if f.suffix not in (".py", ".pyi"):
                continue
            key = _key(f)
            self.given[key] = str(f)
            for name in module_names(f):
                self.by_module.setdefault(name, []).append(key)
        self.contexts: dict[str, FileContext] = {}
        self.used: dict[str, set[str]] = {}  # file key -> keys of files whose definitions it used
        self.built: set[str] = set()
        self.failures: dict[str, str] = {}  # "path:Class" -> the internal error that skipped it
        self.readable: dict[Path, bool] = {}  # paths outside the linted files: _readable's answers

    @cached_property
    def classes(self):
        """Which classes may be nn.Modules, from CPython's trees of the files (cheap)."""
        from gradlint.frontends.python.summaries import ModuleClasses

        return ModuleClasses(self)

    def may_have_models(self, path: str, tree) -> bool:
        """Whether a class of the file (``tree``: CPython's tree of it) may be an nn.Module.
        When none may, the file's graphs are known to be none, without parsing it."""
        from gradlint.frontends.python.summaries import Summary

        ctx = self.context(path)
        summary = Summary(tree)
        self.classes.summaries[ctx.key] = summary
        for entries in summary.names.values():
            for entry in entries:
                if entry[0] == "class" and entry[1] and self.classes.may_be_module(ctx, entry[1]):
                    return True
        self.built.add(ctx.key)
        return False

    @classmethod
    def for_files(cls, files: list[Path], documents: list[Path] | None = None) -> Project:
        return cls(files, documents)

    @cached_property
    def callers(self) -> dict[str, list[str]]:
        """Name -> the files of the tree that call it outside a class body (the tree's
        scripts, its notebooks' cells and the Python blocks of its Markdown files): where a
        model whose constructor needs arguments may be built. Read once, when a record first
        asks."""
        found: dict[str, list[str]] = {}
        for path in [*self.files, *self.documents]:
            document = path.name.lower().endswith(DOCUMENT_SUFFIXES)
            if path.suffix != ".py" and not document and not is_notebook(path):
                continue
            try:
                text = (python_of_document(str(path), read_text(path, _BESIDE_LIMIT)) if document
                        else read_code(path, _BESIDE_LIMIT)[0])
            except (OSError, ValueError):
                continue
            key = _key(path)
            self.given.setdefault(key, str(path))
            for name in names_called_outside_classes(text):
                found.setdefault(name, []).append(key)
        return found

    def called_elsewhere(self, path: str, names: list[str]) -> bool:
        """Whether a file other than ``path`` calls one of ``names`` (see ``callers``)."""
        here = _key(path)
        callers = self.callers
        return any(key != here for name in names for key in callers.get(name, ()))

    def context(self, path: str, source: SourceFile | None = None) -> FileContext:
        key = _key(path)
        ctx = self.contexts.get(key)
        if ctx is None:
            ctx = FileContext(self, self.given.get(key, path), source)
            self.contexts[key] = ctx
        elif source is not None and "source" not in ctx.__dict__:
            ctx._source = source  # the engine's parse of the file, before ours was needed
        elif source is not None:
            held = ctx.__dict__["source"]
            if held is not None and held.path != source.path and held.text == source.text:
                # parsed first for a file that imports it: the same tree, shown as the file's
                # own check shows it (what its records and findings say)
                ctx.__dict__["source"] = SourceFile(source.path, held.text, held.module, held.spans)
        return ctx

    def resolve_module(self, dotted: str, importer: FileContext) -> FileContext | None:
        """The file a dotted (or relative, leading dots) module name refers to, or None."""
        key = self.module_key(dotted, importer.path, self._readable)
        if key is None and not dotted.startswith("."):
            key = self._beside(dotted, importer)
        return self._use(importer, key) if key is not None else None

    def imported_source(self, importer: str, module: str, accept=None) -> SourceFile | None:
        """The parsed file that ``module`` (dotted, or relative with leading dots) names when
        read in ``importer``, resolved as the interpreter resolves it, and recorded as a
        dependency of ``importer`` whether or not it is used: the caller's answer depends on
        its text. ``accept(text)`` may turn the file down before it is parsed."""
        ctx = self.context(importer)
        key = self.module_key(module, importer, self._readable)
        if key is None and not module.startswith("."):
            key = self._beside(module, ctx)
        if key is None:
            return None
        target = self._use(ctx, key)
        if accept is not None:
            parsed = target.__dict__.get("source") or target._source
            try:  # the text of a file parsed already is at hand
                text = parsed.text if parsed is not None else read_text(Path(target.path), _BESIDE_LIMIT)
            except (OSError, ValueError):
                return None
            if not accept(text):
                return None
        source = target.source
        if source is not None:
            source.use_resolver(self)
        return source

    def held_source(self, path: str, text: str) -> SourceFile | None:
        """The whole tree of ``path`` parsed for a file that imports it, when its text is
        ``text`` (``path``'s own check need not parse it again)."""
        ctx = self.contexts.get(_key(path))
        if ctx is None:
            return None
        source = ctx.__dict__.get("source") or ctx._source
        if source is None or source.text != text or getattr(source, "partial", False):
            return None
        return source if source.path == path else SourceFile(path, text, source.module, source.spans)

    def module_key(self, dotted: str, importer: str, readable=None) -> str | None:
        """The key of the linted file that a dotted (or relative, leading dots) module name
        read in ``importer`` refers to, recording nothing; ``readable(path)`` may admit a
        file outside the linted ones to a relative import."""
        if dotted.startswith("."):
            level = len(dotted) - len(dotted.lstrip("."))
            folder = Path(importer).parent
            for _ in range(level - 1):
                folder = folder.parent
            rest = dotted.lstrip(".")
            base = folder.joinpath(*rest.split(".")) if rest else folder
            for candidate in (base.with_suffix(".py") if rest else None, base / "__init__.py"):
                if candidate is not None and (
                    _key(candidate) in self.given or (readable is not None and readable(candidate))
                ):
                    return _key(candidate)
            return None
        keys = self.by_module.get(dotted)
        if not keys:
            return None
        if len(keys) > 1:  # the same name in two places: the one nearest the importer
            here = _key(importer)
            keys = sorted(keys, key=lambda k: -len(os.path.commonprefix([k, here])))
        return keys[0]

    def _beside(self, dotted: str, importer: FileContext) -> str | None:
        """A module the linted files do not include, found as Python would find it when the
        importer runs as a script: in the importer's own folder (``from blocks import X``
        next to ``model.py``). Read like the linted files, never imported."""
        folder = Path(importer.path).parent
        base = folder.joinpath(*dotted.split("."))
        for candidate in (base.with_suffix(".py"), base / "__init__.py"):
            if self._readable(candidate):
                return _key(candidate)
        return None

    def _readable(self, candidate: Path) -> bool:
        """A file outside the linted set that imports may still read; it joins the index.
        Asked once per path in a run: the analyses look the same names up file after file."""
        known = self.readable.get(candidate)
        if known is None:
            known = self.readable[candidate] = self._stat_readable(candidate)
        return known

    def _stat_readable(self, candidate: Path) -> bool:
        try:
            if not candidate.is_file() or candidate.stat().st_size > _BESIDE_LIMIT:
                return False
        except OSError:
            return False
        self.given.setdefault(_key(candidate), str(candidate))
        return True

    def use(self, importer: FileContext, key: str) -> FileContext:
        """Record that what is worked out for ``importer`` depends on the file ``key``."""
        return self._use(importer, key)

    def _use(self, importer: FileContext, key: str) -> FileContext:
        importer_key = importer.key
        if key != importer_key:
            self.used.setdefault(importer_key, set()).add(key)
        return self.context(self.given.get(key, key))

    def release(self, ctx: FileContext) -> None:
        """Forget a checked file's tree unless another file imports from it: workers stay small."""
        key = ctx.key
        partial = getattr(ctx.__dict__.get("source", ctx._source), "partial", False)
        if partial or not any(key in deps for deps in self.used.values()):
            # a partial parse lacks what the file's own checks do not read, which another
            # file may import: its importers parse the file whole
            self.contexts.pop(key, None)

    def recorded_dependencies(self, path: str) -> set[str]:
        """Other files of the tree that what has been worked out for ``path`` so far read."""
        return self._closure(_key(path))

    def dependencies_of(self, path: str) -> set[str]:
        """Other files of the tree whose definitions the graphs of ``path`` used."""
        key = _key(path)
        if key in self.given and key not in self.built:
            from gradlint.frontends.python.build import build_graphs_of

            build_graphs_of(self.context(self.given[key]), self)
        return self._closure(key)

    def _closure(self, key: str) -> set[str]:
        seen: set[str] = set()
        stack = [key]
        while stack:
            for dep in self.used.get(stack.pop(), ()):
                if dep not in seen and dep != key:
                    seen.add(dep)
                    stack.append(dep)
        return {self.given.get(k, k) for k in seen}
