"""The planner's filters are for speed only: every filter off, the reports are the same."""

from __future__ import annotations

import gc
import json

import pytest

from gradlint import check_file, engine, rule
from gradlint.config import Config
from gradlint.reporters import ReportContext, render
from gradlint.rule import SourceRule
from tests.conftest import ROOT

TREES = [
    "tests/corpus/code", "tests/corpus/models", "tests/corpus/params", "tests/corpus/numerics",
    "tests/fixtures",
]


@pytest.fixture(autouse=True)
def _forget_recent_trees():
    """The runs here parse whole trees; later tests in this process must not find them kept."""
    from gradlint import reading, source

    yield
    source._RECENT.clear()
    reading._RECENT_TREES.clear()


def _report(tree: str, filters: bool, select: list[str]) -> dict:
    config = Config(root=ROOT, select=select)
    outcome = engine.run([ROOT / tree], config, jobs=1, use_cache=False, filters=filters)
    return json.loads(render("json", outcome, ReportContext(root=ROOT)))


@pytest.mark.slow
@pytest.mark.parametrize("tree", TREES)
@pytest.mark.parametrize("select", [["ALL"], ["GL4", "GL5", "GL6"], ["GL7"]])
def test_every_filter_off_gives_the_same_report(monkeypatch, tree, select):
    monkeypatch.chdir(ROOT)
    assert _report(tree, True, select) == _report(tree, False, select)


def test_the_filters_leave_files_out_of_the_parse(monkeypatch):
    """The filters must do something for the test above to mean anything."""
    parsed: list[str] = []
    real = check_file._parse

    def spy(shown, text, checker=None, project=None):
        source = real(shown, text, checker, project)
        if source is not None and source is not check_file._SCREENED:
            parsed.append(shown)
        return source

    monkeypatch.setattr(check_file, "_parse", spy)
    monkeypatch.chdir(ROOT)
    config = Config(root=ROOT, select=["GL4", "GL5", "GL6"])
    engine.run([ROOT / "tests/corpus/models"], config, jobs=1, use_cache=False)
    filtered = len(parsed)
    parsed.clear()
    engine.run([ROOT / "tests/corpus/models"], config, jobs=1, use_cache=False, filters=False)
    assert filtered < len(parsed)


def test_a_source_rule_must_declare_what_it_needs():
    class Undeclared(SourceRule):
        code = "GL699"
        name = "undeclared"
        summary = "a rule that forgot its declaration"

    rule.all_rules.cache_clear()
    try:
        with pytest.raises(TypeError, match="GL699 .* declares no `needs`"):
            rule.all_rules()
    finally:
        del Undeclared
        gc.collect()
        rule.all_rules.cache_clear()
    assert "GL699" not in {cls.code for cls in rule.all_rules()}


def test_every_source_rule_declares_its_needs():
    for cls in rule.all_rules():
        if issubclass(cls, SourceRule):
            assert "needs" in {k for c in cls.__mro__ for k in vars(c)}, cls
