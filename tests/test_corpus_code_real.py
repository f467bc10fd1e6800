"""The GL4/GL5/GL6 rules on a corpus written the way real projects write their code, each case
after a public bug report whose maintainers confirmed it (tests/corpus/code_real/README.md),
with clean near-misses from real projects. The findings must be exactly the labels."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest
from conftest import ROOT, invoke_cli

CORPUS = ROOT / "tests" / "corpus" / "code_real"
FAMILIES = ("GL4", "GL5", "GL6")


def _report_module():
    spec = importlib.util.spec_from_file_location(
        "corpus_code_report", ROOT / "scripts" / "corpus_code_report.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


report = _report_module()


@pytest.fixture(scope="module")
def outcome():
    proc = invoke_cli("check", "--format", "json", "--select", "GL4,GL5,GL6", str(CORPUS))
    assert proc.returncode in (0, 1), proc.stderr
    data = json.loads(proc.stdout)
    assert not data.get("errors"), data.get("errors")
    reported = {(Path(f["path"]).name, f["line"], f["code"]) for f in data["findings"]}
    return report.labels(CORPUS), reported


def _cases(prefix: str) -> list[Path]:
    return [p for p in CORPUS.rglob(f"{prefix}*.py") if "def " in p.read_text(encoding="utf-8")
            or "class " in p.read_text(encoding="utf-8")]


def test_every_family_has_fifteen_real_positives_and_near_misses(outcome):
    expected, _ = outcome
    for family in FAMILIES:
        labelled = {name for name, _, code in expected if code.startswith(family)}
        assert len(labelled) >= 15, (family, len(labelled))
    clean = [p for p in _cases("ok_") if "# expect:" not in p.read_text(encoding="utf-8")]
    assert len(clean) >= 25, len(clean)


def test_every_case_names_its_source():
    readme = (CORPUS / "README.md").read_text(encoding="utf-8")
    for path in CORPUS.rglob("*.py"):
        if path.name != "__init__.py":
            assert path.name in readme, path.name


@pytest.mark.parametrize("family", FAMILIES)
def test_findings_are_exactly_the_labels(outcome, family):
    expected, reported = outcome
    expected = {k for k in expected if k[2].startswith(family)}
    reported = {k for k in reported if k[2].startswith(family)}
    assert sorted(expected - reported) == []
    assert sorted(reported - expected) == []


@pytest.mark.parametrize("bucket", ["GL4xx", "GL5xx", "GL6xx", "all"])
def test_precision_and_recall(outcome, bucket):
    expected, reported = outcome
    precision, recall = report.metrics(report.score(expected, reported)[bucket])
    assert precision >= 0.95 and recall >= 0.95, (bucket, precision, recall)


def test_graph_cut_labels_agree_with_measured_gradients():
    """tests/corpus/code_real_gradients.json is what torch measured
    (scripts/verify_corpus_gradients.py --real)."""
    truth = json.loads((ROOT / "tests" / "corpus" / "code_real_gradients.json").read_text(encoding="utf-8"))
    assert len(truth) >= 15
    in_forward = {
        name for name, _, code in report.labels(CORPUS) if code.startswith("GL5")
    } & set(truth)
    for name, record in truth.items():
        assert (name in in_forward) == bool(record["dead"]), (name, record)
