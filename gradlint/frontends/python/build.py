"""One layer graph per nn.Module class of a file: build the model, then walk its forward."""

from __future__ import annotations

import re
from typing import Any

import libcst as cst

from gradlint.codefacts.syntax import walk
from gradlint.frontends.python.arguments import fill, may_fill
from gradlint.frontends.python.example_input import (
    Shape,
    declared_shape,
    script_shapes,
    split_factory_result,
)
from gradlint.frontends.python.forward_walk import walk_forward
from gradlint.frontends.python.inside import (
    StandInBuild,
    block_of_stand_in_model,
    built_inside,
    stand_in_steps,
)
from gradlint.frontends.python.interpreter import CONTROL_FLOW, Abort, Frame, Interpreter
from gradlint.frontends.python.values import UNKNOWN, ClassVal, FuncVal, Mod
from gradlint.ir import LayerGraph
from gradlint.names import dotted, starts_a_word
from gradlint.reading import line_start, python_lines

FILE_STEPS = 2_000_000  # all the classes of one file together
# the builds on stand-in sizes of one file together: they add reach, and a file of many
# blocks would otherwise pay for each block twice over
STAND_IN_STEPS = 50_000


def module_classes(interp: Interpreter, ctx: Any, blocks: bool = False) -> list[ClassVal]:
    classes = []
    built_outside = _names_called_outside_classes(ctx.source.text)
    called = set(_CALL.findall(ctx.source.text)) if blocks else set()  # a block a model of the file may build
    for name, stmt in list(ctx.definitions.items()):
        if not isinstance(stmt, cst.ClassDef) or not stmt.bases:
            continue
        if (_needs_arguments(stmt) and name not in built_outside
                and not (blocks and (name in called or may_fill(_own_init(stmt), counts=True)))):
            continue  # cheap exit before resolving bases, which may mean parsing other files
        bases = [dotted(arg.value) for arg in stmt.bases if arg.keyword is None and arg.star == ""]
        summaries = interp.project.classes
        if not summaries.may_be_module(ctx, bases):
            continue  # its bases lead to no torch layer: no need to parse the files they sit in
        if name not in built_outside and _own_init(stmt) is None and summaries.inherited_init_needs_arguments(ctx, bases):
            continue  # as above, for an __init__ inherited from a base (``class Head(Base): ...``)
        try:
            value = interp.global_value(ctx, name)
        except (Abort, RecursionError):
            continue
        if isinstance(value, ClassVal) and value.is_module and value.node is stmt:
            classes.append(value)
    return classes


def _own_init(node: cst.ClassDef) -> cst.FunctionDef | None:
    body = node.body.body if isinstance(node.body, cst.IndentedBlock) else ()
    return next((s for s in body if isinstance(s, cst.FunctionDef) and s.name.value == "__init__"), None)


def _takes_arguments(init: cst.FunctionDef) -> bool:
    """An argument without a default after ``self`` (``def __init__(self, config)``)."""
    params = init.params
    positional = (list(params.posonly_params) + list(params.params))[1:]
    return any(p.default is None for p in [*positional, *params.kwonly_params])


def _needs_arguments(node: cst.ClassDef) -> bool:
    """The class's own __init__ takes an argument without a default."""
    init = _own_init(node)
    return init is not None and _takes_arguments(init)


_CALL = re.compile(r"\b([A-Za-z_][A-Za-z0-9_]*)\s*\(")


def _names_called_outside_classes(text: str) -> set[str]:
    """Names called in top-level code or functions, not inside class bodies (by indentation)."""
    names: set[str] = set()
    in_class = False
    for line in python_lines(text):
        if line and not line[0].isspace() and not line.startswith(("#", ")", "]", "}", "@")):
            in_class = line.startswith("class ")
        if not in_class and "(" in line:
            names.update(_CALL.findall(line))
    return names


def _factories(ctx: Any, classes: list[ClassVal], project: Any) -> dict[int, tuple[Mod, Interpreter, Shape | None]]:
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
        if not isinstance(stmt, cst.FunctionDef):
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


def _module_script(ctx: Any, classes: list[ClassVal], names: set[str], project: Any) -> dict:
    """Models built by the file's own top-level code (``model = Net(depth=20); model.apply(init)``)."""
    body = [stmt for stmt in ctx.source.module.body
            if not isinstance(stmt, (cst.ClassDef, cst.FunctionDef)) and not _is_import(stmt)]
    if not any(_mentions(stmt, names) for stmt in body):
        return {}
    interp = Interpreter(project)
    frame = Frame(ctx)
    frame.locals["__name__"] = "__main__"
    relevant = set(names)  # only statements about the models run, and those about their results
    for stmt in body:
        if not _mentions(stmt, relevant):
            continue
        built = any(isinstance(v, Mod) for v in frame.locals.values())
        before = interp.incomplete, len(interp.reasons), interp.mutations
        stopped = False
        try:
            interp.exec_stmt(stmt, frame)
        except (Abort, RecursionError, *CONTROL_FLOW):
            stopped = True
        if built and interp.mutations == before[2] and not _may_change_layers(ctx, stmt, relevant):
            # after the model is built, code that changes nothing of it (a training loop over a
            # DataLoader) cannot make it unknown
            interp.incomplete = before[0]
            del interp.reasons[before[1]:]
        elif stopped:
            interp.unknown("the file's top-level code stopped early")  # what was built before stays usable
            break
        relevant.update(k for k, v in frame.locals.items() if isinstance(v, Mod))
    found: dict[int, tuple[Mod, Interpreter, Shape | None]] = {}
    shapes = script_shapes(interp, frame, body)
    for value in frame.locals.values():
        if isinstance(value, Mod) and value.cls in classes:
            found.setdefault(id(value.cls), (value, interp, shapes.get(id(value.cls))))
    return found


# calls that change a built model's weights or layers where the interpreter may not have
# followed them (the body of a loop over a DataLoader is not run), on a line that names
# the model or its weights
_CHANGES_LAYERS = re.compile(
    r"\.apply\(|load_state_dict|requires_grad_\(|\.requires_grad\s*=[^=]|add_module|register_|setattr\(|"
    r"\b(normal|uniform|fill|zero|zeros|ones|copy|constant|eye|orthogonal|trunc_normal|"
    r"xavier_uniform|xavier_normal|kaiming_uniform|kaiming_normal|dirac|sparse)_\("
)
_WEIGHT_WORDS = re.compile(r"\b(weight|bias|data|param|params|parameters|named_parameters|modules|state_dict)\b")


def _may_change_layers(ctx: Any, stmt: cst.CSTNode, models: set[str]) -> bool:
    for line in ctx.source.code_of(stmt).splitlines():
        if _CHANGES_LAYERS.search(line) and (_WEIGHT_WORDS.search(line) or any(
                re.search(rf"\b{re.escape(name)}\b", line) for name in models)):
            return True
    return False


def _matching_lines(text: str, pattern: re.Pattern) -> list[str]:
    """The lines, up to the match, where ``pattern`` matches at the start of a word."""
    return [text[line_start(text, m.start()): m.end()]
            for m in pattern.finditer(text) if starts_a_word(text, m)]


def _is_import(stmt: cst.CSTNode) -> bool:
    return isinstance(stmt, cst.SimpleStatementLine) and all(
        isinstance(s, (cst.Import, cst.ImportFrom)) for s in stmt.body)


def _mentions(node: cst.CSTNode, names: set[str]) -> bool:
    return any(type(n) is cst.Name and n.value in names for n in walk(node))


def build_graphs_of(ctx: Any, project: Any, estimated: Any = None, blocks: bool = True) -> list[LayerGraph]:
    project.built.add(ctx.key)
    if ctx.source is None or not _has_subclass(ctx.source.module):
        return []
    scout = Interpreter(project)
    classes = module_classes(scout, ctx, blocks)
    if not classes:
        return []
    # only a class that needs no argument, or that code outside the classes calls, can be
    # built by the file's own functions and top-level code
    outside = _names_called_outside_classes(ctx.source.text)
    factories = _factories(ctx, [c for c in classes if c.name in outside or not _needs_arguments(c.node)], project)
    declared = declared_shape(scout, ctx)
    spent = 0
    built: list[tuple[Mod, Interpreter]] = []  # models built with known values, blocks included
    made_graphs: dict[int, LayerGraph] = {}
    for cls in _parents_first(classes):
        if spent > FILE_STEPS:
            break
        try:
            graph, steps = _graph_of_class(cls, scout, factories, ctx, project, built, estimated, blocks)
        except Exception as exc:  # noqa: BLE001 - one odd class must not cost the file its other models and findings
            project.failures[f"{ctx.path}:{cls.name}"] = f"{type(exc).__name__}: {exc}"
            continue
        spent += steps
        if graph is not None:
            made = factories.get(id(cls))
            # INPUT_SHAPE is the input of the model the file builds, not of its blocks
            shape = made[2] if made is not None else (declared if not factories else None)
            shape = shape if shape is not None or made is None else declared
            if shape is not None:
                graph.attrs["input_shape"] = shape
            made_graphs[id(cls)] = graph
    graphs = [made_graphs[id(c)] for c in classes if id(c) in made_graphs]
    inner = {name for g in graphs for name in g.attrs.get("blocks", ())}
    for graph in graphs:
        if graph.name in inner:
            graph.attrs["block"] = True  # built inside another model of the file
    return graphs


def _parents_first(classes: list[ClassVal]) -> list[ClassVal]:
    """The file's classes, each after every class that names it: a block is then built after
    the models that build it, and found inside them with the sizes they give it."""
    named = {cls.name for cls in classes}
    names = {id(c): {n.value for n in walk(init) if type(n) is cst.Name and n.value in named} - {c.name}
             if (init := _own_init(c.node)) is not None else set() for c in classes}
    order: list[ClassVal] = []
    remaining = list(classes)
    while remaining:
        waiting = set().union(*(names[id(c)] for c in remaining))
        ready = [c for c in remaining if c.name not in waiting] or remaining[:1]
        order.extend(ready)
        remaining = [c for c in remaining if c not in ready]
    return order


def _graph_of_class(cls: ClassVal, scout: Interpreter, factories: dict, ctx: Any, project: Any, built: list,
                    estimated: Any = None, blocks: bool = True):
    forward, _ = scout.class_attr(cls, "forward")
    if forward is UNKNOWN and cls.torch_base in ("Module", "ModuleList", "ModuleDict"):
        return None, 0  # a base class or container without a forward of its own is not a model
    made = factories.get(id(cls))
    if made is not None:
        mod, interp, _ = made
        built.append((mod, interp))
        return walk_forward(interp, cls, mod, ctx), interp.steps
    interp = Interpreter(project)
    init, _ = interp.class_attr(cls, "__init__")
    if not (isinstance(init, FuncVal) and _takes_arguments(init.node)):
        graph, mod = _built(interp, cls, {}, ctx)
        if mod is not None:
            built.append((mod, interp))
        return graph, interp.steps
    if not blocks:
        return None, interp.steps  # arguments nothing in the file passes: built for model records only
    arguments = fill(interp, cls, init, counts=True)
    inside = built_inside(cls, built) if arguments is None or arguments.stand_ins else None
    if inside is not None:  # a block without values of its own: as a model of the file builds it
        (parent, name, mod), interp = inside
        graph = walk_forward(interp, cls, mod, ctx)
        graph.attrs["built_with"] = f"the sizes {parent} gives its {name}"
        graph.attrs["record_only"] = f"a block of {parent}"
        return graph, 0
    if arguments is None or (arguments.stand_ins and stand_in_steps(built) > STAND_IN_STEPS):
        # a module, a function, a flag: as a model of the file built on stand-ins builds it
        found = block_of_stand_in_model(cls, built, ctx, estimated) if arguments is None else None
        return found, 0 if found is not None else interp.steps
    graph, mod = _built(interp, cls, arguments.first, ctx)
    steps = interp.steps
    if graph is not None:
        graph.attrs["built_with"] = arguments.label
        graph.attrs["record_only"] = arguments.label
    if mod is not None and not arguments.stand_ins:
        built.append((mod, interp))
    if graph is None or mod is None or not arguments.stand_ins:
        return graph, steps
    graph.attrs["stand_ins"] = list(arguments.stand_ins)
    entry = StandInBuild(mod, interp, cls, arguments, project, steps)
    built.append(entry)  # its blocks are judged on their own; it counts against the stand-in budget
    if arguments.counts:
        graph.attrs["counts"] = list(arguments.counts)  # the model's estimate depends on them
    elif graph.complete and (estimated is None or estimated(graph)):  # does a second build agree?
        second = entry.second()
        if second is not None:
            before = second[1].steps
            graph.attrs["stand_in_twin"] = walk_forward(second[1], cls, second[0], ctx)
            entry.steps += second[1].steps - before
    return graph, entry.steps


def _built(interp: Interpreter, cls: ClassVal, kwargs: dict, ctx: Any) -> tuple[LayerGraph | None, Mod | None]:
    try:
        mod = interp.instantiate(cls, [], dict(kwargs), None)
    except (Abort, RecursionError):
        return None, None
    if not isinstance(mod, Mod):
        return None, None
    return walk_forward(interp, cls, mod, ctx), mod


def _has_subclass(module: cst.Module) -> bool:
    for stmt in module.body:
        if isinstance(stmt, cst.ClassDef) and stmt.bases:
            return True
        if isinstance(stmt, (cst.If, cst.Try)):
            return True
    return False
