"""The unscale fix of GL801 (clipping gradients still multiplied by the GradScaler's scale)."""

from __future__ import annotations

import ast

import pytest
from conftest import ROOT

from gradlint.diagnostics import Finding, Location
from gradlint.fixes._tree import FixTree
from gradlint.fixes.apply import apply_fixes
from gradlint.fixes.unscale import repair
from gradlint.rule import rule_by_code_or_name

FIXTURE = ROOT / "tests" / "fixtures" / "fixes" / "clip_scaled_gradients.py"


def _clip_finding(text: str, path: str) -> Finding:
    """Where GL801 points: the clip_grad_norm_ call."""
    number = next(i for i, line in enumerate(text.splitlines(), 1) if "clip-scaled" in line)
    line = text.splitlines()[number - 1]
    start = line.index("torch.nn.utils")
    end = line.index("  # clip-scaled")
    return Finding(
        "GL801",
        "clip-scaled-gradients",
        "error",
        "m",
        Location(path, number, start + 1, number, end + 1),
    )


def test_unscale_goes_before_the_clipping():
    text = FIXTURE.read_text(encoding="utf-8")
    fix = repair(FixTree(str(FIXTURE), text), _clip_finding(text, str(FIXTURE)))
    fixed = apply_fixes(text, [fix])
    ast.parse(fixed)
    lines = fixed.splitlines()
    at = next(i for i, line in enumerate(lines) if "clip_grad_norm_" in line)
    assert lines[at - 1] == "        grad_scaler.unscale_(optimizer)"
    assert lines[at - 2] == "        grad_scaler.scale(loss).backward()"
    assert len(lines) == len(text.splitlines()) + 1
    # applied again, nothing: the loop unscales already
    assert repair(FixTree(str(FIXTURE), fixed), _clip_finding(fixed, str(FIXTURE))) is None


def test_no_guess_between_two_optimisers():
    text = FIXTURE.read_text(encoding="utf-8").replace(
        "        grad_scaler.update()",
        "        grad_scaler.step(other)\n        grad_scaler.update()",
    )
    assert repair(FixTree("x.py", text), _clip_finding(text, "x.py")) is None


def test_gl801_declares_the_unscale_fix():
    rule = rule_by_code_or_name("GL801")
    if rule is None:
        pytest.skip("GL801 (clip-scaled-gradients) is not written yet")
    assert rule.fix == "unscale"


def test_no_unscale_in_every_micro_batch_of_an_accumulation():
    """A step every k micro-batches: a second unscale_ before update() raises, so no fix."""
    from fix_harness import checker, fix_in_memory

    path = ROOT / "tests" / "corpus" / "numerics" / "amp_everydream_accumulation.py"
    fixed, applied, before, _ = fix_in_memory(path, path.read_text(encoding="utf-8"), checker(["GL8"]))
    assert "GL801" in {f.code for f in before}
    assert not applied and "unscale_" not in fixed


def test_the_scaler_of_a_helper_method():
    """The clip in a helper of the updater (rwth-i6/returnn, issue #1590): the names the rule
    followed into it."""
    from fix_harness import checker, fix_in_memory

    path = ROOT / "tests" / "corpus" / "numerics" / "amp_returnn_updater_helper.py"
    fixed, applied, _, after = fix_in_memory(path, path.read_text(encoding="utf-8"), checker(["GL8"]))
    assert "            self._grad_scaler.unscale_(self.optimizer)\n" in fixed
    assert applied and "GL801" not in {f.code for f in after}
