"""GL502, GL607 and GL8xx on tests/corpus/numerics: the findings equal the inline labels, and each
label (and each clean near-miss) is confirmed by running the case on the CPU
(scripts/verify_numerics_corpus.py)."""

from __future__ import annotations

import re

import pytest
from conftest import ROOT
from corpus_harness import labels, load_script, reported

CORPUS = ROOT / "tests" / "corpus" / "numerics"
FILES = sorted(CORPUS.glob("*.py"))
CODES = ("GL502", "GL607", "GL801", "GL802", "GL803")


def _verifier():
    return load_script("verify_numerics_corpus")


def _labels() -> set[tuple[str, int, str]]:
    return labels(FILES)


@pytest.fixture(scope="module")
def outcome():
    return _labels(), reported(CORPUS, ",".join(CODES))


def test_corpus_size_and_sources():
    texts = {p.name: p.read_text(encoding="utf-8") for p in FILES}
    positives = [n for n, t in texts.items() if "# expect:" in t]
    amp = [n for n in positives if re.search(r"# expect: GL8", texts[n])]
    recurrent = [n for n in positives if "# expect: GL607" in texts[n]]
    assert len(amp) >= 10 and len(recurrent) >= 4
    assert any("# expect: GL502" in texts[n] for n in positives)
    assert len(FILES) - len(positives) >= 10
    readme = (CORPUS / "README.md").read_text(encoding="utf-8")
    for name, text in texts.items():
        assert text.startswith(("# Source:", "# Near-miss:")), name
        assert "def make(" in text, name
        assert name in readme, name


def test_findings_equal_the_labels(outcome, capsys):
    expected, reported = outcome
    true_positives = len(expected & reported)
    precision = true_positives / len(reported) if reported else 1.0
    recall = true_positives / len(expected) if expected else 1.0
    with capsys.disabled():
        print(f"\nnumerics corpus: {len(expected)} labels, precision {precision:.2f}, recall {recall:.2f}")
    for code in CODES:
        assert any(c == code for _, _, c in expected), code
    assert reported == expected, (sorted(reported - expected), sorted(expected - reported))


@pytest.mark.slow
@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_label_is_confirmed_on_the_cpu(path):
    pytest.importorskip("torch")
    ok, detail = _verifier().verify(path)
    assert ok, detail
