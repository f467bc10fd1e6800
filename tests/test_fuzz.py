"""Generated and mutated programs: every one is checked or reported in one line, never an
internal error. The large runs are marked slow; a small sample of each runs every time."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from gradlint import engine
from gradlint.config import Config
from tests.conftest import ROOT

hypothesis = pytest.importorskip("hypothesis")
hypothesmith = pytest.importorskip("hypothesmith")

from hypothesis import HealthCheck, given, settings

REAL_FILES = sorted((ROOT / "tests" / "corpus").rglob("*.py")) + sorted(
    (ROOT / "tests" / "fixtures").rglob("*.py")
)


def _check_text(folder: Path, text: str, name: str = "generated.py") -> list[str]:
    target = folder / name
    target.write_text(text, encoding="utf-8", errors="surrogatepass")
    outcome = engine.run([target], Config(root=folder), jobs=1, use_cache=False)
    return [e.message for e in outcome.errors if e.message.startswith("internal error")]


def _generated(examples: int):
    @settings(
        max_examples=examples,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(source=hypothesmith.from_grammar())
    def check(tmp_path_factory, source):
        folder = tmp_path_factory.mktemp("fuzz")
        assert _check_text(folder, source) == []

    return check


test_generated_programs_sample = _generated(15)
test_generated_programs = pytest.mark.slow(_generated(400))


def _mutants(count: int, seed: int) -> list[tuple[str, str]]:
    """Real model files with lines cut, repeated, swapped, indented or truncated mid-token."""
    rng = random.Random(seed)
    mutants = []
    for index in range(count):
        source = REAL_FILES[index % len(REAL_FILES)]
        lines = source.read_text(encoding="utf-8").splitlines(keepends=True)
        if not lines:
            continue
        kind = rng.choice(["cut", "repeat", "swap", "indent", "truncate", "splice"])
        i, j = sorted(rng.randrange(len(lines)) for _ in range(2))
        if kind == "cut":
            del lines[i : j + 1]
        elif kind == "repeat":
            lines[i:i] = lines[i : j + 1]
        elif kind == "swap":
            lines[i], lines[j] = lines[j], lines[i]
        elif kind == "indent":
            lines[i] = "    " + lines[i]
        elif kind == "truncate":
            text = "".join(lines)
            lines = [text[: rng.randrange(len(text) + 1)]]
        else:
            other = REAL_FILES[rng.randrange(len(REAL_FILES))].read_text(encoding="utf-8")
            lines[i:i] = other.splitlines(keepends=True)[: j - i + 1]
        mutants.append((f"{source.stem}-{kind}-{index}", "".join(lines)))
    return mutants


@pytest.mark.parametrize("name,text", _mutants(40, seed=1))
def test_mutated_real_files_sample(tmp_path, name, text):
    assert _check_text(tmp_path, text, f"{name}.py") == []


@pytest.mark.slow
def test_mutated_real_files(tmp_path):
    failures = []
    for name, text in _mutants(600, seed=2):
        problems = _check_text(tmp_path, text, f"{name}.py")
        if problems:
            failures.append((name, problems))
    assert failures == []
