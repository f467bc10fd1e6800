"""GL102-GL105 on tests/corpus/dead: the findings equal the inline labels, and each label (and
each clean near-miss) is confirmed by real passes, with the static dead and saturated fractions
within 0.1 of the measured ones (scripts/verify_dead_corpus.py)."""

from __future__ import annotations

import re

import pytest
from conftest import ROOT
from corpus_harness import labels, load_script, reported

CORPUS = ROOT / "tests" / "corpus" / "dead"
FILES = sorted(CORPUS.glob("*.py"))
CODES = ("GL102", "GL103", "GL104", "GL105")
EXPECT = re.compile(r"#\s*expect:\s*(GL\d{3})")


def _verifier():
    return load_script("verify_dead_corpus")


def _labels() -> set[tuple[str, int, str]]:
    return labels(FILES)


@pytest.fixture(scope="module")
def outcome():
    return _labels(), reported(CORPUS, ",".join(CODES))


def test_corpus_size_and_sources():
    texts = {p.name: p.read_text(encoding="utf-8") for p in FILES}
    dead_unit = [n for n, t in texts.items() if re.search(r"# expect: GL10[345]", t)]
    saturated = [n for n, t in texts.items() if "# expect: GL102" in t]
    clean = [n for n, t in texts.items() if "# expect:" not in t]
    assert len(dead_unit) >= 6 and len(saturated) >= 3 and len(clean) >= 8
    for name, text in texts.items():
        assert text.startswith(("# Source:", "# Near-miss:")), name
        assert "def make(" in text, name


def test_findings_equal_the_labels(outcome, capsys):
    expected, reported = outcome
    true_positives = len(expected & reported)
    precision = true_positives / len(reported) if reported else 1.0
    recall = true_positives / len(expected) if expected else 1.0
    with capsys.disabled():
        print(f"\nGL102-GL105 corpus: {len(expected)} labels, precision {precision:.2f}, recall {recall:.2f}")
    for code in CODES:
        assert any(c == code for _, _, c in expected), code
    assert precision >= 0.95 and recall >= 0.95
    assert reported == expected, (sorted(reported - expected), sorted(expected - reported))


@pytest.mark.slow
@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_label_and_fractions_are_confirmed_by_measurement(path):
    pytest.importorskip("torch")
    ok, detail = _verifier().verify(path)
    assert ok, detail


MODELS = sorted((ROOT / "tests" / "corpus" / "models").glob("*.py"))
# the other corpora's models whose build() or make() returns a model and its example input
BUILT = sorted(
    path
    for folder in ("code", "code_real", "params")
    for path in (ROOT / "tests" / "corpus" / folder).glob("*.py")
    if "\ndef build(" in path.read_text(encoding="utf-8") or "\ndef make(" in path.read_text(encoding="utf-8")
)


@pytest.mark.slow
@pytest.mark.parametrize("path", MODELS + BUILT, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_model_corpus_fractions_are_within_a_tenth_of_measurement(path):
    """Every static dead-unit and saturated fraction of a corpus model whose activation the
    probe measures lies within 0.1 of the mean over 20 seeds."""
    pytest.importorskip("torch")
    verifier = _verifier()
    try:
        verifier.measured(path, 1)
    except (RuntimeError, ImportError, AttributeError, TypeError) as error:  # needs what build() lacks
        pytest.skip(f"the model does not run on its example: {type(error).__name__}")
    ok, detail = verifier.verify(path, verifier.FRACTION_SEEDS, fractions_only=True)
    assert ok, detail
