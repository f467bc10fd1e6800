"""`gradlint probe` on the labelled model corpus: it reproduces the measured ground truth and
confirms the static findings that are true positives (tests/corpus/models/)."""

from __future__ import annotations

import importlib.util
import json
import sys
from collections import Counter

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


@pytest.fixture(scope="module")
def probed():
    """Every corpus model probed once: targets sharing a seed in one invocation, two at once."""
    documents, errors = report.probe_corpus(NAMES, TRUTH, jobs=2)
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
