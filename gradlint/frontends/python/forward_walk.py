"""The forward walk of one built model: its calls become the nodes of a LayerGraph."""

from __future__ import annotations

from typing import Any

import libcst as cst

from gradlint.frontends.python.classes import _class_body_statements
from gradlint.frontends.python.example_input import stated_input
from gradlint.frontends.python.folds import fold
from gradlint.frontends.python.graph import GraphBuilder, PlacedReason, first_tensor, unused_nodes
from gradlint.frontends.python.interpreter import Abort, Interpreter
from gradlint.frontends.python.module_objects import walk_modules
from gradlint.frontends.python.modules import site_location
from gradlint.frontends.python.values import UNKNOWN, ClassVal, FuncVal, Mod, Tensor
from gradlint.gain.spatial import PROBE_BATCH
from gradlint.ir import LayerGraph


def walk_forward(interp: Interpreter, cls: ClassVal, mod: Mod, ctx: Any) -> LayerGraph | None:
    where = ctx.class_location(cls.node)
    graph = LayerGraph(cls.name, where, source="python")
    builder = GraphBuilder(mod, graph)
    interp.graph = builder
    # what this walk finds unknown is of this walk: a later walk with the same interpreter
    # (a block of the model, walked on its own) keeps only what building the model left unknown
    state = interp.incomplete, len(interp.reasons)
    _forget_forward_state(mod)
    start = graph.add("input", "input", graph.location)
    args: list = [Tensor(start.id)]
    forward, _ = interp.class_attr(cls, "forward")
    if isinstance(forward, FuncVal):
        params = forward.node.params
        for param in (list(params.posonly_params) + list(params.params))[2:]:
            if param.default is None:
                extra = graph.add("input", param.name.value, graph.location)
                args.append(Tensor(extra.id))
            else:
                break
    interp.loops = 0
    try:
        result = builder.call_module(interp, mod, args, {})
    except (Abort, RecursionError) as exc:
        builder.incomplete(f"forward could not be followed to the end ({exc or 'recursion'})")
        result = None
    out = first_tensor(result)
    graph.add("output", "output", graph.location, [out.node] if out is not None and out.node is not None else [])
    if out is None or out.node is None:
        builder.incomplete("forward returns no tensor that can be traced to the input")
    for node in fold(graph):
        builder.incomplete(PlacedReason(f"maths that cannot be followed ({node.attrs['math']})",
                                        builder.reason_locations.get(node.id, node.location)))
    unused_nodes(builder)
    _locate_in_model_file(graph, mod)
    if not forward_known(forward, mod):
        # torch's forward may call what the class overrides (``_conv_forward`` is modelled)
        base = mod.cls.torch_base if mod.cls is not None else mod.type
        builder.incomplete(f"a {base} subclass that overrides methods torch's forward may call")
    if interp.incomplete:
        graph.complete = False
    if interp.reasons:
        graph.attrs.setdefault("unknown", []).extend(_reason(where, site) for where, site in interp.reasons)
    graph.attrs["class"] = cls.name
    stated = stated_input(mod.init_args, PROBE_BATCH)
    if stated is not None:  # taken only where the estimate needs an input and none is given
        graph.attrs["stated_input"] = stated
        graph.attrs["stated_by"] = "images as its constructor states"
    graph.attrs["blocks"] = sorted({m.type for path, m in walk_modules(mod) if path and m.cls is not None})
    interp.graph = None
    interp.incomplete = state[0]
    del interp.reasons[state[1]:]
    return graph


def _forget_forward_state(root: Mod) -> None:
    """Tensors an earlier walk stored on the modules (``self.prev = x`` in a block's forward, met
    while walking the model that holds it) are nodes of that walk's graph: unknown in this one."""
    for _, mod in walk_modules(root):
        for key, value in mod.attrs.items():
            if _holds_traced_tensor(value):
                mod.attrs[key] = UNKNOWN


def _holds_traced_tensor(value: Any, depth: int = 0) -> bool:
    if isinstance(value, Tensor):
        return value.node is not None
    if depth < 4 and isinstance(value, (list, tuple)):
        return any(_holds_traced_tensor(item, depth + 1) for item in value)
    if depth < 4 and isinstance(value, dict):
        return any(_holds_traced_tensor(item, depth + 1) for item in value.values())
    return False


def _locate_in_model_file(graph: LayerGraph, root: Mod) -> None:
    """A layer defined in a block from another file is also located where the model's own
    file builds that block: ``attrs["model_location"]``, the place a user reads and edits."""
    home = graph.location.path
    for node in graph.nodes:
        if node.location.path == home or not node.name:
            continue
        mod, found = root, None
        for part in node.name.split("."):
            child = mod.children.get(part) if isinstance(mod, Mod) else None
            if not isinstance(child, Mod):
                break
            mod = child
            loc = site_location(mod.site) if mod.site is not None else None
            if loc is not None and loc.path == home:
                found = loc
        if found is not None:
            node.attrs["model_location"] = found


def _reason(where: str, site: Any) -> Any:
    if site is None:
        return where
    return PlacedReason(where, site.file.line_location(site.node))


# what a subclass of a torch layer may define and keep torch's forward as the gain model has it
_KEEPS_TORCH_FORWARD = frozenset({"__init__", "reset_parameters", "extra_repr", "_conv_forward"})


def forward_known(forward: Any, mod: Mod) -> bool:
    if isinstance(forward, FuncVal) or (mod.cls is not None and mod.cls.torch_base == "Sequential"):
        return True
    return mod.spec is not None and mod.cls is not None and all(
        type(stmt) is not cst.FunctionDef or stmt.name.value in _KEEPS_TORCH_FORWARD
        for klass in mod.cls.mro() for stmt in _class_body_statements(klass.node))
