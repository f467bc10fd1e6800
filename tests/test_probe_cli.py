"""`gradlint probe` end to end: the real command on fixture model files. The command runs in
this process, as click invokes it; each model is measured in the child process it starts."""

from __future__ import annotations

import copy
import functools
import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT, invoke_cli, requires_torch

FIXTURES = ROOT / "tests" / "fixtures" / "probe"

# Each probe starts a child that imports torch: seconds apiece.
pytestmark = [pytest.mark.slow, requires_torch]


def probe(*args: str, cwd: Path | None = None):
    return invoke_cli("probe", *args, cwd=cwd)


def probe_json(target: str, *args: str) -> tuple[int, dict]:
    """A fresh probe of a fixture model, JSON report parsed."""
    done = probe(f"{FIXTURES / target}", "--format", "json", *args)
    assert done.stdout, done.stderr
    return done.returncode, json.loads(done.stdout)


@functools.cache
def _probed_once(target: str, *args: str) -> tuple[int, dict]:
    return probe_json(target, *args)


def probed(target: str, *args: str) -> tuple[int, dict]:
    """``probe_json``, run once per process for the same target and arguments: the report is
    deterministic (seeded), so tests that only read it share one run. A test about running
    again (the seed) calls ``probe_json``."""
    code, doc = _probed_once(target, *args)
    return code, copy.deepcopy(doc)


def verdict(doc: dict, name: str) -> dict:
    return next(v for v in doc["verdicts"] if v["name"] == name)


def test_deep_sigmoid_mlp_vanishes_and_cites_both_thresholds():
    code, doc = probed("deep_sigmoid.py:build")
    assert code == 1
    vanishing = verdict(doc, "vanishing")
    assert vanishing["problem"]
    assert vanishing["thresholds"] == {"ratio": 1e-3, "first_grad_norm": 1e-4}
    assert vanishing["first_grad_norm"] < 1e-4
    assert doc["log10_grad_ratio"] < -3
    assert "AUTOTRAINER" in vanishing["source"]
    assert not verdict(doc, "exploding")["problem"]
    assert doc["device"] == "cpu" and doc["seed"] == 0
    weights = [row["name"] for row in doc["layers"] if row["kind"] == "weight"]
    assert weights[0] == "body.0.weight" and weights[-1] == "head.weight"


def test_deep_sigmoid_text_report_reads_as_a_table():
    done = probe(f"{FIXTURES / 'deep_sigmoid.py'}:build")
    assert done.returncode == 1
    out = done.stdout
    assert "layer" in out and "grad RMS" in out and "weight RMS" in out
    assert "PROBLEM  vanishing" in out
    assert "< 0.001" in out and "< 0.0001" in out
    assert "body.0.weight" in out


def test_healthy_resnet_block_passes_every_verdict():
    code, doc = probed("resnet_block.py:TinyResNet")
    assert code == 0, doc["verdicts"]
    assert doc["healthy"]
    assert not any(v["problem"] for v in doc["verdicts"])
    assert doc["dead_params"] == [] and doc["frozen_params"] == []
    relus = [row for row in doc["layers"] if row["kind"] == "dying"]
    assert relus and all(0.2 < row["fraction"] < 0.7 for row in relus)
    assert "inferred from stem.0 (Conv2d)" in doc["input"]


def test_detach_in_forward_names_dead_params_and_keeps_frozen_apart():
    code, doc = probed("detach_model.py:build")
    assert code == 1
    assert doc["dead_params"] == [
        "encoder.0.weight",
        "encoder.0.bias",
        "encoder.2.weight",
        "encoder.2.bias",
    ]
    assert doc["frozen_params"] == ["embed.weight"]
    dead = verdict(doc, "dead-params")
    assert dead["problem"] and dead["names"] == doc["dead_params"]
    frozen_row = next(r for r in doc["layers"] if r["name"] == "embed.weight")
    assert frozen_row["flags"] == ["frozen"]
    assert "from the factory" in doc["input"]


def test_tuple_output_uses_the_first_element_and_notes_unused_heads():
    code, doc = probe_json("tuple_output.py:TwoHeads")
    assert doc["dead_params"] == ["aux.weight", "aux.bias"]
    # the last weight (aux.weight) got no gradient: the shared definition says null
    assert doc["log10_grad_ratio"] is None
    assert not verdict(doc, "dead-params")["problem"]
    assert "only the first enters the loss" in verdict(doc, "dead-params")["detail"]
    assert code == 0


def test_factory_returning_model_and_example_input():
    code, doc = probed("factory_example.py:build")
    assert code == 0
    assert doc["input"].startswith("example input (6, 4, 50)")
    assert doc["model_class"] == "Sequential"


def test_class_that_needs_an_input_shape():
    failed = probe(f"{FIXTURES / 'conv_needs_shape.py'}:MnistConv")
    assert failed.returncode == 3
    assert "--input-shape" in failed.stderr and "mat1 and mat2" in failed.stderr
    assert "Traceback" not in failed.stderr and len(failed.stderr.strip().splitlines()) == 1
    code, doc = probe_json("conv_needs_shape.py:MnistConv", "--input-shape", "8,1,28,28")
    assert code == 0
    assert doc["input"] == "randn(8, 1, 28, 28) --input-shape"


def test_class_needing_arguments_is_a_usage_error():
    done = probe(f"{FIXTURES / 'conv_needs_shape.py'}:NeedsArgs")
    assert done.returncode == 2
    assert "cannot be built without arguments" in done.stderr and "width" in done.stderr


def test_sibling_import_works_from_another_working_folder(tmp_path):
    done = probe("--format", "json", f"{FIXTURES / 'sibling' / 'net.py'}:build", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    doc = json.loads(done.stdout)
    assert any(row["module"].endswith("ff.0") for row in doc["layers"])


def test_failing_import_is_one_line_exit_3():
    done = probe(f"{FIXTURES / 'broken_import.py'}:build")
    assert done.returncode == 3
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1
    assert "fancy_layers_that_are_not_installed" in lines[0] and "import failed" in lines[0]
    assert done.stdout == ""


def test_shape_mismatch_names_the_users_line():
    done = probe(f"{FIXTURES / 'shape_mismatch.py'}:build")
    assert done.returncode == 3
    assert "shape_mismatch.py:11 in forward" in done.stderr
    assert "(8x14 and 13x64)" in done.stderr


def test_timeout_stops_an_infinite_loop_with_exit_124():
    done = probe(f"{FIXTURES / 'infinite_loop.py'}:build", "--timeout", "2")
    assert done.returncode == 124
    assert "did not finish within 2 s" in done.stderr


@pytest.mark.parametrize(
    "target, message",
    [
        ("deep_sigmoid.py:no_such_factory", "defines no 'no_such_factory'"),
        ("missing_file.py:build", "no such file"),
        ("deep_sigmoid.py", "is not FILE.py:NAME"),
    ],
)
def test_bad_targets_are_usage_errors(target, message):
    done = probe(f"{FIXTURES / target}")
    assert done.returncode == 2
    assert message in done.stderr


def test_bad_input_shape_is_a_usage_error():
    done = probe(f"{FIXTURES / 'deep_sigmoid.py'}:build", "--input-shape", "32,x")
    assert done.returncode == 2 and "input shape" in done.stderr


def test_dying_relu_and_saturation_verdicts():
    code, doc = probe_json("dying_relu.py:DeadReLUNet")
    assert code == 1
    dying = verdict(doc, "dying-relu")
    assert dying["problem"] and dying["names"] == ["act2"] and dying["threshold"] == 0.7
    assert next(r for r in doc["layers"] if r["name"] == "act2")["flags"] == ["dying-relu"]
    code, doc = probe_json("dying_relu.py:SaturatedTanh")
    assert code == 1
    saturation = verdict(doc, "saturation")
    assert saturation["problem"] and saturation["names"] == ["tanh"]
    assert "DeepDiagnosis" in saturation["source"]


def test_cross_entropy_loss_changes_the_measurement():
    _, mse = probed("factory_example.py:build")
    _, ce = probe_json("factory_example.py:build", "--loss", "cross-entropy")
    assert ce["loss"] == "cross-entropy"
    assert abs(ce["log10_grad_ratio"] - mse["log10_grad_ratio"]) > 1e-3


def test_seed_changes_the_model_reproducibly():
    _, first = probe_json("deep_sigmoid.py:build", "--seed", "3")
    _, again = probe_json("deep_sigmoid.py:build", "--seed", "3")
    _, other = probe_json("deep_sigmoid.py:build", "--seed", "4")
    assert first["log10_grad_ratio"] == again["log10_grad_ratio"]
    assert first["log10_grad_ratio"] != other["log10_grad_ratio"]


def _write_project(folder: Path, probe_table: str) -> None:
    for name in ("deep_sigmoid.py", "resnet_block.py"):
        (folder / "models").mkdir(exist_ok=True)
        (folder / "models" / name).write_text((FIXTURES / name).read_text())
    (folder / "pyproject.toml").write_text(
        f"[tool.gradlint]\n\n[tool.gradlint.probe]\n{probe_table}"
    )


def test_config_targets_run_with_no_arguments(tmp_path):
    _write_project(
        tmp_path,
        'targets = ["models/deep_sigmoid.py:build", "models/resnet_block.py:TinyResNet"]\n',
    )
    done = probe("--format", "json", cwd=tmp_path / "models")
    assert done.returncode == 1, done.stderr
    docs = json.loads(done.stdout)["probes"]
    assert [d["model_class"] for d in docs] == ["DeepSigmoidMLP", "TinyResNet"]
    assert [d["healthy"] for d in docs] == [False, True]


def test_config_thresholds_change_the_verdict(tmp_path):
    _write_project(
        tmp_path, 'targets = ["models/deep_sigmoid.py:build"]\nvanishing-ratio = 1e-12\n'
    )
    done = probe("--format", "json", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    doc = json.loads(done.stdout)
    assert doc["thresholds"]["vanishing_ratio"] == 1e-12
    assert (
        "< 1e-12" not in verdict(doc, "vanishing")["detail"]
        and ">= 1e-12" in verdict(doc, "vanishing")["detail"]
    )


def test_unknown_probe_config_key_is_a_usage_error(tmp_path):
    _write_project(tmp_path, "vanishing_ratio = 1e-3\n")
    done = probe(cwd=tmp_path)
    assert done.returncode == 2
    assert "unknown key(s) in [tool.gradlint.probe]: vanishing_ratio" in done.stderr


def test_no_target_anywhere_is_a_usage_error(tmp_path):
    done = probe(cwd=tmp_path)
    assert done.returncode == 2 and "no target" in done.stderr


def test_plot_writes_a_png_and_nothing_else(tmp_path):
    project = tmp_path / "project"
    project.mkdir()
    (project / "net.py").write_text((FIXTURES / "deep_sigmoid.py").read_text())
    before = sorted(p.name for p in project.iterdir())
    chart = tmp_path / "charts" / "flow.png"
    chart.parent.mkdir()
    done = probe(f"{project / 'net.py'}:build", "--plot", str(chart))
    assert done.returncode == 1, done.stderr
    assert chart.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert sorted(p.name for p in project.iterdir()) == before


def test_unwritable_plot_path_is_reported():
    done = probe(
        f"{FIXTURES / 'factory_example.py'}:build", "--plot", "/nonexistent-folder/flow.png"
    )
    assert done.returncode == 2 and "cannot write" in done.stderr


@pytest.mark.cuda
def test_cuda_pass_runs_on_the_device():
    torch = pytest.importorskip("torch")
    if not torch.cuda.is_available():
        pytest.skip("no CUDA device")
    code, doc = probe_json("resnet_block.py:TinyResNet", "--device", "cuda")
    assert code == 0
    assert doc["device"].startswith("cuda") and doc["device_name"] != "cpu"
    _, on_cpu = probe_json("resnet_block.py:TinyResNet", "--device", "cpu")
    assert abs(doc["log10_grad_ratio"] - on_cpu["log10_grad_ratio"]) < 0.05


def test_cuda_asked_for_without_a_device_is_a_usage_error():
    torch = pytest.importorskip("torch")
    if torch.cuda.is_available():
        pytest.skip("a CUDA device is present")
    done = probe(f"{FIXTURES / 'factory_example.py'}:build", "--device", "cuda")
    assert done.returncode == 2 and "no CUDA device" in done.stderr


def test_check_and_probe_registration_do_not_import_torch():
    script = (
        "import sys\n"
        "from gradlint.cli import main\n"
        "try:\n"
        f"    main(['check', {str(FIXTURES / 'deep_sigmoid.py')!r}])\n"
        "except SystemExit:\n"
        "    pass\n"
        "print(sorted(m for m in ('torch', 'numpy', 'onnx', 'matplotlib') if m in sys.modules))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], check=False, capture_output=True, text=True, cwd=ROOT
    )
    assert done.stdout.strip().splitlines()[-1] == "[]", done.stderr


@pytest.mark.parametrize(
    "factory, expected",
    [
        ("build_binary", "build failed: ValueError: need at least two classes, got 1"),
        ("build_huge", "build (out of memory) failed"),
        ("build_and_exit", "ended without a result (exit status 7)"),
    ],
)
def test_models_that_do_not_build_end_in_one_line_exit_3(factory, expected):
    done = probe(f"{FIXTURES / 'fails_to_build.py'}:{factory}")
    assert done.returncode == 3
    assert expected in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1


def test_a_file_named_like_a_standard_module_does_not_replace_it(tmp_path):
    (tmp_path / "copy.py").write_text((FIXTURES / "factory_example.py").read_text())
    done = probe("--format", "json", f"{tmp_path / 'copy.py'}:build")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["healthy"]
