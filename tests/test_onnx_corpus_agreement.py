"""The same GL1/GL2/GL3 verdicts on a corpus model's source and on its ONNX export.

For every corpus file with a top-level build(): export the model with torch.onnx
(seed 0, train mode, the example input build() returns or a standard normal of
INPUT_SHAPE), run `gradlint check` on the .onnx files and on the .py files, and
compare, per file, the GL1/GL2/GL3 codes reported; then compare the ONNX static
estimate with the measured ratio in ground_truth.json.
"""

from __future__ import annotations

import importlib.util
import json
import statistics
import sys
from pathlib import Path

import pytest
from conftest import ROOT, invoke_cli

torch = pytest.importorskip("torch")
pytest.importorskip("onnx")

import _onnx_models as models

CORPUS = ROOT / "tests" / "corpus" / "models"
GROUND_TRUTH = CORPUS / "ground_truth.json"
FAMILIES = ("GL1", "GL2", "GL3")

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not GROUND_TRUTH.is_file(), reason="the labelled model corpus is not in this checkout"
    ),
]


def _corpus_files() -> list[Path]:
    found = []
    for path in sorted(CORPUS.glob("*.py")):
        if path.name.startswith("_"):
            continue
        if "\ndef build(" in "\n" + path.read_text(encoding="utf-8"):
            found.append(path)
    return found


def _load(path: Path):
    if str(CORPUS) not in sys.path:
        sys.path.insert(0, str(CORPUS))  # the corpus imports its sibling blocks/ package
    spec = importlib.util.spec_from_file_location(f"corpus_onnx_{path.stem}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _example(module, built):
    if isinstance(built, (tuple, list)):
        return built[0], built[1]
    return built, torch.randn(*module.INPUT_SHAPE)


def _export_all(folder: Path) -> tuple[dict[str, Path], dict[str, str]]:
    exported, failed = {}, {}
    for path in _corpus_files():
        try:
            module = _load(path)
            torch.manual_seed(0)
            model, example = _example(module, module.build())
            target = folder / f"{path.stem}.onnx"
            models.export_any(model, example, target)
            exported[path.stem] = target
        except Exception as exc:  # noqa: BLE001 - an exporter limitation is recorded, not hidden
            failed[path.stem] = (
                f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
            )
    return exported, failed


def _codes_by_stem(report: dict) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for finding in report["findings"]:
        if finding["code"].startswith(FAMILIES):
            found.setdefault(Path(finding["path"]).stem, set()).add(finding["code"])
    return found


def _check(paths: list[str], cwd: Path) -> dict:
    proc = invoke_cli(
        "check", "--format", "json", "--exit-zero", "--select", ",".join(FAMILIES), *paths, cwd=cwd
    )
    assert "Traceback" not in proc.stderr, proc.stderr
    assert proc.returncode == 0 and proc.stdout, proc.stderr
    return json.loads(proc.stdout)


def _measured_ratio(entry) -> float | None:
    """The median measured log10 ratio, whatever nesting the ground truth uses for it."""
    if isinstance(entry, (int, float)) or entry is None:
        return entry
    if not isinstance(entry, dict):
        return None
    for key in ("median", "log10_grad_ratio_median", "log10_grad_ratio"):
        if key in entry:
            value = entry[key]
            if isinstance(value, dict):
                return _measured_ratio(value)
            if isinstance(value, list):
                values = [v for v in value if isinstance(v, (int, float))]
                return statistics.median(values) if values else None
            if isinstance(value, (int, float)) or value is None:
                return value
    return None


def _truth_for(truth: dict, stem: str):
    models_table = truth.get("models", truth) if isinstance(truth, dict) else {}
    for key in (f"{stem}.py", stem, f"tests/corpus/models/{stem}.py"):
        if key in models_table:
            return models_table[key]
    return None


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    folder = tmp_path_factory.mktemp("corpus_onnx")
    exported, failed = _export_all(folder)
    onnx_report = _check([str(p) for p in exported.values()], folder)
    source_report = _check([str(CORPUS / f"{stem}.py") for stem in exported], ROOT)
    return exported, failed, onnx_report, source_report


def test_most_corpus_models_export(runs):
    exported, failed, _, _ = runs
    total = len(exported) + len(failed)
    assert total >= 1
    assert len(exported) / total >= 0.9, f"export failures: {failed}"


def test_onnx_files_check_without_errors(runs):
    exported, _, onnx_report, _ = runs
    assert onnx_report["errors"] == []
    assert {Path(m["path"]).stem for m in onnx_report["models"]} == set(exported)


def test_gl123_codes_agree_between_source_and_onnx(runs):
    exported, _, onnx_report, source_report = runs
    on_onnx = _codes_by_stem(onnx_report)
    on_source = _codes_by_stem(source_report)
    disagreements = {
        stem: {
            "source": sorted(on_source.get(stem, set())),
            "onnx": sorted(on_onnx.get(stem, set())),
        }
        for stem in exported
        if on_source.get(stem, set()) != on_onnx.get(stem, set())
    }
    agreement = 1 - len(disagreements) / len(exported)
    assert agreement >= 0.9, f"agreement {agreement:.2f}; differing: {disagreements}"


def test_onnx_estimate_is_within_a_decade_of_the_measured_ratio(runs):
    exported, _, onnx_report, _ = runs
    truth = json.loads(GROUND_TRUTH.read_text(encoding="utf-8"))
    estimates = {Path(m["path"]).stem: m["log10_grad_ratio"] for m in onnx_report["models"]}
    pairs, missing = [], []
    for stem in exported:
        measured = _measured_ratio(_truth_for(truth, stem))
        if measured is None:
            continue
        if estimates.get(stem) is None:
            missing.append(stem)
        else:
            pairs.append((stem, estimates[stem], measured))
    assert pairs or missing, "no corpus model has a measured ratio"
    coverage = len(pairs) / (len(pairs) + len(missing))
    assert coverage >= 0.8, f"estimate coverage {coverage:.2f}; no estimate for {missing}"
    far = [
        (stem, round(est, 2), round(meas, 2)) for stem, est, meas in pairs if abs(est - meas) > 1.0
    ]
    within = 1 - len(far) / len(pairs)
    assert within >= 0.9, f"within one decade: {within:.2f}; off: {far}"
