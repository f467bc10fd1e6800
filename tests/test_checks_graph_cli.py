"""The graph rules through the real command line, on realistic model files.

Fixtures carry their verdicts inline (``# expect: GL101``). The python frontend
turns the files into layer graphs; where it is not present the fixture runs skip.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import expected_findings, invoke_cli

from gradlint.frontends.python import build_graphs
from gradlint.source import SourceFile

FIXTURES = Path(__file__).parent / "fixtures" / "gain"
GRAPH_CODES = ("GL101", "GL102", "GL103", "GL104", "GL105", "GL201", "GL202", "GL203", "GL301")


def _frontend_builds_graphs() -> bool:
    probe = "import torch.nn as nn\n\nclass M(nn.Module):\n    def __init__(self):\n        super().__init__()\n        self.fc = nn.Linear(4, 4)\n\n    def forward(self, x):\n        return self.fc(x)\n"
    return bool(build_graphs(SourceFile.parse("probe.py", probe), None))


needs_frontend = pytest.mark.skipif(not _frontend_builds_graphs(), reason="python frontend builds no graphs")


def _check_json(*args: str, cwd: Path | None = None) -> dict:
    done = invoke_cli("check", "--format", "json", "--exit-zero", *args, cwd=cwd)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


@needs_frontend
@pytest.mark.parametrize("fixture", sorted(FIXTURES.glob("*.py")), ids=lambda p: p.name)
def test_fixture_findings_match_inline_expectations(fixture):
    report = _check_json("--select", ",".join(GRAPH_CODES), str(fixture))
    assert not report["errors"], report["errors"]
    found = {(f["line"], f["code"]) for f in report["findings"]}
    assert found == expected_findings(fixture)


@needs_frontend
def test_models_carry_the_static_estimate():
    report = _check_json(str(FIXTURES / "saturating.py"))
    models = {m["class"]: m for m in report["models"]}
    assert models["SigmoidMLP"]["log10_grad_ratio"] < -6
    assert models["SigmoidMLP"]["depth"] == 11
    assert models["ShallowTanh"]["log10_grad_ratio"] > -2


@needs_frontend
def test_a_run_without_model_checks_builds_no_graph():
    # the layer graphs and their estimates are the model checks' cost: code-only runs skip them
    report = _check_json("--select", "GL4,GL5,GL6", str(FIXTURES / "saturating.py"))
    assert report["models"] == [] and report["findings"] == []
    assert _check_json("--select", "GL101", str(FIXTURES / "saturating.py"))["models"]


def test_rule_pages_are_printed():
    for code, name in (
        ("GL101", "saturating-activation-chain"),
        ("GL201", "zero-or-constant-init"),
        ("GL202", "mis-scaled-init"),
        ("GL203", "default-init-deep-plain-stack"),
        ("GL301", "deep-plain-stack"),
    ):
        done = invoke_cli("rule", code)
        assert done.returncode == 0, done.stderr
        assert f"{code}: {name}" in done.stdout
        if code != "GL201":  # the one graph rule without thresholds
            assert "min-gradient-ratio" in done.stdout


def test_threshold_options_are_accepted_and_unknown_ones_refused(tmp_path):
    model = tmp_path / "model.py"
    model.write_text((FIXTURES / "saturating.py").read_text(encoding="utf-8"), encoding="utf-8")
    (tmp_path / "pyproject.toml").write_text(
        "[tool.gradlint.options.GL101]\nmin-gradient-ratio = 1e-12\n", encoding="utf-8"
    )
    report = _check_json("model.py", cwd=tmp_path)
    assert not [f for f in report["findings"] if f["code"] == "GL101"]
    (tmp_path / "pyproject.toml").write_text(
        "[tool.gradlint.options.GL101]\nmin-ratio = 1e-12\n", encoding="utf-8"
    )
    done = invoke_cli("check", "model.py", cwd=tmp_path)
    assert done.returncode != 0
    assert "min-ratio" in (done.stderr + done.stdout)


BLOCK = '''import torch.nn as nn


class SigmoidBlock(nn.Module):
    def __init__(self, width):
        super().__init__()
        self.fc = nn.Linear(width, width)
        self.act = nn.Sigmoid()

    def forward(self, x):
        return self.act(self.fc(x))
'''

MODEL = '''import torch.nn as nn

from layers import SigmoidBlock


class Stack(nn.Module):
    def __init__(self, width=64, depth=10):
        super().__init__()
        self.body = nn.Sequential(
            *[SigmoidBlock(width) for _ in range(depth)]
        )
        self.head = nn.Linear(width, 1)

    def forward(self, x):
        return self.head(self.body(x))
'''


@needs_frontend
@pytest.mark.parametrize("target", [".", "model.py"], ids=["tree", "model file alone"])
def test_a_chain_of_imported_blocks_is_reported_in_the_model_file(tmp_path, target):
    """Linted alone, model.py still reads the block module beside it, as Python would."""
    (tmp_path / "layers.py").write_text(BLOCK)
    (tmp_path / "model.py").write_text(MODEL)
    report = _check_json("--select", ",".join(GRAPH_CODES), target, cwd=tmp_path)
    found = [(Path(f["path"]).name, f["line"], f["code"]) for f in report["findings"]]
    # the line that builds the blocks, not the block's own Linear in layers.py
    assert found == [("model.py", 10, "GL101")], found
    message = report["findings"][0]["message"]
    assert "body.0.fc" in message
