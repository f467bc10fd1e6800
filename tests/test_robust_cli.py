"""Hostile paths, streams and process deaths: one line and the documented exit code, never a
traceback, never a process left behind."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from gradlint import workers
from gradlint.cli import main
from gradlint.diagnostics import FileResult
from tests.conftest import ROOT

MODEL = "import torch\nx = 1  # noqa: GL0\n"


def invoke(*args: str):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


@pytest.fixture
def project(tmp_path, monkeypatch):
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "m.py").write_text(MODEL)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def _loop(folder: Path, name: str) -> None:
    os.symlink(f"{name}.other", folder / name)
    os.symlink(name, folder / f"{name}.other")


@pytest.mark.parametrize("flags", [["--force-exclude"], []])
def test_a_symlink_loop_named_on_the_command_line_is_one_line(project, flags):
    (project / "pyproject.toml").write_text('[tool.gradlint]\nexclude = ["generated"]\n')
    _loop(project, "loop.py")
    result = invoke("check", "--no-cache", *flags, "loop.py", "pkg")
    assert result.exit_code == 1
    assert "loop.py: error: cannot read file: too many levels of symbolic links" in result.output
    assert " --> pkg/m.py:2:8" in result.output


def test_a_symlink_loop_in_a_walked_folder_with_exclude_is_one_line(project):
    (project / "pyproject.toml").write_text('[tool.gradlint]\nexclude = ["generated"]\n')
    _loop(project / "pkg", "loop.py")
    result = invoke("check", "--no-cache", "pkg")
    assert result.exit_code == 1
    assert "pkg/loop.py: error: cannot read file: too many levels of symbolic links" in result.output
    assert " --> pkg/m.py:2:8" in result.output


def test_a_folder_that_cannot_be_searched_is_not_a_traceback(project, monkeypatch):
    """As a user other than root: listing works, looking inside (stat) is denied."""
    (project / "pkg" / "locked").mkdir()
    real_is_file, real_lstat = Path.is_file, Path.lstat

    def is_file(self):
        if self.parent.name == "locked":
            raise PermissionError(13, "Permission denied", str(self))
        return real_is_file(self)

    def lstat(self):
        if self.parent.name == "locked":
            raise PermissionError(13, "Permission denied", str(self))
        return real_lstat(self)

    monkeypatch.setattr(Path, "is_file", is_file)
    monkeypatch.setattr(Path, "lstat", lstat)
    walked = invoke("check", "--no-cache", "pkg")
    assert walked.exit_code == 1 and " --> pkg/m.py:2:8" in walked.output
    named = invoke("check", "--no-cache", "pkg/locked/x.py", "pkg/m.py")
    assert named.exit_code == 1
    assert "pkg/locked/x.py: error: cannot read: permission denied" in named.output
    assert " --> pkg/m.py:2:8" in named.output


def test_an_unreadable_file_named_on_the_command_line_is_not_a_usage_error(project, monkeypatch):
    (project / "other.py").write_text(MODEL)
    monkeypatch.setattr(os, "access", lambda *args, **kwargs: False)  # what a non-root user sees
    result = invoke("check", "--no-cache", "other.py", "pkg/m.py")
    assert result.exit_code == 1
    assert " --> other.py:2:8" in result.output and " --> pkg/m.py:2:8" in result.output


def test_an_empty_path_checks_nothing_and_says_so(project):
    (project / "here.py").write_text(MODEL)
    result = invoke("check", "--no-cache", "")
    assert result.exit_code == 1
    assert "'': error: an empty path names no file; skipped" in result.output
    assert "GL001" not in result.output


def test_a_report_stdout_cannot_take_is_one_line_and_exit_2(project):
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    with open("/dev/full", "w") as full:
        done = subprocess.run(
            [sys.executable, "-m", "gradlint", "check", "--no-cache", "pkg"],
            stdout=full, stderr=subprocess.PIPE, text=True, env=env, timeout=120, check=False,
        )
    assert done.returncode == 2
    assert done.stderr == "gradlint: error: cannot write the report to stdout: no space left on device\n"


def _check_after_removing_markers(path):
    shutil.rmtree(workers._STATE["markers"], ignore_errors=True)
    return FileResult(path.name)


def test_the_marker_folder_removed_mid_run_costs_nothing(tmp_path, monkeypatch):
    files = []
    for i in range(8):
        files.append(tmp_path / f"m{i}.py")
        files[-1].write_text(MODEL)
    results = workers.parallel_map(files, _check_after_removing_markers, 2)
    assert [r.path for r in results] == [f.name for f in files]


DRIVER = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from gradlint import workers

    def check_slowly(path):
        time.sleep(120)

    files = [Path(sys.argv[1]) / f"m{i}.py" for i in range(4)]
    workers.parallel_map(files, check_slowly, 2)
    """
)


def _children(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        found += [int(c) for c in (task / "children").read_text().split()]
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


@pytest.mark.skipif(not Path("/proc/self/task").is_dir(), reason="needs Linux's /proc")
def test_workers_die_with_their_parent(tmp_path):
    for i in range(4):
        (tmp_path / f"m{i}.py").write_text(MODEL)
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    parent = subprocess.Popen([sys.executable, "-c", DRIVER, str(tmp_path)], env=env)
    found: list[int] = []
    try:
        deadline = time.monotonic() + 60
        while len(found) < 2 and time.monotonic() < deadline:
            time.sleep(0.1)
            found = _children(parent.pid)
        assert len(found) == 2, "the workers never started"
        time.sleep(0.5)  # past the workers' start-up, into the check
        parent.send_signal(signal.SIGKILL)
        parent.wait(timeout=10)
        deadline = time.monotonic() + 10
        while any(_alive(p) for p in found) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not any(_alive(p) for p in found), "a worker outlived the run that forked it"
    finally:
        for pid in [parent.pid, *found]:
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
