"""The base of the rules that judge the chains along which the gradient vanishes or explodes.

``_chains.offending_chains`` finds the chains (the causes); each rule says which of them it
claims, its thresholds (options) and its message. A chain is reported once at most: of the
rules that claim it, the one of lowest ``precedence`` owns it, whether it is enabled or not.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any, ClassVar

from gradlint.checks._chains import ChainCause, in_model_file, offending_chains
from gradlint.diagnostics import Finding
from gradlint.ir import LayerGraph
from gradlint.rule import GraphRule, all_rules
from gradlint.rule_options import POSITIVE_NUMBER, OptionType

THRESHOLD_OPTIONS = {"min-gradient-ratio": 1e-3, "max-gradient-ratio": 1e3}
THRESHOLD_TYPES = {name: POSITIVE_NUMBER for name in THRESHOLD_OPTIONS}  # log10 of them is taken


def thresholds(settings: dict) -> tuple[float, float]:
    return math.log10(settings["min-gradient-ratio"]), math.log10(settings["max-gradient-ratio"])


class GraphVerdictRule(GraphRule):
    """A rule about offending chains: it claims some (``claims``) and describes them.

    ``precedence`` orders the rules that could claim the same chain, lowest first; rules of
    equal precedence claim disjoint chains.
    """

    options: ClassVar[dict[str, Any]] = dict(THRESHOLD_OPTIONS)
    option_types: ClassVar[dict[str, OptionType]] = dict(THRESHOLD_TYPES)
    precedence: ClassVar[int]

    @classmethod
    def claims(cls, cause: ChainCause) -> bool:
        raise NotImplementedError

    def applies(self, graph: LayerGraph) -> bool:
        """False where the rule has nothing to say about the graph at all."""
        return True

    def describe(
        self, graph: LayerGraph, cause: ChainCause, users: dict[int, list[int]]
    ) -> tuple[str, dict[str, Any]]:
        """The message about an owned chain and the extra facts of its finding."""
        raise NotImplementedError

    def check_graph(self, graph: LayerGraph) -> Iterable[Finding]:
        if not self.applies(graph):
            return
        low, high = thresholds(self.settings)
        users = None
        for cause in offending_chains(graph, low, high):
            claimant = owner(cause)
            if claimant is None or claimant.code != self.code:
                continue
            users = graph.consumers() if users is None else users
            message, extra = self.describe(graph, cause, users)
            yield self.finding(message, in_model_file(graph, cause.chain.first), **extra)


def owner(cause: ChainCause) -> type[GraphVerdictRule] | None:
    """The rule that reports ``cause``: the first, by precedence, that claims it."""
    for rule in _by_precedence():
        if rule.claims(cause):
            return rule
    return None


def _by_precedence() -> list[type[GraphVerdictRule]]:
    rules = [r for r in all_rules() if issubclass(r, GraphVerdictRule)]
    return sorted(rules, key=lambda r: (r.precedence, r.code))
