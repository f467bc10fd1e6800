"""GL8xx and GL607: mixed precision and unclipped recurrences in training loops.

Each case is a file under tests/fixtures/code_rules/amp/: its ``# expect:`` comments are exactly
what the GL8 rules and GL607 report on it; a finding lost or one more fails.
"""

from __future__ import annotations

import pytest
from code_rules_helpers import case, cases, expected, file_findings, line_of, reported
from conftest import ROOT

CORPUS = ROOT / "tests" / "corpus" / "numerics"


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


def test_recurrent_finding_names_the_depth_in_time_when_the_file_gives_it():
    (unknown,) = file_findings(case("amp", "recurrent_rates.py"), "GL607")
    assert unknown.extra["steps"] is None and "grows with the steps in time" in unknown.message
    word_lm = CORPUS / "rnn_tanh_three_layer_sgd.py"
    (known,) = file_findings(word_lm, "GL607")
    assert known.extra["steps"] == 35
    assert "over 35 steps in time (`bptt`)" in known.message
    assert "products of up to 35 recurrent Jacobians" in known.message


def test_depth_in_time_reads_argparse_defaults_and_names_bound_once():
    import libcst as cst

    from gradlint.codefacts.recurrence import depth_in_time

    def depth(text):
        return depth_in_time(cst.parse_module(text))

    assert depth("import argparse\np = argparse.ArgumentParser()\n"
                 "p.add_argument('--bptt', type=int, default=35)\n") == (35, "`--bptt` default")
    assert depth("SEQ_LEN = 64\n") == (64, "`SEQ_LEN`")
    assert depth("def f():\n    seq_len = 1\n") == (1, "`seq_len`")
    # bound to two numbers, or to something not a number: unknown
    assert depth("seq_len = 10\nif big:\n    seq_len = 100\n") is None
    assert depth("seq_len = x.size(0)\n") is None
    assert depth("hidden = 35\n") is None
    # a default no int() takes is no depth, and no traceback
    assert depth("import argparse\np = argparse.ArgumentParser()\n"
                 "p.add_argument('--bptt', type=float, default=1e999)\n") is None
    assert depth("seq_len = 1e999\n") is None


def test_min_lr_option_moves_the_threshold():
    path = case("amp", "recurrent_rates.py")
    assert file_findings(path, "GL607", {"GL607": {"min-lr": {"SGD": 10.0}}}) == []


def test_clip_finding_names_the_scaler_and_optimizer_to_unscale():
    path = case("amp", "loop_shapes_and_scalers.py")
    by_line = {f.location.line: f.extra for f in file_findings(path, "GL801")}
    assert by_line[line_of(path, "netG.parameters(), 1.0)")] == {"scaler": "scaler", "optimizer": "optG"}
    assert by_line[line_of(path, "clip_grad_value_(model.parameters(), 0.5)")] == {"optimizer": "optimizer"}
