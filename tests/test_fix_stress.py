"""Every transform aimed at every call and assignment of the corpora, as if a finding pointed
there: none raises, and none produces a syntax error. Real findings are far fewer; this is
what the transforms do on code they were never meant for."""

from __future__ import annotations

import ast
import importlib

import libcst as cst
import pytest
from conftest import ROOT

from gradlint.diagnostics import Finding, Location
from gradlint.fixes._tree import FixTree
from gradlint.fixes.apply import apply_fixes
from gradlint.rule import all_rules

FILES = sorted(
    p
    for folder in ("tests/corpus", "tests/fixtures/code_rules")
    for p in (ROOT / folder).rglob("*.py")
)
MODULES = {cls.code: cls.fix for cls in all_rules() if cls.fix} | {"GL801": "unscale"}


@pytest.mark.slow
@pytest.mark.parametrize("path", FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_no_transform_breaks_the_syntax_anywhere(path):
    text = path.read_text(encoding="utf-8")
    tree = FixTree(str(path), text)
    for node, pos in list(tree._positions.items()):
        if not isinstance(node, (cst.Call, cst.Assign, cst.AugAssign)):
            continue
        where = Location(
            str(path), pos.start.line, pos.start.column + 1, pos.end.line, pos.end.column + 1
        )
        span = [where.line, where.column, where.end_line, where.end_column]
        for code, module in MODULES.items():
            finding = Finding(code, "x", "error", "m", where, extra={"activation_span": span})
            fix = importlib.import_module(f"gradlint.fixes.{module}").repair(tree, finding)
            if fix is not None:
                try:
                    ast.parse(apply_fixes(text, [fix]))
                except SyntaxError as exc:
                    pytest.fail(f"{code} aimed at {where.line}:{where.column}: {exc}")
