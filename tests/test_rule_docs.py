"""Every rule is documented in rules/, and its Bad and Good examples behave as documented."""

from __future__ import annotations

import pytest

from gradlint.config import Config
from gradlint.docs import ALL_SECTIONS, REQUIRED_SECTIONS, load_doc, rules_dir
from gradlint.engine import Checker, check_python
from gradlint.rule import CODE_PATTERN, NAME_PATTERN, all_rules

RULES = all_rules()


def test_codes_and_names_are_unique_and_well_formed():
    codes = [r.code for r in RULES]
    names = [r.name for r in RULES]
    assert len(set(codes)) == len(codes)
    assert len(set(names)) == len(names)
    for cls in RULES:
        assert CODE_PATTERN.match(cls.code), cls.code
        assert NAME_PATTERN.match(cls.name), cls.name
        assert cls.summary and cls.severity in ("error", "warning", "info")


@pytest.mark.parametrize("cls", RULES, ids=lambda c: c.code)
def test_rule_has_documentation(cls):
    doc = load_doc(cls.code)
    assert doc is not None, f"rules/{cls.code}.md is missing or has no '# {cls.code}: name' title"
    assert doc.name == cls.name
    for section in REQUIRED_SECTIONS:
        assert doc.sections.get(section, "").strip(), f"{cls.code}: section '{section}' is empty"
    assert set(doc.sections) <= set(ALL_SECTIONS), set(doc.sections) - set(ALL_SECTIONS)
    assert doc.bad_examples and doc.good_examples


def test_no_orphan_documentation():
    codes = {r.code for r in RULES}
    for page in rules_dir().glob("GL*.md"):
        assert page.stem in codes, f"{page.name} documents no rule"


def _codes_on(snippet: str, code: str, tmp_path) -> set[str]:
    path = tmp_path / "example.py"
    path.write_text(snippet, encoding="utf-8")
    config = Config(select=[code])
    if code != "GL001":
        config.select = [code]
    else:
        config.select = ["ALL"]
    result = check_python(path, str(path), Checker.from_config(config))
    assert not result.errors, result.errors
    return {f.code for f in result.findings}


@pytest.mark.parametrize("cls", RULES, ids=lambda c: c.code)
def test_bad_example_is_reported(cls, tmp_path):
    doc = load_doc(cls.code)
    for snippet in doc.bad_examples:
        assert cls.code in _codes_on(snippet, cls.code, tmp_path), snippet


@pytest.mark.parametrize("cls", RULES, ids=lambda c: c.code)
def test_good_example_is_clean(cls, tmp_path):
    doc = load_doc(cls.code)
    for snippet in doc.good_examples:
        assert cls.code not in _codes_on(snippet, cls.code, tmp_path), snippet
