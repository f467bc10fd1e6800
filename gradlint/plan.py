"""Every text decision of a run, compiled from what the enabled rules declare.

Parsing with libcst is by far the largest cost of a check. The planner decides, from the
rules' declarations alone (``SourceRule.needs`` and ``SourceRule.reads``, see
``gradlint.textmatch``), which files are worth a parse, which rules run on a file, and
which top-level statements a partial parse may leave out. A rule never filters for
speed itself. With ``filters=False`` every file is parsed whole and every rule runs on
it: the reports must be the same, and a test holds the planner to that.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from gradlint.rule import SourceRule
from gradlint.textmatch import ALWAYS, TextTest, Words

# a model rule reads classes: a file without the word has none
_MAY_DEFINE_CLASSES = Words("class")
# a suppression comment is reported when it suppresses nothing (GL001)
_MAY_HAVE_NOQA = Words("noqa")


class Plan:
    def __init__(self, source_rules: Sequence[SourceRule], model_rules: bool, filters: bool = True) -> None:
        self.source_rules = list(source_rules)
        self.model_rules = model_rules
        self.filters = filters
        # the file being checked and its rules: the gate, the screen, the partial parse and
        # the run of the rules all ask about the same text, one after the other
        self._last: tuple[str, list[SourceRule]] | None = None

    def rules_for(self, text: str) -> list[SourceRule]:
        """The source rules that may have something to say about a file with this text."""
        if not self.filters:
            return self.source_rules
        if self._last is not None and self._last[0] is text:
            return self._last[1]
        verdicts: dict[TextTest, bool] = {}  # the rules of a family share their test
        chosen = []
        for rule in self.source_rules:
            needs = rule.needs
            if needs not in verdicts:
                verdicts[needs] = needs.matches(text)
            if verdicts[needs]:
                chosen.append(rule)
        self._last = (text, chosen)
        return chosen

    def worth_parsing(self, text: str) -> bool:
        """Whether any rule may concern the file: the others are only checked for syntax."""
        if not self.filters:
            return True
        if _MAY_HAVE_NOQA.matches(text) or (self.model_rules and _MAY_DEFINE_CLASSES.matches(text)):
            return True
        return bool(self.rules_for(text))

    def needs_source_rules(self, text: str) -> bool:
        """Whether the source rules (or a noqa comment) need the file parsed, whatever its
        classes turn out to be."""
        return not self.filters or _MAY_HAVE_NOQA.matches(text) or bool(self.rules_for(text))

    def statement_test(self, text: str) -> Callable[[str], bool] | None:
        """A test of the top-level statements a partial parse must keep for the source rules
        (classes and what they name are always kept); None: keep them all."""
        if not self.filters:
            return None
        reads = {rule.reads for rule in self.rules_for(text)}
        if ALWAYS in reads:
            return None
        tests = list(reads)
        return lambda statement: any(test.matches(statement) for test in tests)
