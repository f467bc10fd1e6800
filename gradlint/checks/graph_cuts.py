"""GL5xx: graph cuts in forward that leave parameters upstream with no gradient.

``forward_cuts`` reports every cut with its kind; each rule claims its kinds and words the
finding: how the cut is named in the message is the rule's.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, ClassVar

from gradlint.codefacts.kinds import CutKind
from gradlint.codefacts.words import NEEDS_BACKWARD, NEEDS_CUTS
from gradlint.diagnostics import Finding
from gradlint.rule import SourceRule
from gradlint.textmatch import AllOf, AnyOf, Words

if TYPE_CHECKING:
    from gradlint.codefacts.forward_cuts import Cut
    from gradlint.source import SourceFile


class _GraphCutRule(SourceRule):
    kinds: ClassVar[frozenset[CutKind]]

    needs = NEEDS_CUTS
    # the cuts sit in the classes' forward and what it calls, kept anyway; freezing may be
    # done by any function of the file
    reads = Words("requires_grad", "deepcopy", "copy_", "mul_", "lerp_", "load_state_dict", "eval(")

    def what(self, cut: Cut) -> str:
        """The cut as the message names it."""
        raise NotImplementedError

    def hint(self, cut: Cut) -> str:
        """What to do, appended to the message; empty by default."""
        return ""

    def check_source(self, source: SourceFile) -> Iterable[Finding]:
        from gradlint.codefacts.forward_cuts import forward_cuts

        for cut in forward_cuts(source):
            if cut.kind not in self.kinds:
                continue
            location = source.location(cut.node)
            names = ", ".join(cut.lost)
            verb = "gets" if len(cut.lost) == 1 else "get"
            what = self.what(cut) if cut.via is None else f"{self.what(cut)} in {cut.via}, called"
            yield self.finding(
                f"{names} {verb} no gradient: {what} at line {location.line} cuts the graph "
                f"between {'it' if len(cut.lost) == 1 else 'them'} and the output of {cut.cls}.forward"
                f"{self.hint(cut)}",
                location,
                parameters=[n.split(" ")[0] for n in cut.lost],
            )


class DetachInForward(_GraphCutRule):
    code = "GL501"
    name = "detach-in-forward"
    summary = "`.detach()` (or `.data`) in forward cuts every gradient path of upstream parameters"
    severity = "error"
    kinds = frozenset({CutKind.DETACH, CutKind.DATA})

    def what(self, cut: Cut) -> str:
        return "`.data`" if cut.kind is CutKind.DATA else "`.detach()`"


class NoGradInForward(_GraphCutRule):
    code = "GL502"
    name = "no-grad-in-forward"
    summary = "`with torch.no_grad()` in forward cuts every gradient path of upstream parameters"
    severity = "error"
    kinds = frozenset({CutKind.NO_GRAD})

    def what(self, cut: Cut) -> str:
        if cut.spelling.endswith("(False)"):  # a statement, not a with block
            return f"`{cut.spelling.removeprefix('torch.autograd.')}`"
        return "`with torch.no_grad()`"  # inference_mode and set_grad_enabled(False) alike

    def hint(self, cut: Cut) -> str:
        modules = [n.split(" ")[0] for n in cut.lost if not n.endswith(("(Parameter)", "(Buffer)"))]
        if not modules:
            return ""
        its, it = ("its", "it") if len(modules) == 1 else ("their", "them")
        return (
            f"; nothing freezes {', '.join(modules)}: {its} parameters never train while the optimiser "
            f"carries them (freeze {it} with `requires_grad_(False)` if that is meant)"
        )


class TensorToPythonInForward(_GraphCutRule):
    code = "GL503"
    name = "tensor-to-python-in-forward"
    summary = "`.item()`, `.tolist()`, `.numpy()`, `float(t)` or a `torch.tensor(t)` re-wrap in forward cuts the graph"
    severity = "error"
    kinds = frozenset({CutKind.TO_PYTHON, CutKind.CAST, CutKind.REWRAP})
    # also a loss term made a Python number in a training step, with or without a forward
    needs = AnyOf(NEEDS_CUTS, AllOf(NEEDS_BACKWARD, Words(".item(", "float(")))

    def check_source(self, source: SourceFile) -> Iterable[Finding]:
        from gradlint.codefacts.loss_terms import number_terms

        yield from super().check_source(source)
        for term in number_terms(source):
            location = source.location(term.node)
            how = "`.item()`" if term.spelling == "item" else "`float()`"
            backward = source.location(term.backward).line
            yield self.finding(
                f"`{term.name}` is a Python number: {how} at line {location.line} takes it out "
                f"of the graph, so adding it to the loss whose `.backward()` runs at line "
                f"{backward} gives nothing behind it a gradient; keep the tensor",
                location,
            )

    def what(self, cut: Cut) -> str:
        if cut.kind is CutKind.TO_PYTHON:
            return f"`.{cut.spelling}()`"
        if cut.kind is CutKind.CAST:
            return f"`{cut.spelling}()`"
        return f"`{cut.spelling}()` re-wrap"
