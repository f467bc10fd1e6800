"""GL5xx: graph cuts in forward that leave parameters upstream with no gradient."""

from __future__ import annotations

from collections.abc import Iterable

from gradlint.codefacts.gradient_paths import (
    DETACH,
    NO_GRAD,
    TO_PYTHON,
    forward_cuts,
    may_have_cuts,
)
from gradlint.diagnostics import Finding
from gradlint.rule import SourceRule, no_statement
from gradlint.source import SourceFile


def _freezes(statement: str) -> bool:
    return "requires_grad" in statement or "deepcopy" in statement


class _GraphCutRule(SourceRule):
    def may_apply(self, text: str) -> bool:
        return may_have_cuts(text)

    def statements_needed(self, text: str):
        # the cuts sit in the classes' forward and what it calls, kept anyway; freezing may
        # be done by any function of the file
        return _freezes if self.may_apply(text) else no_statement

    def check_source(self, source: SourceFile) -> Iterable[Finding]:
        for cut in forward_cuts(source):
            if cut.code != self.code:
                continue
            location = source.location(cut.node)
            names = ", ".join(cut.lost)
            verb = "gets" if len(cut.lost) == 1 else "get"
            yield self.finding(
                f"{names} {verb} no gradient: {cut.what} at line {location.line} cuts the graph "
                f"between {'it' if len(cut.lost) == 1 else 'them'} and the output of {cut.cls}.forward",
                location,
                parameters=[n.split(" ")[0] for n in cut.lost],
            )


class DetachInForward(_GraphCutRule):
    code = DETACH
    name = "detach-in-forward"
    summary = "`.detach()` (or `.data`) in forward cuts every gradient path of upstream parameters"
    severity = "error"


class NoGradInForward(_GraphCutRule):
    code = NO_GRAD
    name = "no-grad-in-forward"
    summary = "`with torch.no_grad()` in forward cuts every gradient path of upstream parameters"
    severity = "error"


class TensorToPythonInForward(_GraphCutRule):
    code = TO_PYTHON
    name = "tensor-to-python-in-forward"
    summary = "`.item()`, `.tolist()`, `.numpy()`, `float(t)` or a `torch.tensor(t)` re-wrap in forward cuts the graph"
    severity = "error"
