"""The pre-commit hook, installed by pre-commit itself from this checkout, on staged files."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tests.conftest import ROOT

TRAIN = textwrap.dedent(
    """\
    import torch

    model = torch.nn.Linear(3, 1)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
    loss_fn = torch.nn.MSELoss()
    SCALE = 2  # noqa: GL0


    def fit(X, y, epochs=100):
        for epoch in range(epochs):
            loss = loss_fn(model(X), y)
            loss.backward()
            optimizer.step()
    """
)


def _git(repo: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True)


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("pre-commit") is None or shutil.which("git") is None, reason="needs pre-commit and git")
def test_hook_fails_on_a_defect_and_passes_without_python(tmp_path):
    repo = tmp_path / "project"
    repo.mkdir()
    _git(repo, "init", "-q")
    _git(repo, "config", "user.email", "dev@example.com")
    _git(repo, "config", "user.name", "dev")
    env = dict(os.environ, PRE_COMMIT_HOME=str(tmp_path / "pre-commit-home"))
    env.pop("PYTHONPATH", None)

    def try_repo() -> subprocess.CompletedProcess:
        return subprocess.run(
            ["pre-commit", "try-repo", str(ROOT), "gradlint"],
            cwd=repo, env=env, capture_output=True, text=True, timeout=900, check=False,
        )

    (repo / "notes.md").write_text("# notes\n")
    _git(repo, "add", "notes.md")
    clean = try_repo()
    assert clean.returncode == 0, clean.stdout + clean.stderr
    assert "no files to check" in clean.stdout

    (repo / "train.py").write_text(TRAIN)
    _git(repo, "add", "train.py")
    failed = try_repo()
    assert failed.returncode == 1, failed.stdout + failed.stderr
    # the hook asks for the concise output: one line per finding in pre-commit's log
    assert "train.py:6:12: GL001 unused `noqa` directive: GL0" in failed.stdout
    assert " --> " not in failed.stdout


MONOREPO_HOOK = """\
repos:
  - repo: local
    hooks:
      - id: gradlint
        name: gradlint
        entry: {python} -m gradlint check --force-exclude --output-format concise
        language: system
        types_or: [python, pyi]
        require_serial: true
"""


def _pre_commit() -> str | None:
    """pre-commit on the PATH, or beside this interpreter (a virtual environment not activated)."""
    beside = Path(sys.executable).parent / "pre-commit"
    return shutil.which("pre-commit") or (str(beside) if beside.is_file() else None)


@pytest.mark.skipif(_pre_commit() is None or shutil.which("git") is None, reason="needs pre-commit and git")
def test_hook_in_a_monorepo_keeps_each_subprojects_settings(tmp_path):
    """pre-commit passes every staged file in one call: each keeps its sub-project's settings."""
    repo = tmp_path / "monorepo"
    repo.mkdir()
    _git(repo, "init", "-q")
    (repo / ".pre-commit-config.yaml").write_text(MONOREPO_HOOK.format(python=sys.executable))
    (repo / ".gitignore").write_text("generated/\n")
    for sub in ("vision", "speech"):
        (repo / sub).mkdir()
        (repo / sub / "train.py").write_text(TRAIN)
    (repo / "vision" / "pyproject.toml").write_text("[tool.gradlint]\nignore = ['GL601']\n")  # GL001 stays
    (repo / "speech" / "gradlint.toml").write_text("ignore = ['GL001']\n")  # GL601 stays
    (repo / "speech" / "generated").mkdir()
    (repo / "speech" / "generated" / "stub.py").write_text(TRAIN)
    _git(repo, "add", ".")
    _git(repo, "add", "-f", "speech/generated/stub.py")  # staged, but git ignores it: skipped
    env = dict(os.environ, PRE_COMMIT_HOME=str(tmp_path / "pre-commit-home"))
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    done = subprocess.run(
        [_pre_commit(), "run"], cwd=repo, env=env, capture_output=True, text=True, timeout=600, check=False,
    )
    assert done.returncode == 1, done.stdout + done.stderr
    lines = [line for line in done.stdout.splitlines() if line.startswith(("vision/", "speech/"))]
    found = sorted((line.split(":")[0], line.split()[1]) for line in lines)
    assert found == [("speech/train.py", "GL601"), ("vision/train.py", "GL001")], done.stdout


def test_the_readme_pins_this_release():
    """The pre-commit `rev:` and the install-from-git lines name the tag of this version."""
    import re

    from gradlint import __version__

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    pins = re.findall(r"(?:rev: |gradlint@)v(\d+\.\d+\.\d+)", readme)
    assert len(pins) >= 3 and set(pins) == {__version__}
