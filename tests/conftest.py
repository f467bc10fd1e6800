from __future__ import annotations

import importlib.util
import os
import re
import subprocess
import sys
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

if os.environ.get("PYTEST_XDIST_WORKER"):
    # The workers already fill the cores: torch in each (and in the probe's children)
    # computes on one thread, as the corpus ground truth was measured.
    os.environ.setdefault("OMP_NUM_THREADS", "1")


def pytest_addoption(parser, pluginmanager):
    """addopts (pyproject.toml) asks pytest-xdist for workers. Where it is not installed,
    or turned off with -p no:xdist, its options are accepted and the tests run here."""
    if pluginmanager.hasplugin("xdist"):
        return
    group = parser.getgroup("xdist (not installed: options ignored)")
    group.addoption("--numprocesses", "--maxprocesses", "--dist", action="append", default=[])


# Tests that run torch in a child process (the probe) need it installed, not imported here;
# tests that use it in this process call pytest.importorskip("torch").
requires_torch = pytest.mark.skipif(
    importlib.util.find_spec("torch") is None, reason="needs torch: pip install -e '.[probe]'"
)

EXPECT = re.compile(r"#\s*expect:\s*(?P<codes>GL\d{3}(?:\s*,\s*GL\d{3})*)")


def expected_findings(path: Path) -> set[tuple[int, str]]:
    """Inline expectations: ``x = bad()  # expect: GL601`` means GL601 on that line."""
    found = set()
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        match = EXPECT.search(line)
        if match:
            for code in re.split(r"\s*,\s*", match.group("codes")):
                found.add((number, code))
    return found


def run_cli(*args: str, cwd: Path | None = None, input: str | None = None) -> subprocess.CompletedProcess:
    """The real command line, in a child process, as a user runs it."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    return subprocess.run(
        [sys.executable, "-m", "gradlint", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        input=input,
        timeout=300,
        check=False,
    )


@dataclass
class CliResult:
    """What a test reads of a run: the fields of ``subprocess.CompletedProcess`` it uses."""

    returncode: int
    stdout: str
    stderr: str


@contextmanager
def _working_folder(folder: Path | None):
    if folder is None:
        yield
        return
    before = os.getcwd()
    os.chdir(folder)
    try:
        yield
    finally:
        os.chdir(before)


def invoke_cli(*args: str, cwd: Path | None = None, input: str | None = None) -> CliResult:
    """The command line in this process, through click's test runner: what ``run_cli`` does
    without starting an interpreter. ``main`` ends in sys.exit, which the runner turns into
    the exit code; an exception that escapes it fails the test (no traceback is swallowed)."""
    from click.testing import CliRunner

    from gradlint.cli import main

    try:
        runner = CliRunner(mix_stderr=False)  # click < 8.2 mixes stderr into stdout by default
    except TypeError:
        runner = CliRunner()  # click >= 8.2 keeps them apart
    with _working_folder(cwd):
        result = runner.invoke(main, list(args), input=input, catch_exceptions=False, prog_name="gradlint")
    return CliResult(result.exit_code, result.stdout, result.stderr)


@pytest.fixture
def cli():
    """The command line, in process: what most tests of its behaviour need. The few runs
    that need a process of their own (the entry point, stdout as a file descriptor, a
    clean import state, signals) call ``run_cli``."""
    return invoke_cli


# A model whose one suppression is stale: GL001 fires on it without any model rule (GL0 covers
# GL001 itself), which makes it the smallest file with a finding.
STALE_NOQA = """\
import torch.nn as nn


class Head(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(64, 10)  # noqa: GL0

    def forward(self, x):
        return self.fc(x)
"""


@contextmanager
def deadline(seconds: int, what: str = "the check"):
    """A hang (a blocked open(), a runaway expansion) fails the test instead of stalling the
    suite, where the platform has SIGALRM."""
    import signal

    if not hasattr(signal, "SIGALRM"):
        yield
        return

    def expire(signum, frame):
        raise TimeoutError(f"{what}: no answer within {seconds} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)

