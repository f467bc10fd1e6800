"""Applying fixes to a text: which may go together, and the text they make."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from gradlint.config import selector_match
from gradlint.diagnostics import Edit, Fix
from gradlint.reading import line_offsets


@dataclass
class FixPolicy:
    """Which fixes a run applies: ruff's ``fixable``/``unfixable``/``extend-safe-fixes``
    and ``extend-unsafe-fixes`` (code prefixes), and ``--unsafe-fixes``."""

    unsafe: bool = False
    fixable: list[str] = field(default_factory=lambda: ["ALL"])
    unfixable: list[str] = field(default_factory=list)
    extend_safe: list[str] = field(default_factory=list)
    extend_unsafe: list[str] = field(default_factory=list)

    def safety(self, fix: Fix) -> str:
        if selector_match(fix.code, self.extend_unsafe) > selector_match(fix.code, self.extend_safe):
            return "unsafe"
        if selector_match(fix.code, self.extend_safe) >= 0:
            return "safe"
        return fix.safety

    def allows(self, fix: Fix) -> bool:
        chosen = selector_match(fix.code, self.fixable)
        if chosen < 0 or selector_match(fix.code, self.unfixable) >= chosen:
            return False
        return self.unsafe or self.safety(fix) == "safe"


def _span(edit: Edit, starts: list[int]) -> tuple[int, int]:
    return starts[edit.start_line - 1] + edit.start_column - 1, starts[
        edit.end_line - 1
    ] + edit.end_column - 1


def compatible(fixes: Iterable[Fix]) -> list[Fix]:
    """The fixes that go together, first come first: a fix whose edits touch a line another
    chosen fix edits waits for the next round, when it is made again on the new text."""
    chosen: list[Fix] = []
    taken: set[int] = set()
    for fix in fixes:
        lines = {n for e in fix.edits for n in range(e.start_line, e.end_line + 1)}
        if lines & taken:
            continue
        chosen.append(fix)
        taken |= lines
    return chosen


def apply_fixes(text: str, fixes: Iterable[Fix]) -> str:
    """``text`` with the edits of ``fixes`` made; the fixes must not overlap."""
    starts = line_offsets(text)
    spans = sorted(
        ((*_span(e, starts), e.replacement) for fix in fixes for e in fix.edits),
        key=lambda s: (s[0], s[1]),
    )
    out: list[str] = []
    cursor = 0
    for start, end, replacement in spans:
        if start < cursor:
            raise ValueError("overlapping edits")
        out.append(text[cursor:start])
        out.append(replacement)
        cursor = end
    out.append(text[cursor:])
    return "".join(out)
