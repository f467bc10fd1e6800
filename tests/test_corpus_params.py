"""GL7xx on tests/corpus/params: the findings equal the inline labels, and each label (and each
clean near-miss) is confirmed by a real backward pass and optimiser step."""

from __future__ import annotations

import pytest
from conftest import ROOT
from corpus_harness import labels, load_script, reported

CORPUS = ROOT / "tests" / "corpus" / "params"
FILES = sorted(CORPUS.glob("*.py"))


def _verifier():
    return load_script("verify_params_corpus")


def _labels() -> set[tuple[str, int, str]]:
    return labels(FILES)


@pytest.fixture(scope="module")
def outcome():
    return _labels(), reported(CORPUS, "GL7")


def test_corpus_size():
    positives = [p for p in FILES if "# expect:" in p.read_text(encoding="utf-8")]
    assert len(positives) >= 20
    assert len(FILES) - len(positives) >= 15
    for path in FILES:
        head = path.read_text(encoding="utf-8").splitlines()[:2]
        assert head[0].startswith(("# Source:", "# Near-miss:")), path.name
        assert "def make(" in path.read_text(encoding="utf-8"), path.name


def test_findings_equal_the_labels(outcome, capsys):
    expected, reported = outcome
    true_positives = len(expected & reported)
    precision = true_positives / len(reported) if reported else 1.0
    recall = true_positives / len(expected) if expected else 1.0
    with capsys.disabled():
        print(f"\nGL7xx corpus: {len(expected)} labels, precision {precision:.2f}, "
              f"recall {recall:.2f}")
    for code in ("GL701", "GL702", "GL703", "GL704"):
        assert any(c == code for _, _, c in expected), code
    assert reported == expected, (sorted(reported - expected), sorted(expected - reported))


@pytest.mark.slow
@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_label_is_confirmed_by_one_training_step(path):
    pytest.importorskip("torch")
    ok, detail = _verifier().verify(path)
    assert ok, detail
