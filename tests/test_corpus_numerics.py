"""GL502, GL607 and GL8xx on tests/corpus/numerics: the findings equal the inline labels, and each
label (and each clean near-miss) is confirmed by running the case on the CPU
(scripts/verify_numerics_corpus.py)."""

from __future__ import annotations

import importlib.util
import json
import re
from pathlib import Path

import pytest
from conftest import ROOT, run_cli

CORPUS = ROOT / "tests" / "corpus" / "numerics"
FILES = sorted(CORPUS.glob("*.py"))
CODES = ("GL502", "GL607", "GL801", "GL802", "GL803")


def _verifier():
    spec = importlib.util.spec_from_file_location(
        "verify_numerics_corpus", ROOT / "scripts" / "verify_numerics_corpus.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _labels() -> set[tuple[str, int, str]]:
    expect = re.compile(r"#\s*expect:\s*(GL\d{3})")
    found = set()
    for path in FILES:
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            match = expect.search(line)
            if match:
                found.add((path.name, number, match.group(1)))
    return found


@pytest.fixture(scope="module")
def outcome():
    args = ["check", "--format", "json", "--exit-zero"]
    for code in CODES:
        args += ["--select", code]
    proc = run_cli(*args, str(CORPUS))
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert not data.get("errors"), data.get("errors")
    reported = {(Path(f["path"]).name, f["line"], f["code"]) for f in data["findings"]}
    return _labels(), reported


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
