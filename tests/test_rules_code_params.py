"""GL7xx on fixtures: each file's findings are exactly its ``# expect:`` labels."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from gradlint.config import Config
from gradlint.engine import Checker, check_python

FIXTURES = Path(__file__).parent / "fixtures" / "code_rules" / "params"
EXPECT = re.compile(r"#\s*expect:\s*(GL\d{3}(?:\s*,\s*GL\d{3})*)")


def labels(path: Path) -> set[tuple[int, str]]:
    found = set()
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        match = EXPECT.search(line)
        if match:
            found |= {(number, code) for code in re.split(r"\s*,\s*", match.group(1))}
    return found


@pytest.mark.parametrize("path", sorted(FIXTURES.glob("*.py")), ids=lambda p: p.name)
def test_findings_are_the_labels(path):
    result = check_python(path, str(path), Checker.from_config(Config(select=["GL7"])))
    assert not result.errors, result.errors
    assert {(f.location.line, f.code) for f in result.findings} == labels(path)


def test_every_rule_has_positives_and_clean_files():
    every = set().union(*(labels(p) for p in FIXTURES.glob("*.py")))
    assert {code for _, code in every} >= {"GL701", "GL702", "GL703", "GL704"}
    assert any(not labels(p) for p in FIXTURES.glob("*.py"))


def test_plain_list_message_names_the_modules_and_the_count():
    path = FIXTURES / "plain_lists.py"
    result = check_python(path, str(path), Checker.from_config(Config(select=["GL701"])))
    first = min(result.findings, key=lambda f: f.location.line)
    assert first.message.startswith("self.layers is a plain list of 4 Linear module(s), 1,088")
    assert first.extra["parameter_count"] == 4 * (16 * 16 + 16)
