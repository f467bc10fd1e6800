"""`gradlint probe` on the labelled model corpus: it reproduces the measured ground truth and
confirms the static findings that are true positives (tests/corpus/models/).

The command runs in this process, and so does each measurement, through the entry point the
probe's child process runs (gradlint.probe.child.main): one torch import for the corpus
instead of one a model. The child process itself is tested in test_probe_cli.py,
test_robust_probe.py and test_cli_e2e.py.
"""

from __future__ import annotations

import importlib.util
import json
import sys
import tempfile
from collections import Counter
from pathlib import Path

import pytest
from conftest import ROOT, invoke_cli

pytest.importorskip("torch")
pytestmark = pytest.mark.slow


def _script(name: str):
    spec = importlib.util.spec_from_file_location(f"probe_{name}", ROOT / "scripts" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


report = _script("probe_corpus_report")
TRUTH = report.load_truth()
NAMES = report.corpus_names()


def _measured_here(request, warn=None) -> dict:
    """What gradlint.probe.runner.run_child returns: the child's request and result files,
    its entry point called here rather than in a process of its own."""
    from gradlint.probe import EXIT_USAGE, EXIT_USER_CODE, child
    from gradlint.probe.runner import ProbeFailure, failure_message

    with tempfile.TemporaryDirectory(prefix="gradlint-probe-") as scratch:
        request_path, result_path = Path(scratch) / "request.json", Path(scratch) / "result.json"
        request_path.write_text(json.dumps(request.to_json()), encoding="utf-8")
        child.main(["child", str(request_path), str(result_path)])
        result = json.loads(result_path.read_text(encoding="utf-8"))
    if not result.get("ok"):
        code = EXIT_USAGE if result.get("usage") else EXIT_USER_CODE
        raise ProbeFailure(failure_message(request, result), code)
    return result


def _invoked_here(seed: int, names: list[str]) -> tuple[dict[str, dict], str]:
    """scripts/probe_corpus_report.py's _invoke, the same command run in this process."""
    args = [*map(report.target, names), "--format", "json", "--seed", str(seed), "--device", "cpu"]
    done = invoke_cli("probe", *args, cwd=ROOT)
    if not done.stdout.strip():
        return {}, done.stderr
    payload = json.loads(done.stdout)
    documents = payload.get("probes", [payload])
    return {Path(doc["target"].rpartition(":")[0]).name: doc for doc in documents}, done.stderr


@pytest.fixture(scope="module")
def probed():
    """Every corpus model probed once, at the seed of its recorded median: targets sharing
    a seed in one invocation of the command, on one thread as the ground truth was measured."""
    import torch

    from gradlint.probe import session

    threads, path, modules = torch.get_num_threads(), list(sys.path), set(sys.modules)
    corpus = str(ROOT / report.CORPUS_REL)
    torch.set_num_threads(1)
    try:
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(session, "run_child", _measured_here)
            patch.setattr(report, "_invoke", _invoked_here)
            documents, errors = report.probe_corpus(NAMES, TRUTH, jobs=1)
    finally:  # the corpus models leave their folder on sys.path and their modules behind
        torch.set_num_threads(threads)
        sys.path[:] = path
        for name in set(sys.modules) - modules:
            if (getattr(sys.modules[name], "__file__", None) or "").startswith(corpus):
                del sys.modules[name]
    return documents, errors


@pytest.fixture
def row(request, probed):
    documents, errors = probed
    name = request.param
    assert name in documents, f"the probe gave no document for {name}:\n{errors}"
    return report.compare(name, TRUTH[name], documents[name])


def test_every_corpus_model_has_ground_truth():
    assert NAMES and set(NAMES) <= set(TRUTH)


@pytest.mark.parametrize("row", NAMES, indirect=True)
def test_probe_reproduces_the_measured_ratio_and_dead_params(row):
    assert row.ratio_match, f"probe {row.probe} vs ground truth {row.truth}"
    assert row.dead_probe == row.dead_truth


@pytest.mark.parametrize("row", NAMES, indirect=True)
def test_probe_confirms_every_true_static_finding(row):
    assert not row.refuted, f"the probe refutes true findings {row.refuted}"


def test_every_static_finding_on_the_corpus_is_joined_to_its_model_once(probed):
    """Findings of the whole corpus, block files included (a chain of blocks.LinearAct is
    reported where its first layer is defined), each joined to exactly one probed model."""
    documents, _ = probed
    checked = invoke_cli(
        "check",
        "--no-cache",
        "--format",
        "json",
        "--select",
        ",".join(report.JUDGED),
        report.CORPUS_REL,
        cwd=ROOT,
    )
    static = Counter(
        (str((ROOT / f["path"]).resolve()), f["line"], f["code"])
        for f in json.loads(checked.stdout)["findings"]
    )
    joined = Counter(
        (str((ROOT / f["path"]).resolve()), f["line"], f["code"])
        for doc in documents.values()
        for f in doc["findings"]
        if f["code"].startswith(report.JUDGED)
    )
    assert any("blocks" in path for path, _, _ in static)
    assert joined == static


def test_median_seed_is_the_one_whose_measurement_is_recorded():
    record = {
        "log10_grad_ratio": -3.3,
        "log10_grad_ratio_by_seed": {"0": -3.4, "1": -3.3, "2": -3.1},
    }
    assert report.median_seed(record) == 1
    dead = {"log10_grad_ratio": None, "log10_grad_ratio_by_seed": {"2": None, "0": None, "1": None}}
    assert report.median_seed(dead) == 0
