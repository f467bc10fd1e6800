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
from gradlint.codefacts.foreign import may_define
from gradlint.codefacts.gradient_paths import CutKind, ForwardDomain, _top_functions
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
from gradlint.codefacts.words import CUT_TEXT, OUTSIDE_THE_TREE
from gradlint.names import canonical_torch, dotted, starts_a_word, word_search
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
        if type(stmt) is cst.FunctionDef:
            text = source.function_text(stmt)
            if text is None or _may_cut(text):
                own.add(stmt.name.value)
    imported = {
        local for local, qualified in imports.aliases.items()
        if local[:1].islower()
        and qualified.split(".")[0] not in OUTSIDE_THE_TREE
    }
    return frozenset(own | imported)


def _called_pattern(names: frozenset[str]) -> re.Pattern | None:
    """A call of one of ``names``, or an attribute of one, once word_search has checked
    where it starts: ``name(`` or ``name.``, the whole word."""
    if not names:
        return None
    return re.compile("(?:" + "|".join(re.escape(name) for name in sorted(names)) + r")\s*[(.]")


_NAME = re.compile(r"[A-Za-z_]\w*")


class _HelperReach:
    """Whether the helpers a class calls may reach a cut, for a class whose text spells none
    and names a helper: the file's own functions that spell one or call one that may, and
    the functions of other files that the flow may run (``foreign.may_define``, from their
    files' text, unparsed). Read from the text, erring towards a cut: a use of a name that
    may be a call counts as one. A class for which this says no has no cut to find."""

    def __init__(self, source: SourceFile, imports) -> None:
        self.source = source
        self.functions = _top_functions(source)
        self.aliases = {local: qualified for local, qualified in imports.aliases.items()
                        if qualified.split(".")[0] not in OUTSIDE_THE_TREE}
        self.names = _named(set(self.functions) | set(self.aliases))
        self.found: dict[str, bool] = {}  # functions of other files, by qualified name
        self._reaching: set[str] | None = None

    def may_cut(self, text: str | None) -> bool:
        cuts, called = self._uses(text)
        return cuts or not called.isdisjoint(self.reaching)

    @property
    def reaching(self) -> set[str]:
        """The file's functions that may reach a cut, through the functions they call."""
        if self._reaching is None:
            callers: dict[str, set[str]] = {}
            pending = []
            for name, func in self.functions.items():
                cuts, called = self._uses(self.source.function_text(func))
                if cuts:
                    pending.append(name)
                for callee in called:
                    callers.setdefault(callee, set()).add(name)
            reaching = set(pending)
            while pending:
                for caller in callers.get(pending.pop(), ()):
                    if caller not in reaching:
                        reaching.add(caller)
                        pending.append(caller)
            self._reaching = reaching
        return self._reaching

    def _uses(self, text: str | None) -> tuple[bool, set[str]]:
        """Whether ``text`` may cut by itself or through another file's function, and the
        file's own functions it may call."""
        if text is None or _may_cut(text):
            return True, set()
        called: set[str] = set()
        for match in self.names.finditer(text) if self.names is not None else ():
            if not starts_a_word(text, match) or _before(text, match.start()) in (".", "@"):
                continue  # part of a longer name, an attribute of something else, a decorator
            name = match.group()
            chain, end = _chain(text, name, match.end())
            while end < len(text) and (text[end].isspace() or text[end] == ")"):
                end += 1
            after = text[end:end + 1]
            if after in ("#", "\\", "."):
                return True, called  # a call that the text does not show plainly: counted
            if after != "(":
                continue
            if chain == name and name in self.functions:
                called.add(name)
            if self._foreign_may_cut(chain):
                return True, called
        return False, called

    def _foreign_may_cut(self, chain: str) -> bool:
        head = chain.split(".")[0]
        if head not in self.aliases:
            return False
        qualified = f"{self.aliases[head]}{chain[len(head):]}"
        if qualified not in self.found:
            self.found[qualified] = may_define(self.source, qualified, also=CUT_TEXT.matches)
        return self.found[qualified]


def _before(text: str, start: int) -> str:
    """What the text has before ``start``: ``.`` (the name is an attribute), ``@`` (it
    heads a decorator, which the flow never runs), or anything else (an empty string)."""
    at = start - 1
    while at >= 0 and text[at] in " \t\n":
        at -= 1
    if at < 0 or text[at] not in ".@":
        return ""
    if text[at] == ".":
        return "."
    line = text.rfind("\n", 0, at) + 1
    return "@" if not text[line:at].strip() else ""  # a @ b(...): a product, not a decorator


def _named(names: set[str]) -> re.Pattern | None:
    if not names:
        return None
    return re.compile("(?:" + "|".join(re.escape(n) for n in sorted(names, key=len, reverse=True)) + r")(?!\w)")


def _chain(text: str, name: str, end: int) -> tuple[str, int]:
    """``name.attr.attr`` as written from ``end`` on (spaces allowed around the dots), and
    where it ends."""
    chain = name
    while True:
        at = end
        while at < len(text) and text[at] in " \t\n":
            at += 1
        if at >= len(text) or text[at] != ".":
            return chain, end
        at += 1
        while at < len(text) and text[at] in " \t\n":
            at += 1
        word = _NAME.match(text, at)
        if word is None:
            return chain, end
        chain, end = f"{chain}.{word.group()}", word.end()


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
            name = dotted(node.func) if type(node) is cst.Call else None
            if name and name.startswith("self.") and name[5:] in facts.methods and name[5:] not in reached:
                reached.add(name[5:])
                stack.append(name[5:])
    for name in reached - {"__init__"}:
        method = facts.methods[name]
        for node in walk(method):
            targets: list[cst.BaseExpression] = []
            if type(node) in (cst.Assign, cst.AugAssign, cst.AnnAssign):
                targets = [t.target for t in node.targets] if type(node) is cst.Assign else [node.target]
            elif type(node) is cst.Call:
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


_FREEZING = ("requires_grad", "deepcopy")


def frozen(source: SourceFile) -> set[str]:
    """Attributes frozen on purpose in the file. Freezing is spelled requires_grad(_) or
    deepcopy: without either word, nothing is, and a class or function whose text has
    neither freezes nothing (a class's decorators, outside its text, are read apart)."""
    def compute() -> set[str]:
        if not mentions(source, *_FREEZING):
            return set()
        roots: list[cst.CSTNode] = []
        for stmt in source.module.body:
            if type(stmt) in (cst.ClassDef, cst.FunctionDef):
                text = (source.class_text(stmt) if type(stmt) is cst.ClassDef
                        else source.function_text(stmt))
                if text is not None and not any(word in text for word in _FREEZING):
                    if type(stmt) is cst.ClassDef:
                        roots.extend(stmt.decorators)
                    continue
            roots.append(stmt)
        return frozen_attributes(source.module, roots) if roots else set()

    return cached_fact(source, "frozen", compute)


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
            if type(node) is not cst.With or not any(
                type(item.item) is cst.Call
                and canonical_torch(imports.qualify(item.item.func)) in enabling
                for item in node.items
            ):
                continue
            called, backpropagates = set(), False
            for inner in walk(node.body):
                if type(inner) is not cst.Call:
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
        helpers: list[re.Pattern | None] = []  # worked out for the first class that may need them
        reach: list[_HelperReach] = []

        def may_cut(cls: cst.ClassDef) -> bool:
            text = None if renamed else source.class_text(cls, without_init=True)
            if text is None or _may_cut(text):
                return True
            if not helpers:
                helpers.append(_called_pattern(_tree_names(imports, source)))
                reach.append(_HelperReach(source, imports))
            # named a helper: kept only if one it calls may reach a cut
            return helpers[0] is not None and word_search(helpers[0], text) and reach[0].may_cut(text)

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
                if type(forward.body) is cst.IndentedBlock
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
