"""`gradlint check` on .onnx files, end to end, as a user runs it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

onnx = pytest.importorskip("onnx")
torch = pytest.importorskip("torch")

import _onnx_models as models
from conftest import invoke_cli, run_cli

from gradlint.check_file import check_onnx_file
from gradlint.config import Config
from gradlint.diagnostics import Finding, RunResult
from gradlint.engine import Checker
from gradlint.reporters import ReportContext, render


@pytest.fixture(scope="module")
def mlp(tmp_path_factory) -> Path:
    torch.manual_seed(0)
    model, example = models.deep_sigmoid_mlp(depth=4)
    return models.export(model, example, tmp_path_factory.mktemp("cli") / "sigmoid_mlp.onnx")


def _json(proc):
    assert "Traceback" not in proc.stderr, proc.stderr
    return json.loads(proc.stdout)


def test_json_has_the_model_record(mlp):
    proc = invoke_cli("check", "--format", "json", str(mlp), cwd=mlp.parent)
    report = _json(proc)
    assert report["errors"] == []
    (record,) = report["models"]
    assert record["path"] == "sigmoid_mlp.onnx"
    assert record["class"] == "sigmoid_mlp"
    assert record["source"] == "onnx" and record["complete"] is True
    assert proc.returncode == (1 if report["findings"] else 0)


def test_folders_are_walked_for_onnx_files(mlp, tmp_path):
    nested = tmp_path / "exported" / "v1"
    nested.mkdir(parents=True)
    (nested / "model.onnx").write_bytes(mlp.read_bytes())
    (tmp_path / "train.py").write_text("import torch\n", encoding="utf-8")
    report = _json(invoke_cli("check", "--format", "json", ".", cwd=tmp_path))
    assert [m["path"] for m in report["models"] if m.get("source") == "onnx"] == [
        "exported/v1/model.onnx"
    ]
    assert report["errors"] == []


def test_broken_files_are_one_line_each_and_the_run_goes_on(mlp, tmp_path):
    (tmp_path / "a_empty.onnx").write_bytes(b"")
    (tmp_path / "b_text.onnx").write_text("this is not a model\n", encoding="utf-8")
    (tmp_path / "c_truncated.onnx").write_bytes(mlp.read_bytes()[:700])
    bad_op = onnx.load(mlp)
    bad_op.graph.node[0].op_type = "NoSuchOp"
    onnx.save(bad_op, tmp_path / "d_unknown_op.onnx")
    (tmp_path / "e_good.onnx").write_bytes(mlp.read_bytes())
    proc = invoke_cli("check", "--format", "json", ".", cwd=tmp_path)
    report = _json(proc)
    assert proc.returncode == 1
    errors = {e["path"]: e["message"] for e in report["errors"]}
    assert errors["a_empty.onnx"] == "empty file: not an ONNX model"
    assert errors["b_text.onnx"].startswith("not an ONNX model")
    assert errors["c_truncated.onnx"].startswith("not an ONNX model")
    assert (
        errors["d_unknown_op.onnx"].startswith("invalid ONNX model:")
        and "NoSuchOp" in errors["d_unknown_op.onnx"]
    )
    assert len(errors) == 4
    assert [m["path"] for m in report["models"]] == ["e_good.onnx"]
    stderr_lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(stderr_lines) == 4 and all(": error: " in line for line in stderr_lines)


def test_init_checks_off_is_recorded(mlp):
    report = _json(
        invoke_cli("check", "--format", "json", "--onnx-init-checks", "off", str(mlp), cwd=mlp.parent)
    )
    assert report["models"][0]["init_checks"] is False
    on = _json(
        invoke_cli("check", "--format", "json", "--onnx-init-checks", "on", str(mlp), cwd=mlp.parent)
    )
    assert "init_checks" not in on["models"][0]


def test_missing_external_data_checks_the_structure_and_says_so(mlp, tmp_path):
    model = onnx.load(mlp)
    onnx.save_model(
        model,
        tmp_path / "ext.onnx",
        save_as_external_data=True,
        all_tensors_to_one_file=True,
        location="ext.bin",
        size_threshold=0,
    )
    present = _json(invoke_cli("check", "--format", "json", "ext.onnx", cwd=tmp_path))
    assert present["errors"] == [] and "weight_data" not in present["models"][0]
    (tmp_path / "ext.bin").unlink()
    absent = _json(invoke_cli("check", "--format", "json", "ext.onnx", cwd=tmp_path))
    assert absent["errors"] == []
    (record,) = absent["models"]
    assert record["weight_data"] == "absent" and "ext.bin" in record["note"]


def test_without_onnx_installed_one_line_says_how_to_get_it(mlp, tmp_path, monkeypatch):
    blocker = tmp_path / "blocker" / "onnx"
    blocker.mkdir(parents=True)
    (blocker / "__init__.py").write_text(
        "raise ImportError('No module named onnx')\n", encoding="utf-8"
    )
    monkeypatch.setenv("PYTHONPATH", str(blocker.parent))  # a process of its own: onnx is loaded here
    proc = run_cli("check", "--format", "json", str(mlp), cwd=tmp_path)
    report = _json(proc)
    (error,) = report["errors"]
    assert "pip install 'torch-gradlint[onnx]'" in error["message"]
    assert proc.returncode == 1


def test_checking_python_never_imports_onnx_numpy_or_torch(tmp_path):
    (tmp_path / "net.py").write_text(
        "import torch.nn as nn\n\nclass Net(nn.Module):\n    pass\n", encoding="utf-8"
    )
    code = (
        "import sys\nfrom pathlib import Path\nfrom gradlint.config import Config\nfrom gradlint.engine import run\n"
        "run([Path('net.py')], Config())\n"
        "print(sorted(m for m in ('onnx', 'numpy', 'torch') if m in sys.modules))\n"
    )
    import subprocess
    import sys

    from conftest import ROOT

    proc = subprocess.run(
        [sys.executable, "-c", code],
        cwd=tmp_path,
        check=False,
        capture_output=True,
        text=True,
        env={"PYTHONPATH": str(ROOT), "PATH": ""},
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "[]"


# -- reporting an ONNX finding: a rule stand-in that flags every sigmoid ------------------


class _FlagSigmoids:
    code = "GL001"

    def check_graph(self, graph):
        for node in graph.nodes:
            if node.activation == "sigmoid":
                yield Finding(
                    "GL001", "stand-in", "warning", f"sigmoid at {node.name}", node.location
                )


class _StandInChecker(Checker):
    @property
    def graph_rules(self):
        return [_FlagSigmoids()]


def test_findings_name_the_node_in_text_and_sarif(mlp, monkeypatch):
    monkeypatch.chdir(mlp.parent)  # the paths shown are relative to the current folder
    result = check_onnx_file(mlp, "sigmoid_mlp.onnx", _StandInChecker(Config(), []))
    assert len(result.findings) == 4
    run = RunResult(findings=result.findings, models=result.models, files_checked=1)
    text = render("concise", run, ReportContext(root=mlp.parent))
    first = result.findings[0].location
    assert f"sigmoid_mlp.onnx:{first.node}: GL001 sigmoid at {first.node}" in text.splitlines()
    sarif = json.loads(render("sarif", run, ReportContext(root=mlp.parent)))
    location = sarif["runs"][0]["results"][0]["locations"][0]
    (logical,) = location["logicalLocations"]
    assert logical["name"] == first.node
    assert logical["decoratedName"] == f"{first.node} (Sigmoid, node {first.node_index})"
    assert location["physicalLocation"]["artifactLocation"]["uri"] == "sigmoid_mlp.onnx"


def test_onnx_ignore_nodes_drops_findings_on_matching_nodes(mlp):
    every = check_onnx_file(mlp, "m.onnx", _StandInChecker(Config(), [])).findings
    ignored_name = every[0].location.node
    config = Config(onnx_ignore_nodes=[ignored_name[:-1] + "*"])
    kept = check_onnx_file(mlp, "m.onnx", _StandInChecker(config, [])).findings
    assert ignored_name not in {f.location.node for f in kept}
    assert 0 < len(kept) < len(every)


def test_a_bias_of_minus_ten_before_relu_is_gl103_on_the_exported_graph(tmp_path):
    """The measured bias mean of an initialiser reaches the gain model like a recorded init."""
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(64, 128), torch.nn.ReLU(), torch.nn.Linear(128, 1))
    torch.nn.init.constant_(model[0].bias, -10.0)
    path = models.export(model, torch.randn(4, 64), tmp_path / "dead.onnx")
    report = _json(invoke_cli("check", "--format", "json", "--select", "GL103", str(path), cwd=tmp_path))
    [finding] = report["findings"]
    assert finding["code"] == "GL103" and "mean -10" in finding["message"]
