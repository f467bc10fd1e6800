"""What a rule declares about the text it needs: plain data that the planner compiles.

A source rule says which words a file must contain for the rule to have anything to say
(``needs``) and which top-level statements its analysis may read (``reads``). The
declarations are speed filters only: with every filter off (``gradlint.plan``), reports
are the same, and a test proves it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


class TextTest:
    """A test of a file's (or a statement's) text."""

    def matches(self, text: str) -> bool:
        raise NotImplementedError


@dataclass(frozen=True)
class Words(TextTest):
    """Any of ``words`` occurs in the text (as a substring; ``ignore_case`` folds case)."""

    words: tuple[str, ...]
    ignore_case: bool = False

    def __init__(self, *words: str, ignore_case: bool = False) -> None:
        object.__setattr__(self, "words", tuple(w.lower() for w in words) if ignore_case else words)
        object.__setattr__(self, "ignore_case", ignore_case)

    def matches(self, text: str) -> bool:
        if self.ignore_case:
            text = text.lower()
        return any(word in text for word in self.words)


@dataclass(frozen=True)
class Pattern(TextTest):
    """A regular expression found in the text. Avoid a leading ``\\b``: ``re`` then tries
    every position; with ``word_start`` the match is checked to begin a word instead."""

    regex: str
    word_start: bool = False

    def matches(self, text: str) -> bool:
        compiled = _compiled(self.regex)
        if not self.word_start:
            return compiled.search(text) is not None
        return any(m.start() == 0 or not _is_word(text[m.start() - 1]) for m in compiled.finditer(text))


@dataclass(frozen=True)
class AllOf(TextTest):
    tests: tuple[TextTest, ...]

    def __init__(self, *tests: TextTest) -> None:
        object.__setattr__(self, "tests", tests)

    def matches(self, text: str) -> bool:
        return all(test.matches(text) for test in self.tests)


@dataclass(frozen=True)
class AnyOf(TextTest):
    tests: tuple[TextTest, ...]

    def __init__(self, *tests: TextTest) -> None:
        object.__setattr__(self, "tests", tests)

    def matches(self, text: str) -> bool:
        return any(test.matches(text) for test in self.tests)


@dataclass(frozen=True)
class Always(TextTest):
    def matches(self, text: str) -> bool:
        return True


@dataclass(frozen=True)
class Never(TextTest):
    def matches(self, text: str) -> bool:
        return False


ALWAYS = Always()
NEVER = Never()

_COMPILED: dict[str, re.Pattern] = {}


def _compiled(regex: str) -> re.Pattern:
    found = _COMPILED.get(regex)
    if found is None:
        found = _COMPILED[regex] = re.compile(regex)
    return found


def _is_word(char: str) -> bool:
    return char.isalnum() or char == "_"
