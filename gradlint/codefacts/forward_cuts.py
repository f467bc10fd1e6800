"""Where a class's forward cuts the gradient paths of its parameters: a per-file fact.

A cheap text filter first (most files define no forward, or spell no cut), then the evaluation of
each class's forward (``gradient_paths.ForwardDomain``) into the causes the GL5xx rules read.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

import libcst as cst

from gradlint import torch_api
from gradlint.codefacts.flow import Flow
from gradlint.codefacts.gradient_paths import CutKind, ForwardDomain
from gradlint.codefacts.modules import (
    frozen_attributes,
    module_classes,
    pretrained_attributes,
    untrained_attributes,
)
from gradlint.codefacts.syntax import (
    cached_fact,
    has_decorator,
    imports_of,
    mentions,
    method_call,
    walk,
)
from gradlint.codefacts.words import OUTSIDE_THE_TREE
from gradlint.names import canonical_torch, dotted, word_search
from gradlint.source import SourceFile

# What a cut is written as, in the methods that forward runs (every method but __init__): the
# names gradient_paths.ForwardDomain treats as cuts, whatever the receiver or module prefix.
# The named calls and contexts must start a word (names.word_search).
_CUT_ATTRIBUTE = re.compile(r"\.data\b|\.(?:detach_?|item|tolist|numpy)\s*\(")
_CUT_NAME = re.compile(
    r"(?:float|int|complex|tensor|as_tensor|Tensor|array|asarray)\s*\("
    r"|(?:no_grad|inference_mode|set_grad_enabled|__init__)\b"
)
# An import that renames one of those names hides it from the text filter.
_RENAMABLE = frozenset({
    "detach", "item", "tolist", "numpy", "float", "int", "complex", "tensor", "as_tensor",
    "Tensor", "array", "asarray", "no_grad", "inference_mode", "set_grad_enabled",
    "grad_mode", "autograd",
})
_AS = re.compile(r"\s+as\b")


def _may_cut(text: str) -> bool:
    return _CUT_ATTRIBUTE.search(text) is not None or word_search(_CUT_NAME, text)


def _renames_a_cut(text: str) -> bool:
    """``import ... <cut name> as ...``: the word before an ``as`` is one of the cut names."""
    for match in _AS.finditer(text):
        end = start = match.start()
        while start > 0 and (text[start - 1].isalnum() or text[start - 1] == "_"):
            start -= 1
        if text[start:end] in _RENAMABLE:
            return True
    return False


def _tree_names(imports, source: SourceFile) -> frozenset[str]:
    """The file's own functions that may cut, and the functions imported from files of the
    tree (not torch's nor numpy's): a class that calls one may cut inside it."""
    own = set()
    for stmt in source.module.body:
        if isinstance(stmt, cst.FunctionDef):
            text = source.function_text(stmt)
            if text is None or _may_cut(text):
                own.add(stmt.name.value)
    imported = {
        local for local, qualified in imports.aliases.items()
        if local[:1].islower()
        and qualified.split(".")[0] not in OUTSIDE_THE_TREE
    }
    return frozenset(own | imported)


_CALLED = re.compile(r"(\w+)\s*[(.]")


@dataclass
class Cut:
    """A place in ``cls``.forward that cuts every gradient path from the parameters ``lost`` (as
    ``ClassFacts.describe`` words them) to the output: what cuts (``kind``) and how the source
    spells it. No verdict: each rule of ``gradlint.checks.graph_cuts`` picks its kinds and words
    its findings."""

    kind: CutKind
    node: cst.CSTNode
    spelling: str
    lost: list[str]
    cls: str
    via: str | None = None  # the helper of another file in which the cut sits


def _updated_outside_autograd(facts) -> set[str]:
    """Attributes whose parameters forward (or a method it calls) overwrites:
    ``self.embed.weight.data.copy_(...)``, ``self.embedding.weight = nn.Parameter(...)``, an
    EMA codebook written back in forward. Their parameters are trained outside autograd on
    purpose, and a detach in front of them loses nothing."""
    updated: set[str] = set()
    reached, stack = {"forward"}, ["forward"]
    while stack:  # forward and the methods it calls on self: not reset_parameters and the like
        for node in walk(facts.methods[stack.pop()]):
            name = dotted(node.func) if isinstance(node, cst.Call) else None
            if name and name.startswith("self.") and name[5:] in facts.methods and name[5:] not in reached:
                reached.add(name[5:])
                stack.append(name[5:])
    for name in reached - {"__init__"}:
        method = facts.methods[name]
        for node in walk(method):
            targets: list[cst.BaseExpression] = []
            if isinstance(node, (cst.Assign, cst.AugAssign, cst.AnnAssign)):
                targets = [t.target for t in node.targets] if isinstance(node, cst.Assign) else [node.target]
            elif isinstance(node, cst.Call):
                found = method_call(node)
                if found is not None and found[1].endswith("_") and not found[1].startswith("_"):
                    targets = [found[0]]
            for target in targets:
                parts = (dotted(target) or "").split(".")
                if len(parts) >= 2 and parts[0] == "self" and (
                    len(parts) > 2 or parts[1] in facts.parameters
                ):
                    updated.add(parts[1])
    return updated


def frozen(source: SourceFile) -> set[str]:
    """Attributes frozen on purpose in the file. Freezing is spelled requires_grad(_) or
    deepcopy: without either word, nothing is."""
    return cached_fact(source, "frozen", lambda: frozen_attributes(source.module)
                       if mentions(source, "requires_grad", "deepcopy") else set())


def untrained(source: SourceFile) -> set[str]:
    return cached_fact(source, "untrained", lambda: untrained_attributes(source.module, frozen(source)))


def _untrained_in(source: SourceFile, facts, imports) -> set[str]:
    return untrained(source) | pretrained_attributes(facts.node) | _differentiated_by_hand(facts, imports)


def _differentiated_by_hand(facts, imports) -> set[str]:
    """Attributes that a method of the class other than forward calls under ``enable_grad()``
    and backpropagates through itself (``torch.autograd.backward`` or ``.backward()`` in the same
    block): a reversible block runs them under no_grad in forward and recomputes them, with
    their gradients, in its own backward pass."""
    enabling = torch_api.names("autograd.grad_contexts")
    backward = torch_api.names("autograd.backward_functions")
    found: set[str] = set()
    for name, method in facts.methods.items():
        if name == "forward":
            continue
        for node in walk(method):
            if not isinstance(node, cst.With) or not any(
                isinstance(item.item, cst.Call)
                and canonical_torch(imports.qualify(item.item.func)) in enabling
                for item in node.items
            ):
                continue
            called, backpropagates = set(), False
            for inner in walk(node.body):
                if not isinstance(inner, cst.Call):
                    continue
                called_method = method_call(inner)
                if canonical_torch(imports.qualify(inner.func)) in backward or (
                    called_method and called_method[1] == "backward"
                ):
                    backpropagates = True
                callee = dotted(inner.func) or ""
                if callee.startswith("self.") and callee.count(".") == 1:
                    called.add(callee[5:])
            if backpropagates:
                found |= called
    return found


def forward_cuts(source: SourceFile) -> list[Cut]:
    def compute() -> list[Cut]:
        imports = imports_of(source)
        cuts: list[Cut] = []
        renamed = _renames_a_cut(source.text)
        helpers: list[frozenset[str]] = []  # worked out for the first class that may need them

        def may_cut(cls: cst.ClassDef) -> bool:
            text = None if renamed else source.class_text(cls, without_init=True)
            if text is None or _may_cut(text):
                return True
            if not helpers:
                helpers.append(_tree_names(imports, source))
            return bool(helpers[0]) and not helpers[0].isdisjoint(_CALLED.findall(text))

        for facts in module_classes(source, keep=may_cut).values():
            forward = facts.methods["forward"]
            contexts = torch_api.names("autograd.no_grad_contexts")
            if has_decorator(forward, *{name.rsplit(".", 1)[-1] for name in contexts}):
                continue  # an inference-only module
            domain = ForwardDomain(facts, imports, frozen(source), source)
            domain.untrained_of = functools.partial(_untrained_in, source, facts, imports)
            domain.active.add("forward")
            flow = Flow(domain)
            flow.run(
                list(forward.body.body)
                if isinstance(forward.body, cst.IndentedBlock)
                else [forward.body],
                {},
            )
            output = flow.returned()
            if output is None:
                continue
            by_site: dict[int, list[str]] = {}
            updated = _updated_outside_autograd(facts) if output.cut else set()
            for attr, site in sorted(output.cut, key=lambda c: (str(c[0]), c[1])):
                if attr in updated:
                    continue
                if attr not in output.live and attr not in by_site.get(site, []):
                    by_site.setdefault(site, []).append(attr)
            for site_key, lost in by_site.items():
                site = domain.sites[site_key]
                described = [facts.describe(a) for a in lost]
                cuts.append(
                    Cut(site.kind, site.node, site.spelling, described, facts.name, site.via)
                )
        return cuts

    return cached_fact(source, "forward_cuts", compute)
