"""Models the tree's scripts build: a file's own top-level code and argument-free functions
(``model = Net(depth=20)``, ``def build(): return Net(), torch.randn(8, 3, 32, 32)``), and
another script or a Markdown file's Python that imports a model and builds it with values it
gives (``train.py``, a README's ``v = ViT(image_size=256, ...)``)."""

from __future__ import annotations

import copy
import functools
import re
from pathlib import Path
from typing import Any

import libcst as cst

from gradlint.codefacts.modules import top_level_statements
from gradlint.codefacts.syntax import walk
from gradlint.files import display_path
from gradlint.frontends.python.example_input import ScriptShapes, Shape, split_factory_result
from gradlint.frontends.python.interpreter import CONTROL_FLOW, Abort, Frame, Interpreter
from gradlint.frontends.python.module_objects import walk_modules
from gradlint.frontends.python.values import ClassVal, FuncVal, Mod
from gradlint.markdown_code import DOCUMENT_SUFFIXES
from gradlint.names import from_module, starts_a_word
from gradlint.reading import line_start


def scripted_models(ctx: Any, classes: list[ClassVal], project: Any) -> dict[int, tuple[Mod, Interpreter, Shape | None]]:
    """Module-level functions without required arguments that return one of the file's models
    (alone or with an example input, whose shape comes along)."""
    found: dict[int, tuple[Mod, Interpreter, Shape | None]] = {}
    names = {c.name for c in classes}
    if not names:
        return found
    alternatives = "|".join(re.escape(n) for n in names)
    calls = re.compile(rf"(?:{alternatives})\s*\(")
    if not any(not line.lstrip().startswith("class ") for line in _matching_lines(ctx.source.text, calls)):
        return found
    for stmt in ctx.definitions.values():
        if type(stmt) is not cst.FunctionDef:
            continue
        params = stmt.params
        if any(p.default is None for p in [*params.posonly_params, *params.params, *params.kwonly_params]):
            continue
        if not _mentions(stmt.body, names):
            continue
        interp = Interpreter(project)
        try:
            result = interp.invoke(FuncVal(stmt, ctx), [], {})
        except (Abort, RecursionError):
            continue
        result, shape = split_factory_result(result)
        if isinstance(result, Mod) and result.cls in classes and id(result.cls) not in found:
            found[id(result.cls)] = (result, interp, shape)
    script = _module_script(ctx, classes, names, project)
    for cls_id, made in script.items():
        found.setdefault(cls_id, made)
    return found


ELSEWHERE_FILES = 8  # the other files (scripts, documents) run for one file's models, at most
OTHER_BUILDS = 2  # builds of one class by further files, tried where the first gives no estimate


def built_elsewhere(ctx: Any, classes: list[ClassVal], project: Any) -> dict[int, tuple]:
    """The file's models that need arguments, as another file of the tree builds them with
    values it gives (``train.py``: ``model = GPT(GPTConfig(n_layer=12))``; a README's
    ``v = ViT(image_size=256, ...)``): its top-level code and its functions that take no
    argument, run as the file's own are. What it built is the record's, labelled with the file
    that built it, which the file's result then depends on. Each entry ends with a function
    that gives further files' builds of the class, read only when asked (where the first build
    gives no estimate: a vocabulary read from a file)."""
    if not classes:
        return {}
    builders = _Builders(ctx, project)
    found = builders.scan(classes, lambda made: len(made) == len(classes))
    return {k: (*build, functools.partial(builders.more, k, classes)) for k, build in found.items()}


class _Builders:
    """The other files of the tree that call a class of ``ctx``, scripts before documents, run
    one after another, at most ``ELSEWHERE_FILES`` of them for one file."""

    def __init__(self, ctx: Any, project: Any) -> None:
        self.ctx, self.project = ctx, project
        self.keys: list[str] | None = None
        self.run: set[str] = set()  # the files run so far
        self.tried = 0

    def scan(self, classes: list[ClassVal], enough) -> dict[int, tuple]:
        project, ctx = self.project, self.ctx
        if self.keys is None:
            names = {c.name for c in classes}
            self.keys = sorted({k for n in names for k in project.callers.get(n, ()) if k != ctx.key},
                               key=lambda k: (k.lower().endswith(DOCUMENT_SUFFIXES), k))
        found: dict[int, tuple] = {}
        for key in self.keys:
            if self.tried >= ELSEWHERE_FILES or enough(found):
                break
            if key in self.run:
                continue
            remaining = [c for c in classes if id(c) not in found]
            other = project.context(project.given.get(key, key))
            if other.source is None or not _imports_from(other, ctx, {c.name for c in remaining}, project):
                continue
            self.tried += 1
            self.run.add(key)
            try:
                made = scripted_models(other, remaining, project)
            except RecursionError:
                continue
            if made:
                project.use(ctx, key)
            shown = display_path(Path(other.path))
            for cls_id, (mod, interp, shape) in made.items():
                found.setdefault(cls_id, (mod, interp, shape, f"as {shown} builds it"))
        return found

    def more(self, cls_id: int, classes: list[ClassVal]) -> list[tuple]:
        """Up to ``OTHER_BUILDS`` builds of one class by files not run so far."""
        wanted = [c for c in classes if id(c) == cls_id]
        builds = []
        while len(builds) < OTHER_BUILDS:
            found = self.scan(wanted, bool)
            if not found:
                break
            builds.append(found[cls_id])
        return builds


def _imports_from(other: Any, ctx: Any, names: set[str], project: Any) -> bool:
    """Whether ``other`` imports one of ``names`` from the file of ``ctx``, directly or through
    a package that imports it from there (``from pkg import GPT``, pkg/__init__.py importing
    it from pkg.model); a README may import the same name from module after module."""
    for stmt in other.source.module.body:
        if type(stmt) is not cst.SimpleStatementLine:
            continue
        for small in stmt.body:
            if type(small) is not cst.ImportFrom:
                continue
            if type(small.names) is cst.ImportStar:  # ``from models import *`` (PyTorch-GAN's scripts)
                wanted = sorted(names)
            else:
                wanted = [a.name.value for a in small.names if type(a.name) is cst.Name and a.name.value in names]
            if not wanted:
                continue
            key = project.module_key(from_module(small), other.path, project._readable)
            if key is not None and any(_defined_in(project, key, name, ctx.key) for name in wanted):
                return True
    return False


def _defined_in(project: Any, key: str, name: str, target: str, hops: int = 3) -> bool:
    """Whether ``name`` read from the module ``key`` is the one the file ``target`` defines."""
    if key == target:
        return True
    if hops == 0 or not key.endswith("__init__.py"):
        return False
    package = project.context(project.given.get(key, key))
    qualified = package.imports.get(name) if package.source is not None else None
    if qualified is None or "." not in qualified:
        return False
    module, _, attr = qualified.rpartition(".")
    inner = project.module_key(module, package.path)
    return inner is not None and _defined_in(project, inner, attr, target, hops - 1)


def _module_script(ctx: Any, classes: list[ClassVal], names: set[str], project: Any) -> dict:
    """Models built by the file's own top-level code (``model = Net(depth=20); model.apply(init)``)."""
    body = [inner for stmt in top_level_statements(ctx.source.module) for inner in (_main_block(stmt) or [stmt])]
    if not any(_mentions(stmt, names) for stmt in body if not _is_import(stmt)):
        return {}
    interp = Interpreter(project)
    frame = Frame(ctx)
    frame.locals["__name__"] = "__main__"
    relevant = set(names)  # only statements about the models run, and those about their results
    # and what sets an attribute of an object a model's statements read (``cfg =
    # GPT.get_default_config(); cfg.n_layer = 4; model = GPT(cfg)``)
    read = {n.value for stmt in body if not _is_import(stmt) and _mentions(stmt, names)
            for n in walk(stmt) if type(n) is cst.Name}
    shapes = ScriptShapes()
    taints = _Taints()
    found: dict[int, Mod] = {}
    for stmt in body:
        shapes.seen(stmt)
        if not _mentions(stmt, relevant) and not _sets_attribute_of(stmt, read):
            continue
        if _is_import(stmt):  # in order: a README imports one name from module after module
            try:
                interp.exec_stmt(stmt, frame)
            except (Abort, RecursionError, *CONTROL_FLOW):
                pass
            continue
        built = any(isinstance(v, Mod) for v in frame.locals.values())
        before = dict(frame.locals), interp.mutations, _fingerprint(frame.locals) if built else None
        saved = interp.incomplete, interp.reasons
        interp.incomplete, interp.reasons = False, []
        stopped = False
        try:
            interp.exec_stmt(stmt, frame)
        except (Abort, RecursionError, *CONTROL_FLOW):
            stopped = True
        delta = (interp.incomplete, interp.reasons)
        unchanged = interp.mutations == before[1] or _fingerprint(frame.locals) == before[2]
        if built and unchanged and not _may_change_layers(ctx, stmt, relevant):
            # after the model is built, code that changes nothing of it (a training loop over a
            # DataLoader) cannot make it unknown
            delta = (False, [])
        elif stopped:
            delta = (True, [*delta[1], ("the file's top-level code stopped early", interp.site)])
        interp.incomplete, interp.reasons = saved[0] or delta[0], saved[1] + delta[1][: max(0, 8 - len(saved[1]))]
        taints.ran(stmt, frame.locals, before[0], delta)
        if stopped and not (built and delta == (False, [])):
            taints.everything(delta)  # what was built before stays usable, though unknown
            break
        shapes.ran(interp, frame, stmt)
        for key, value in frame.locals.items():
            if isinstance(value, Mod):
                relevant.add(key)
                if value.cls in classes:
                    found[id(value.cls)] = value  # the last built of its class
    return {key: (mod, taints.interpreter_for(interp, mod), shapes.shapes.get(key))
            for key, mod in found.items()}


class _Taints:
    """What was unknown in the statements each local of a script depends on, so that a model
    is incomplete only for what its own statements could not know: a README builds model
    after model in one script, and one's unknown loop is not another's."""

    def __init__(self) -> None:
        self.names: dict[str, tuple[bool, list]] = {}
        self.mods: dict[int, tuple[bool, list]] = {}
        self.all: tuple[bool, list] = (False, [])  # from statements that bind nothing

    def ran(self, stmt: cst.CSTNode, now: dict, before: dict, delta: tuple[bool, list]) -> None:
        mentioned = {n for n in _read_names(stmt) if n in now}
        bound = {k for k, v in now.items() if before.get(k, _MISSING) is not v}
        inherited = _join(self.all, *(self.names.get(n, (False, [])) for n in mentioned))
        result = _join(inherited, delta)
        if delta[0] and not bound:
            self.all = _join(self.all, delta)  # a call for its effects: anything may depend on it
        for name in bound | mentioned:
            self.names[name] = result
            if isinstance(now.get(name), Mod):
                self.mods[id(now[name])] = _join(self.mods.get(id(now[name]), (False, [])), result)

    def everything(self, delta: tuple[bool, list]) -> None:
        self.all = _join(self.all, delta)
        self.mods = {k: _join(v, delta) for k, v in self.mods.items()}

    def interpreter_for(self, interp: Interpreter, mod: Mod) -> Interpreter:
        incomplete, reasons = _join(self.all, self.mods.get(id(mod), (False, [])))
        own = copy.copy(interp)
        own.incomplete, own.reasons = incomplete, list(reasons[:8])
        return own


_MISSING = object()


def _fingerprint(names: dict) -> list:
    """What of the script's models a statement may change: their modules, parameters and
    inits (a loop over a DataLoader sets attributes of other objects, which changes nothing)."""
    found: list = []
    for key, value in names.items():
        if isinstance(value, Mod):
            for name, mod in walk_modules(value):
                found.append((key, name, id(mod), len(mod.children)))
                found.extend((p, id(param), param.init if param is not None else None,
                              param.frozen if param is not None else None) for p, param in mod.params.items())
    return found


def _read_names(stmt: cst.CSTNode) -> set[str]:
    """Names a statement reads: those of ``x = f(y)``'s value, not the name it binds."""
    small = stmt.body[0] if type(stmt) is cst.SimpleStatementLine and len(stmt.body) == 1 else None
    if type(small) is cst.Assign:
        named = all(type(t.target) is cst.Name for t in small.targets)
    else:
        named = type(small) is cst.AnnAssign and type(small.target) is cst.Name and small.value is not None
    if named:
        stmt = small.value
    return {n.value for n in walk(stmt) if type(n) is cst.Name}


def _join(*taints: tuple[bool, list]) -> tuple[bool, list]:
    reasons: list = []
    for _, found in taints:
        reasons.extend(r for r in found if r not in reasons)
    return any(t[0] for t in taints), reasons


# calls that change a built model's weights or layers where the interpreter may not have
# followed them (the body of a loop over a DataLoader is not run), on a model or its weights
_INITS = re.compile(r"(normal|uniform|fill|zero|zeros|ones|copy|constant|eye|orthogonal|trunc_normal|"
                    r"xavier_uniform|xavier_normal|kaiming_uniform|kaiming_normal|dirac|sparse)_")
_MODEL_METHODS = frozenset({"apply", "load_state_dict", "requires_grad_", "add_module"})
_SETS_REQUIRES_GRAD = re.compile(r"\.requires_grad\s*=[^=]")
_WEIGHT_WORDS = re.compile(r"\b(weight|bias|data|param|params|parameters|named_parameters|modules|state_dict)\b")
# what makes a new tensor: ``Tensor(n, *D.output_shape).fill_(1.0)`` fills that, not D
_FRESH = re.compile(r"^(torch\.)?(cuda\.)?(Tensor|FloatTensor|LongTensor|zeros|ones|empty|full|rand|randn|"
                    r"tensor|zeros_like|ones_like|empty_like|full_like|Variable)$")
_CODE = cst.Module([])


def _may_change_layers(ctx: Any, stmt: cst.CSTNode, models: set[str]) -> bool:
    named = re.compile(r"\b(" + "|".join(map(re.escape, sorted(models))) + r")\b") if models else None

    def mentions(text: str) -> bool:  # a model or its weights
        return bool(_WEIGHT_WORDS.search(text)) or (named is not None and bool(named.search(text)))

    def touches(node: cst.CSTNode) -> bool:
        return mentions(_CODE.code_for_node(node))

    for line in ctx.source.code_of(stmt).splitlines():
        if _SETS_REQUIRES_GRAD.search(line) and mentions(line):
            return True
    for node in walk(stmt):
        if type(node) is not cst.Call:
            continue
        func = node.func
        name = func.attr.value if type(func) is cst.Attribute else func.value if type(func) is cst.Name else ""
        if name == "setattr":
            if node.args and touches(node.args[0].value):
                return True
            continue
        if not (_INITS.fullmatch(name) or name in _MODEL_METHODS or name.startswith("register_")):
            continue
        target = func.value if type(func) is cst.Attribute else None
        if target is None or _CODE.code_for_node(target).split(".")[-1] == "init":
            # ``nn.init.xavier_uniform_(w)``, ``kaiming_normal_(w)``: what it initialises
            if any(touches(arg.value) for arg in node.args):
                return True
            continue
        if type(target) is cst.Call and _FRESH.match(_CODE.code_for_node(target.func)):
            continue
        if touches(target):
            return True
    return False


def _matching_lines(text: str, pattern: re.Pattern) -> list[str]:
    """The lines, up to the match, where ``pattern`` matches at the start of a word."""
    return [text[line_start(text, m.start()): m.end()]
            for m in pattern.finditer(text) if starts_a_word(text, m)]


def _main_block(stmt: cst.CSTNode) -> list | None:
    """The statements of ``if __name__ == "__main__":``, each its own step of the script (the
    model built first, then sampled from or trained: what comes after cannot unmake it)."""
    if not (type(stmt) is cst.If and stmt.orelse is None and type(stmt.test) is cst.Comparison
            and type(stmt.body) is cst.IndentedBlock):
        return None
    test = stmt.test
    if not (type(test.left) is cst.Name and test.left.value == "__name__" and len(test.comparisons) == 1
            and type(test.comparisons[0].operator) is cst.Equal
            and type(test.comparisons[0].comparator) is cst.SimpleString
            and test.comparisons[0].comparator.evaluated_value == "__main__"):
        return None
    return [s for s in stmt.body.body if type(s) not in (cst.ClassDef, cst.FunctionDef)]


def _is_import(stmt: cst.CSTNode) -> bool:
    return type(stmt) is cst.SimpleStatementLine and all(
        type(s) in (cst.Import, cst.ImportFrom) for s in stmt.body)


def _sets_attribute_of(stmt: cst.CSTNode, names: set[str]) -> bool:
    """``cfg.n_layer = 4`` for ``cfg`` in ``names``."""
    if type(stmt) is not cst.SimpleStatementLine:
        return False
    return any(
        type(small) is cst.Assign and all(
            type(t.target) is cst.Attribute and type(t.target.value) is cst.Name
            and t.target.value.value in names for t in small.targets)
        for small in stmt.body
    )


def _mentions(node: cst.CSTNode, names: set[str]) -> bool:
    return any(type(n) is cst.Name and n.value in names for n in walk(node))
