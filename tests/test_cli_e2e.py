"""The command line in real processes, as a user starts it: the interpreter's ``-m``, the
installed entry point, forked workers, the probe's child and stdout as the terminal gives
it. The other command-line tests run in process (``cli`` in conftest.py); the pre-commit
hook has its own file (test_precommit.py)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from gradlint import __version__
from tests.conftest import ROOT, STALE_NOQA, requires_torch, run_cli


def _env(**extra: str) -> dict[str, str]:
    env = dict(os.environ, **extra)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    return env


def test_python_dash_m_reports_in_utf8_whatever_the_locale(tmp_path):
    """Under the C locale a non-ASCII path still comes out whole, as UTF-8 (PEP 538/540)."""
    folder = tmp_path / "café"
    folder.mkdir()
    (folder / "modèle.py").write_text(STALE_NOQA, encoding="utf-8")
    done = subprocess.run(
        [sys.executable, "-m", "gradlint", "check", "--no-cache", "café"],
        cwd=tmp_path, env=_env(LC_ALL="C", LANG="C"), capture_output=True, timeout=300, check=False,
    )
    assert done.returncode == 1, done.stderr
    assert done.stderr == b""
    out = done.stdout.decode("utf-8")
    assert out.startswith("GL001 unused `noqa` directive: GL0 reported nothing on this line\n --> café/modèle.py:7:38\n")
    assert out.endswith("Found 1 finding in 1 file checked.\n")


def test_the_installed_entry_point_runs_this_checkout(tmp_path):
    text = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    assert '\n[project.scripts]\ngradlint = "gradlint.cli:main"\n' in text
    script = shutil.which("gradlint", path=str(Path(sys.executable).parent))
    if script is None:
        pytest.skip("gradlint is not installed beside this interpreter")
    (tmp_path / "model.py").write_text(STALE_NOQA, encoding="utf-8")
    version = subprocess.run([script, "--version"], env=_env(), capture_output=True, text=True, timeout=300, check=False)
    assert version.returncode == 0 and version.stdout == f"gradlint, version {__version__}\n"
    done = subprocess.run(
        [script, "check", "--no-cache", "--format", "json"],
        cwd=tmp_path, env=_env(), capture_output=True, text=True, timeout=300, check=False,
    )
    assert done.returncode == 1, done.stderr
    assert [(f["path"], f["line"], f["code"]) for f in json.loads(done.stdout)["findings"]] == [("model.py", 7, "GL001")]


def test_forked_workers_give_the_serial_report(tmp_path):
    for i in range(24):
        (tmp_path / f"m{i:02d}.py").write_text(STALE_NOQA, encoding="utf-8")
    (tmp_path / "broken.py").write_text("def f(:\n", encoding="utf-8")
    serial = run_cli("check", "--no-cache", "-j", "1", "--format", "json", cwd=tmp_path)
    parallel = run_cli("check", "--no-cache", "-j", "2", "--format", "json", cwd=tmp_path)
    assert serial.returncode == parallel.returncode == 1, parallel.stderr
    assert parallel.stdout == serial.stdout
    report = json.loads(parallel.stdout)
    assert len(report["findings"]) == 24 and [e["path"] for e in report["errors"]] == ["broken.py"]
    assert parallel.stderr == serial.stderr == "broken.py:1:7: error: syntax error: invalid syntax\n"


@pytest.mark.slow
@requires_torch
def test_probe_measures_in_its_child_process():
    target = ROOT / "tests" / "fixtures" / "probe" / "deep_sigmoid.py"
    done = run_cli("probe", f"{target}:build", "--format", "json")
    assert done.returncode == 1, done.stderr
    doc = json.loads(done.stdout)
    assert doc["model_class"] == "DeepSigmoidMLP" and doc["device"] == "cpu"
    assert next(v for v in doc["verdicts"] if v["name"] == "vanishing")["problem"]
