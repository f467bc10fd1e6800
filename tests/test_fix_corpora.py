"""ruff's guarantees for fixes, on every file of the labelled corpora and the rule fixtures:
a fix never breaks the syntax, fixing converges (a second pass changes nothing), the
fixed findings are gone and no new finding appears, and the user's comments all survive."""

from __future__ import annotations

import ast
from collections import Counter

import pytest
from conftest import ROOT
from fix_harness import checker, comments, findings_of, fix_in_memory

from gradlint.fixes import fix_declared, fixes_for
from gradlint.rule import all_rules

FILES = sorted(
    p
    for folder in ("tests/corpus", "tests/fixtures/code_rules")
    for p in (ROOT / folder).rglob("*.py")
)
CHECKER = checker()


@pytest.mark.parametrize("path", FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_fixes_are_sound(path):
    text = path.read_text(encoding="utf-8")
    fixed, applied, before, after = fix_in_memory(path, text, CHECKER)
    if not applied:
        return
    ast.parse(fixed)  # no fix produces a syntax error
    codes_before = Counter(f.code for f in before)
    codes_after = Counter(f.code for f in after)
    assert not codes_after - codes_before, f"new findings: {codes_after - codes_before}"
    for fix in applied:
        assert codes_after[fix.code] < codes_before[fix.code], (
            f"{fix.code} still reported after its fix"
        )
    again, more, _, _ = fix_in_memory(path, fixed, CHECKER)
    assert not more and again == fixed, "a second --fix changed the file again"
    assert comments(fixed) == comments(text), "a comment was lost or changed"


def test_the_corpora_exercise_every_fix():
    """Each fix module repairs something in the corpora, so the checks above mean something."""
    seen = set()
    for path in FILES:
        text = path.read_text(encoding="utf-8")
        found = [f for f in findings_of(path, text, CHECKER) if fix_declared(f.code)]
        seen.update(fix.code for fix in fixes_for(str(path), text, found))
    declared = {cls.code for cls in all_rules() if cls.fix is not None}
    assert declared <= seen, declared - seen
