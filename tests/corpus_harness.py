"""What the labelled corpora's tests share: their inline labels, gradlint's report on a corpus,
and the verification script of each corpus (scripts/verify_*_corpus.py), loaded as a module."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from types import ModuleType

from conftest import ROOT, expected_findings, run_cli


def load_script(name: str) -> ModuleType:
    """``scripts/<name>.py`` as a module (the scripts folder is no package)."""
    spec = importlib.util.spec_from_file_location(name, ROOT / "scripts" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def labels(files: list[Path]) -> set[tuple[str, int, str]]:
    """(file name, line, code) of every ``# expect:`` in ``files``."""
    return {(path.name, line, code) for path in files for line, code in expected_findings(path)}


def reported(corpus: Path, select: str) -> set[tuple[str, int, str]]:
    """(file name, line, code) of every finding of the codes ``select`` on the corpus, checked
    by the real command line; no file may be in error."""
    proc = run_cli("check", "--format", "json", "--select", select, "--exit-zero", str(corpus))
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert not data.get("errors"), data.get("errors")
    return {(Path(f["path"]).name, f["line"], f["code"]) for f in data["findings"]}
