"""GL5xx: graph cuts in forward, judged by whether parameters lose every path to the output.

Each case is a file under tests/fixtures/code_rules/cuts/: its ``# expect: GL5xx``
comments are exactly what the GL5 rules report on it; a finding lost or one more fails.
"""

from __future__ import annotations

import pytest
from code_rules_helpers import case, cases, expected, file_findings, line_of, reported


@pytest.mark.parametrize("path", cases("cuts"))
def test_findings_are_exactly_the_inline_expectations(path, monkeypatch):
    assert reported(path, "GL5", monkeypatch) == expected(path)


def only_finding(name: str, select: str):
    path = case("cuts", name)
    (found,) = file_findings(path, select)
    assert {(path.name, found.location.line, found.code)} == expected(path)
    return path, found


def test_detach_names_the_parameters_it_cuts_off():
    path, found = only_finding("detach_before_the_head.py", "GL501")
    line = line_of(path, "z = z.detach()")
    assert found.message.startswith(f"self.encoder (Linear) gets no gradient: `.detach()` at line {line}")
    assert found.extra["parameters"] == ["self.encoder"]


def test_no_grad_names_the_module_upstream():
    _, found = only_finding("no_grad_upstream_and_frozen_teacher.py", "GL502")
    assert "self.backbone (Linear)" in found.message


def test_a_cut_inside_a_helper_names_the_module_list():
    _, found = only_finding("cut_inside_a_helper_method.py", "GL501")
    assert "self.msg (ModuleList)" in found.message


def test_data_on_an_inherited_weight_names_the_parameter():
    _, found = only_finding("data_of_an_inherited_weight.py", "GL501")
    assert "self.weight (Parameter)" in found.message


def test_a_module_of_unknown_type_is_named_without_one():
    _, found = only_finding("detach_of_an_encoder_from_the_constructor.py", "GL501")
    assert found.message.startswith("self.encoder gets no gradient")
