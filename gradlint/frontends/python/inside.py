"""Blocks judged as the file's models build them.

A block whose constructor takes what nothing in its file passes (a module, a function, a
flag: ``PreNorm(dim, fn)``, ``Residual(fn)``) is taken from inside a model of the file:
one built with known values gives it its sizes; failing that, one built on stand-ins
(layer counts among them, since only the model's own estimate depends on those). A block
of a model built on stand-ins is walked twice, in a first and in a second build on other
stand-ins, and keeps its estimate only when the two agree, as a model built on stand-ins
does; a block whose weights change in number between the two builds depends on a count.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from gradlint.frontends.python.arguments import Arguments
from gradlint.frontends.python.forward_walk import walk_forward
from gradlint.frontends.python.interpreter import Abort, Interpreter
from gradlint.frontends.python.module_objects import walk_modules
from gradlint.frontends.python.values import ClassVal, Mod
from gradlint.ir import LayerGraph
from gradlint.records import within_spread


@dataclass(eq=False)
class StandInBuild:
    """A model of the file built on stand-ins; its second build is made when a block needs it."""

    root: Mod
    interp: Interpreter
    cls: ClassVal
    arguments: Arguments
    project: Any
    steps: int
    twin: Any = False  # (Mod, Interpreter) once built, None when it failed, False before
    deep_build: Any = False  # the same for the build with deep layer counts

    def second(self) -> tuple[Mod, Interpreter] | None:
        if self.twin is False:
            self.twin = self._build(self.arguments.second)
        return self.twin

    def deep(self) -> tuple[Mod, Interpreter] | None:
        """The first build's widths with every layer count ``DEEP_COUNT``: made only once two
        builds agree, and not counted against the stand-in budget (a deep model would take it
        from the file's other models)."""
        if self.deep_build is False:
            self.deep_build = self._build(self.arguments.deep(), counted=False)
        return self.deep_build

    def _build(self, arguments: dict, counted: bool = True) -> tuple[Mod, Interpreter] | None:
        interp = Interpreter(self.project)
        try:
            mod = interp.instantiate(self.cls, [], dict(arguments), None)
        except (Abort, RecursionError):
            mod = None
        self.steps += interp.steps if counted else 0
        return (mod, interp) if isinstance(mod, Mod) else None


# id of a model of the file being built with known values -> (the model, its layer graph):
# the sequence length a block is fed. Emptied when the file is done (``build_graphs_of``).
ROOT_GRAPHS: dict[int, tuple[Mod, LayerGraph]] = {}


def built_inside(cls: ClassVal, built: list) -> list[tuple[tuple[str, str, Mod], Interpreter, Mod]]:
    """The first block of class ``cls`` inside each model of the file built with known values,
    with the model."""
    found = []
    for entry in built:
        if not isinstance(entry, tuple) or entry[0] is None:
            continue
        root, interp = entry
        block = next(((root.type, name, mod) for name, mod in walk_modules(root) if name and mod.cls is cls), None)
        if block is not None:
            found.append((block, interp, root))
    return found


def block_of_stand_in_model(cls: ClassVal, built: list, ctx: Any, estimated: Any) -> LayerGraph | None:
    """The first block of class ``cls`` inside a model of the file built on stand-ins, with
    the twin that says whether its estimate depends on them."""
    for entry in built:
        if not isinstance(entry, StandInBuild):
            continue
        found = next(((name, mod) for name, mod in walk_modules(entry.root) if name and mod.cls is cls), None)
        if found is None:
            continue
        name, mod = found
        steps = entry.interp.steps
        graph = walk_forward(entry.interp, cls, mod, ctx)
        parent = entry.root.type
        names = list(entry.arguments.stand_ins)
        graph.attrs["built_with"] = f"the sizes {parent} gives its {name}, on stand-ins for {', '.join(names)}"
        graph.attrs["record_only"] = f"a block of {parent}"
        graph.attrs["stand_ins"] = names
        if graph.complete and (estimated is None or estimated(graph)):
            twin = walk_build(entry.second(), entry, cls, ctx, name)
            if twin is not None and len(twin.weighted()) == len(graph.weighted()):
                graph.attrs["stand_in_twin"] = twin
            elif twin is not None and entry.arguments.counts:
                graph.attrs["counts"] = list(entry.arguments.counts)  # its weights follow a count
                graph.attrs["stand_in_twin"] = twin
                if within_spread(graph, twin):  # and a deep build?
                    graph.attrs["deep_twin"] = walk_build(entry.deep(), entry, cls, ctx, name)
        entry.steps += entry.interp.steps - steps
        return graph
    return None


def walk_build(build: tuple[Mod, Interpreter] | None, entry: StandInBuild, cls: ClassVal, ctx: Any,
               name: str = "") -> LayerGraph | None:
    """Block ``name`` (the model itself by default) of another build of ``entry``'s model,
    walked, its steps counted against the stand-in budget (the deep build's are not)."""
    if build is None:
        return None
    root, interp = build
    mod = dict(walk_modules(root)).get(name) if name else root
    if not isinstance(mod, Mod) or mod.cls is not cls:
        return None
    steps = interp.steps
    graph = walk_forward(interp, cls, mod, ctx)
    entry.steps += (interp.steps - steps) if build is not entry.deep_build else 0
    return graph


def stand_in_steps(built: list) -> int:
    """Steps spent on builds on stand-ins: they count against the file's stand-in budget."""
    return sum(entry.steps if isinstance(entry, StandInBuild) else entry[1]
               for entry in built if isinstance(entry, StandInBuild) or entry[0] is None)
