"""One layer graph per nn.Module class of a file: build the model, then walk its forward."""

from __future__ import annotations

import itertools
from typing import Any

import libcst as cst

from gradlint.codefacts.syntax import walk
from gradlint.frontends.python.arguments import fill, fill_inherited, may_fill
from gradlint.frontends.python.example_input import declared_shape
from gradlint.frontends.python.forward_walk import walk_forward
from gradlint.frontends.python.inside import (
    ROOT_GRAPHS,
    StandInBuild,
    block_of_stand_in_model,
    built_inside,
    stand_in_steps,
    walk_build,
)
from gradlint.frontends.python.interpreter import Abort, Interpreter
from gradlint.frontends.python.scripts import built_elsewhere, scripted_models
from gradlint.frontends.python.values import UNKNOWN, ClassVal, FuncVal, Mod
from gradlint.gain import attention
from gradlint.ir import LayerGraph
from gradlint.names import dotted
from gradlint.reading import CALL, names_called_outside_classes
from gradlint.records import within_spread

FILE_STEPS = 2_000_000  # all the classes of one file together
# the builds on stand-in sizes of one file together: they add reach, and a file of many
# blocks would otherwise pay for each block twice over
STAND_IN_STEPS = 50_000
INSIDE_TRIES = 3  # models of the file a block is looked for in, for one with an estimate


def module_classes(interp: Interpreter, ctx: Any, blocks: bool = False) -> list[ClassVal]:
    classes = []
    built_outside = names_called_outside_classes(ctx.source.text)
    called = set(CALL.findall(ctx.source.text)) if blocks else set()  # a block a model of the file may build
    for name, stmt in list(ctx.definitions.items()):
        if type(stmt) is not cst.ClassDef or not stmt.bases:
            continue
        if (_needs_arguments(stmt) and name not in built_outside
                and not (blocks and (name in called or may_fill(_own_init(stmt), counts=True)
                                     or name in interp.project.callers))):
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
    body = node.body.body if type(node.body) is cst.IndentedBlock else ()
    return next((s for s in body if type(s) is cst.FunctionDef and s.name.value == "__init__"), None)


def _takes_arguments(init: cst.FunctionDef) -> bool:
    """An argument without a default after ``self`` (``def __init__(self, config)``)."""
    params = init.params
    positional = (list(params.posonly_params) + list(params.params))[1:]
    return any(p.default is None for p in [*positional, *params.kwonly_params])


def _needs_arguments(node: cst.ClassDef) -> bool:
    """The class's own __init__ takes an argument without a default."""
    init = _own_init(node)
    return init is not None and _takes_arguments(init)


def _takes_arguments_of(interp: Interpreter, cls: ClassVal) -> bool:
    init, _ = interp.class_attr(cls, "__init__")
    return isinstance(init, FuncVal) and _takes_arguments(init.node)


def build_graphs_of(ctx: Any, project: Any, estimated: Any = None, blocks: bool = True) -> list[LayerGraph]:
    outer = dict(ROOT_GRAPHS)
    try:
        return _graphs_of_file(ctx, project, estimated, blocks)
    finally:
        # the file's models are not kept past it (kept, they cost every later file's GC)
        ROOT_GRAPHS.clear()
        ROOT_GRAPHS.update(outer)


def _graphs_of_file(ctx: Any, project: Any, estimated: Any, blocks: bool) -> list[LayerGraph]:
    project.built.add(ctx.key)
    if ctx.source is None or not _has_subclass(ctx.source.module):
        return []
    scout = Interpreter(project)
    classes = module_classes(scout, ctx, blocks)
    if not classes:
        return []
    # only a class that needs no argument, or that code outside the classes calls, can be
    # built by the file's own functions and top-level code
    outside = names_called_outside_classes(ctx.source.text)
    factories = scripted_models(ctx, [c for c in classes if c.name in outside or not _needs_arguments(c.node)], project)
    if blocks:  # built by another script of the tree, or by the code of its documentation
        waiting = [c for c in classes if id(c) not in factories and _takes_arguments_of(scout, c)]
        for cls_id, made in built_elsewhere(ctx, waiting, project).items():
            factories.setdefault(cls_id, made)
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
            if shape is not None and graph.attrs.get("input_shape") != shape:
                graph.attrs["input_shape"] = shape
                graph.attrs.pop("gain_estimate", None)  # an estimate made before it knew the input
            if "input_positions" not in graph.attrs and graph.attrs.get("input_shape") is None:
                _fed_positions(graph, cls, built)
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
    if made is not None and len(made) == 3:
        mod, interp, _ = made
        built.append((mod, interp))
        return _root(mod, walk_forward(interp, cls, mod, ctx)), interp.steps
    if made is not None:  # built by another file: for model records only
        first, steps = None, 0
        for mod, interp, shape, label in itertools.chain([made[:4]], _later(made[4])):
            elsewhere = walk_forward(interp, cls, mod, ctx)
            elsewhere.attrs["built_with"] = elsewhere.attrs["record_only"] = label
            if shape is not None:  # judged on the input that file calls it with
                elsewhere.attrs["input_shape"] = shape
            built.append((mod, interp))  # its blocks, with the sizes it gives them
            _root(mod, elsewhere)
            steps += interp.steps
            if estimated is None or estimated(elsewhere):
                return elsewhere, steps
            first = first or elsewhere
        # no estimate there (weights loaded from a checkpoint, a value the script cannot
        # know): the file's own route below may still give one
        graph, own = _graph_of_class(cls, scout, {}, ctx, project, built, estimated, blocks)
        return (graph if graph is not None else first), steps + own
    interp = Interpreter(project)
    init, _ = interp.class_attr(cls, "__init__")
    own = isinstance(init, FuncVal) and _takes_arguments(init.node)
    # a torch layer's subclass is built on stand-ins for model records only; a default check
    # builds it as before, with its sizes unknown and its init as written
    inherited = fill_inherited(cls) if blocks and not own and not isinstance(init, FuncVal) else None
    if not own and inherited is None:
        graph, mod = _built(interp, cls, {}, ctx)
        if mod is not None:
            built.append((mod, interp))
            _root(mod, graph)
        return graph, interp.steps
    if not blocks:
        return None, interp.steps  # arguments nothing in the file passes: built for model records only
    arguments = fill(interp, cls, init, counts=True) if own else inherited
    # a block a model of the file builds is taken as built there, before the numbers the file's
    # calls pass it (``arguments.given``) or stand-ins
    inside = (built_inside(cls, built)[:INSIDE_TRIES]
              if arguments is None or arguments.stand_ins or arguments.given else [])
    first = None
    for (parent, name, mod), parent_interp, root in inside:  # a block without values of its own: as a model builds it
        graph = walk_forward(parent_interp, cls, mod, ctx)
        graph.attrs["built_with"] = f"the sizes {parent} gives its {name}"
        _fed_as_built(graph, name, root)
        graph.attrs["record_only"] = f"a block of {parent}"
        if estimated is None or estimated(graph):
            return graph, 0
        first = first or graph
    if first is not None and arguments is None:
        return first, 0  # no estimate with the sizes a model gives it, and no other way to build it
    if arguments is None or (arguments.stand_ins and stand_in_steps(built) > STAND_IN_STEPS):
        # a module, a function, a flag, or no stand-in budget left for a build of its own: as a
        # model of the file built on stand-ins builds it
        found = block_of_stand_in_model(cls, built, ctx, estimated)
        found = found if found is not None else first
        return found, 0 if found is not None else interp.steps
    graph, mod = _built(interp, cls, arguments.first, ctx)
    steps = interp.steps
    if graph is None and first is not None:
        return first, steps
    if graph is not None:
        graph.attrs["built_with"] = arguments.label
        graph.attrs["record_only"] = arguments.label
    if mod is not None and not arguments.stand_ins:
        built.append((mod, interp))
        _root(mod, graph)
    if graph is None or mod is None or not arguments.stand_ins:
        return graph, steps
    graph.attrs["stand_ins"] = list(arguments.stand_ins)
    entry = StandInBuild(mod, interp, cls, arguments, project, steps)
    built.append(entry)  # its blocks are judged on their own; it counts against the stand-in budget
    if arguments.counts:
        graph.attrs["counts"] = list(arguments.counts)  # the model's estimate depends on them
    if graph.complete and (estimated is None or estimated(graph)):  # do other builds agree?
        twin = walk_build(entry.second(), entry, cls, ctx)
        deep = None
        if arguments.counts and twin is not None and within_spread(graph, twin):
            deep = walk_build(entry.deep(), entry, cls, ctx)
        graph.attrs.update((k, v) for k, v in (("stand_in_twin", twin), ("deep_twin", deep)) if v is not None)
    return graph, entry.steps


def _later(builds: Any):
    """The further builds ``builds()`` gives, asked for only when the loop gets there."""
    yield from builds()


def _fed_as_built(graph: LayerGraph, name: str, root: Mod) -> bool:
    """The sequence length the model ``root`` feeds its block ``name``, where it knows it."""
    root_graph = ROOT_GRAPHS.get(id(root), (None, None))[1]
    positions = attention.positions_within(root_graph, name) if root_graph is not None else None
    if positions is None:
        return False
    graph.attrs["input_positions"] = positions
    graph.attrs.pop("gain_estimate", None)
    return True


def _fed_positions(graph: LayerGraph, cls: ClassVal, built: list) -> None:
    """A block with attention built on its own (``Block(GPTConfig())``): the sequence length a
    model of the file built with known values feeds its first such block, when it has one."""
    if not attention.mixes_unknown_positions(graph):
        return
    for (parent, name, _), _, root in built_inside(cls, built):
        if _fed_as_built(graph, name, root):
            label = graph.attrs.get("built_with")
            fed = f"{graph.attrs['input_positions']} positions, as {parent} feeds its {name}"
            graph.attrs["built_with"] = f"{label}; {fed}" if label else fed
            return


def _root(mod: Mod, graph: LayerGraph | None) -> LayerGraph | None:
    """Keep the graph of a model built with known values, for the blocks built inside it."""
    if graph is not None:
        ROOT_GRAPHS[id(mod)] = (mod, graph)
    return graph


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
        if type(stmt) is cst.ClassDef and stmt.bases:
            return True
        if type(stmt) in (cst.If, cst.Try):
            return True
    return False
