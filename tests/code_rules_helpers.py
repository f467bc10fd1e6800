"""Run the code rules through the real engine on a case of
tests/fixtures/code_rules/<family>/, where a case is one file or a folder checked as one
project, and its ``# expect: GLxxx`` comments are the findings it must give, no more."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import expected_findings

from gradlint.config import Config
from gradlint.engine import Checker, check_python, run

CASES = Path(__file__).resolve().parent / "fixtures" / "code_rules"


def cases(family: str) -> list:
    """Every case of a family, one test each, named after its file or folder."""
    folder = CASES / family
    found = [p for p in sorted(folder.iterdir()) if p.suffix == ".py" or (p.is_dir() and p.name != "__pycache__")]
    assert found, f"no cases under {folder}"
    return [pytest.param(p, id=p.stem) for p in found]


def case(family: str, name: str) -> Path:
    path = CASES / family / name
    assert path.exists(), path
    return path


def file_findings(path: Path, select: str, options: dict | None = None) -> list:
    """One file checked on its own, as ``gradlint check FILE`` does (files beside it are
    read only to resolve its imports)."""
    config = Config(select=[select], options=options or {})
    result = check_python(path, str(path), Checker.from_config(config))
    assert not result.errors, result.errors
    return result.findings


def case_findings(path: Path, select: str, monkeypatch) -> list:
    """A file case as above; a folder case checked as one project from inside it."""
    if path.is_file():
        return file_findings(path, select)
    monkeypatch.chdir(path)
    outcome = run([Path(".")], Config(select=[select], root=path), jobs=1, use_cache=False)
    assert not outcome.errors, outcome.errors
    return outcome.findings


def reported(path: Path, select: str, monkeypatch) -> set[tuple[str, int, str]]:
    # a file case is shown by its absolute path, a folder case relative to the folder
    found = case_findings(path, select, monkeypatch)
    return {(f.location.path.removeprefix(f"{path.parent}/"), f.location.line, f.code) for f in found}


def expected(path: Path) -> set[tuple[str, int, str]]:
    """(file, line, code) for every ``# expect:`` of the case; the file relative to the case."""
    if path.is_file():
        return {(path.name, line, code) for line, code in expected_findings(path)}
    return {
        (file.relative_to(path).as_posix(), line, code)
        for file in sorted(path.rglob("*.py"))
        for line, code in expected_findings(file)
    }


def line_of(path: Path, text: str) -> int:
    """The number of the one line of ``path`` that contains ``text``."""
    numbers = [n for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1) if text in line]
    assert len(numbers) == 1, (path.name, text, numbers)
    return numbers[0]
