"""GL8xx and GL607: mixed precision and unclipped recurrences in training loops.

Each case is a file under tests/fixtures/code_rules/amp/: its ``# expect:`` comments are exactly
what the GL8 rules and GL607 report on it; a finding lost or one more fails.
"""

from __future__ import annotations

import pytest
from code_rules_helpers import case, cases, expected, file_findings, line_of, reported


@pytest.mark.parametrize("path", cases("amp"))
def test_findings_are_exactly_the_inline_expectations(path, monkeypatch):
    found = reported(path, "GL8", monkeypatch) | reported(path, "GL607", monkeypatch)
    assert found == expected(path)


def test_clip_message_names_the_scaled_backward():
    path = case("amp", "loop_shapes_and_scalers.py")
    found = [f for f in file_findings(path, "GL801") if f.location.line == line_of(path, "netG.parameters(), 1.0)")]
    assert len(found) == 1
    assert f"line {line_of(path, 'scaler.scale(errG).backward()')}" in found[0].message


def test_recurrent_finding_carries_the_rate():
    path = case("amp", "recurrent_rates.py")
    (found,) = file_findings(path, "GL607")
    assert found.extra["lr"] == 5.0 and found.extra["optimizer"] == "SGD"
    assert "`RNN` in TanhRNN" in found.message


def test_min_lr_option_moves_the_threshold():
    path = case("amp", "recurrent_rates.py")
    assert file_findings(path, "GL607", {"GL607": {"min-lr": {"SGD": 10.0}}}) == []


def test_clip_finding_names_the_scaler_and_optimizer_to_unscale():
    path = case("amp", "loop_shapes_and_scalers.py")
    by_line = {f.location.line: f.extra for f in file_findings(path, "GL801")}
    assert by_line[line_of(path, "netG.parameters(), 1.0)")] == {"scaler": "scaler", "optimizer": "optG"}
    assert by_line[line_of(path, "clip_grad_value_(model.parameters(), 0.5)")] == {"optimizer": "optimizer"}
