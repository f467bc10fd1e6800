"""GL6xx: order of backward, zero_grad, step and clipping; hand-written updates; learning rates.

Each case is a file under tests/fixtures/code_rules/loop/: its ``# expect: GL6xx``
comments are exactly what the GL6 rules report on it; a finding lost or one more fails.
Options and the command line are tested on their own below.
"""

from __future__ import annotations

import json

import pytest
from code_rules_helpers import case, cases, expected, file_findings, line_of, reported


@pytest.mark.parametrize("path", cases("loop"))
def test_findings_are_exactly_the_inline_expectations(path, monkeypatch):
    assert reported(path, "GL6", monkeypatch) == expected(path)


def test_zero_grad_between_backward_and_step_names_the_step():
    path = case("loop", "zero_grad_between_backward_and_step.py")
    (found,) = file_findings(path, "GL602")
    assert found.location.line == line_of(path, "self.optimizer.zero_grad()")
    assert f"line {line_of(path, 'self.scaler.step(self.optimizer)')}" in found.message


def test_learning_rates_carry_the_value_judged():
    path = case("loop", "learning_rates.py")
    found = sorted(file_findings(path, "GL606"), key=lambda f: f.location.line)
    assert [(f.location.line, f.extra["lr"]) for f in found] == [
        (line_of(path, "lr=LR)"), 5.0),
        (line_of(path, "SGD(model.parameters(), 0.0)"), 0.0),
        (line_of(path, '"lr": 1e-9'), 1e-9),
    ]
    assert "lr=0" in found[1].message


def test_learning_rate_ranges_come_from_the_project_config(cli, tmp_path):
    (tmp_path / "pyproject.toml").write_text(
        '[tool.gradlint]\nselect = ["GL6"]\n\n[tool.gradlint.options.GL606]\n"lr-ranges" = { Adam = [1e-6, 10.0] }\n',
        encoding="utf-8",
    )
    (tmp_path / "train.py").write_text(
        "import torch\nmodel = torch.nn.Linear(2, 2)\n"
        "a = torch.optim.Adam(model.parameters(), lr=1.0)\n"
        "b = torch.optim.SGD(model.parameters(), lr=100)\n",
        encoding="utf-8",
    )
    proc = cli("check", "--format", "json", str(tmp_path), cwd=tmp_path)
    assert proc.returncode == 1, proc.stderr
    data = json.loads(proc.stdout)
    assert [(f["line"], f["code"]) for f in data["findings"]] == [(4, "GL606")]


def test_cli_reports_loop_defects_in_text(cli, tmp_path):
    (tmp_path / "script.py").write_text(
        "import torch\n"
        "model = torch.nn.Linear(3, 1)\n"
        "opt = torch.optim.SGD(model.parameters(), lr=0.01)\n"
        "for step in range(100):\n"
        "    loss = model(torch.randn(8, 3)).pow(2).mean()\n"
        "    loss.backward()\n"
        "    opt.step()\n",
        encoding="utf-8",
    )
    proc = cli("check", "--output-format", "concise", "--select", "GL6", "script.py", cwd=tmp_path)
    assert proc.returncode == 1
    assert "script.py:7:5: GL601" in proc.stdout
