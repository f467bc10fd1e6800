"""Each rule that declares a fix: its page says so, and its bad examples fix to code the rule
no longer flags, that parses, with nothing new reported and nothing left to fix."""

from __future__ import annotations

import ast
import re

import pytest
from fix_harness import checker, fix_in_memory

from gradlint.docs import load_doc
from gradlint.rule import all_rules

FIXABLE = [cls for cls in all_rules() if cls.fix is not None]


@pytest.mark.parametrize("cls", all_rules(), ids=lambda c: c.code)
def test_page_states_the_fix(cls):
    line = re.search(r"^- \*\*Fix\*\*: (.+)$", load_doc(cls.code).text, re.MULTILINE)
    assert line is not None, f"rules/{cls.code}.md has no '- **Fix**:' line"
    if cls.fix is None:
        assert line.group(1) == "not available"
    elif cls.fix_safety == "unsafe":
        assert line.group(1) == "unsafe"
    else:
        assert line.group(1) in ("safe", "sometimes")
    if cls.fix is not None:
        section = load_doc(cls.code).sections.get("Fix safety", "")
        assert "No fix is offered." not in section and len(section) > 80


@pytest.mark.parametrize("cls", FIXABLE, ids=lambda c: c.code)
def test_bad_examples_fix_clean(cls, tmp_path):
    chk = checker([cls.code])
    for index, snippet in enumerate(load_doc(cls.code).bad_examples):
        path = tmp_path / f"example_{index}.py"
        fixed, applied, before, after = fix_in_memory(path, snippet, chk)
        assert cls.code in {f.code for f in before}
        assert applied, f"{cls.code} declares a fix but made none on:\n{snippet}"
        ast.parse(fixed)
        assert cls.code not in {f.code for f in after}, fixed
        again, more, _, _ = fix_in_memory(path, fixed, chk)
        assert not more and again == fixed


@pytest.mark.parametrize("cls", FIXABLE, ids=lambda c: c.code)
def test_good_examples_need_no_fix(cls, tmp_path):
    chk = checker([cls.code])
    for index, snippet in enumerate(load_doc(cls.code).good_examples):
        path = tmp_path / f"example_{index}.py"
        fixed, applied, _, _ = fix_in_memory(path, snippet, chk)
        assert not applied and fixed == snippet
