"""Files that cannot be checked: one line each in `errors` and on stderr, the run goes on, exit 1."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from gradlint.config import Config
from gradlint.engine import run
from tests.conftest import ROOT

GOOD = "import torch.nn as nn\n\n\nclass Net(nn.Module):\n    pass\n"
STALE = "import torch\nx = 1  # noqa: GL0\n"


def _check(cli, folder: Path, *args: str) -> tuple[subprocess.CompletedProcess, dict]:
    result = cli("check", "--no-cache", "--format", "json", *args, cwd=folder)
    assert "Traceback" not in result.stderr, result.stderr
    return result, json.loads(result.stdout)


def _errors(report: dict) -> dict[str, str]:
    return {e["path"]: e["message"] for e in report["errors"]}


def test_each_bad_file_is_one_error_and_the_rest_is_checked(cli, tmp_path):
    (tmp_path / "good.py").write_text(GOOD)
    (tmp_path / "stale.py").write_text(STALE)
    (tmp_path / "empty.py").write_bytes(b"")
    (tmp_path / "latin1.py").write_bytes(b"name = 'caf\xe9'\n")
    (tmp_path / "declared.py").write_bytes(b"# -*- coding: latin-1 -*-\nname = 'caf\xe9'\n")
    (tmp_path / "blob.py").write_bytes(b"\x7fELF\x02\x01\x00\x00" * 64)
    (tmp_path / "broken.py").write_text("import torch\ndef f(:\n")
    (tmp_path / "big.py").write_text("x = 1\n" * 1_800_000)
    (tmp_path / "empty.onnx").write_bytes(b"")
    (tmp_path / "pkg.py").mkdir()
    (tmp_path / "pkg.py" / "inner.py").write_text(STALE)
    os.symlink("loop_b.py", tmp_path / "loop_a.py")
    os.symlink("loop_a.py", tmp_path / "loop_b.py")
    os.symlink("gone.py", tmp_path / "dangling.py")
    os.mkfifo(tmp_path / "pipe.py")
    result, report = _check(cli, tmp_path)
    assert result.returncode == 1
    errors = _errors(report)
    assert errors == {
        "big.py": "file is 10.8 MB, over the 5.0 MB limit (max-file-size); skipped",
        "blob.py": "binary file (contains NUL bytes); skipped",
        "broken.py": "syntax error: invalid syntax",
        "dangling.py": "cannot read file: no such file or directory",
        "empty.onnx": "empty file: not an ONNX model",
        "latin1.py": "not valid UTF-8 (byte 11); skipped",
        "loop_a.py": "cannot read file: too many levels of symbolic links",
        "loop_b.py": "cannot read file: too many levels of symbolic links",
        "pipe.py": "not a regular file (a named pipe); skipped",
        "pkg.py": "is a directory, not a file; skipped",
    }
    assert [f["path"] for f in report["findings"]] == ["stale.py"]
    stderr = result.stderr.splitlines()
    assert len(stderr) == len(errors) and all(": error: " in line for line in stderr)
    # only a syntax error knows its place, and both the report and the line on stderr give it
    assert [(e["path"], e["line"], e["column"]) for e in report["errors"] if e["line"]] == [("broken.py", 2, 7)]
    assert "broken.py:2:7: error: syntax error: invalid syntax" in stderr


def test_nesting_past_the_parser_limit_is_an_error_not_a_crash(cli, tmp_path):
    # libcst's native parser overflows its stack on input like this; CPython refuses it first
    depth = 20_000
    (tmp_path / "deep_sum.py").write_text("import torch\nx = " + "+".join(["a"] * depth) + "\n")
    (tmp_path / "deep_parens.py").write_text("import torch\nx = " + "(" * 1000 + "1" + ")" * 1000 + "\n")
    (tmp_path / "deep_unary.py").write_text("import torch\nx = " + "-" * depth + "1\n")
    (tmp_path / "ok.py").write_text(STALE)
    result, report = _check(cli, tmp_path)
    assert result.returncode == 1, result.stderr  # not -11 (SIGSEGV)
    errors = _errors(report)
    assert set(errors) == {"deep_sum.py", "deep_parens.py", "deep_unary.py"}
    assert all(m.startswith("syntax error") for m in errors.values()), errors
    assert [f["path"] for f in report["findings"]] == ["ok.py"]


def test_an_imported_file_nested_past_the_parser_limit_is_not_parsed(cli, tmp_path):
    """Files read only because a checked file imports them go through the same gate."""
    depth = 20_000
    (tmp_path / "blocks.py").write_text(
        "import torch.nn as nn\nx = " + "+".join(["a"] * depth) + "\n\n\nclass Block(nn.Module):\n    pass\n"
    )
    (tmp_path / "model.py").write_text(
        "import torch.nn as nn\nfrom blocks import Block\n\n\n"
        "class Net(nn.Module):\n    def __init__(self):\n        super().__init__()\n"
        "        self.block = Block()\n\n    def forward(self, x):\n        return self.block(x)\n"
    )
    result = cli("check", "--no-cache", "--format", "json", "model.py", cwd=tmp_path)
    assert result.returncode == 0, (result.returncode, result.stderr)  # not -11 (SIGSEGV)
    assert json.loads(result.stdout)["errors"] == []


def test_unreadable_file_in_process(tmp_path, monkeypatch):
    (tmp_path / "secret.py").write_text(STALE)
    (tmp_path / "open.py").write_text(STALE)
    real = os.open

    def deny(path, *args, **kwargs):
        if os.path.basename(os.fspath(path)) == "secret.py":
            raise PermissionError(13, "Permission denied", os.fspath(path))
        return real(path, *args, **kwargs)

    monkeypatch.setattr(os, "open", deny)
    monkeypatch.chdir(tmp_path)
    outcome = run([Path(".")], Config(root=tmp_path), jobs=1)
    assert [(e.path, e.message) for e in outcome.errors] == [("secret.py", "cannot read file: permission denied")]
    assert [f.path for f in outcome.findings] == ["open.py"]


# Root reads every file whatever its mode, so as root the child process is made to
# meet the same PermissionError through a sitecustomize module instead of chmod.
_DENY = """
import os
_open = os.open
def _deny(path, *args, **kwargs):
    if os.path.basename(os.fspath(path)) == "secret.py":
        raise PermissionError(13, "Permission denied", os.fspath(path))
    return _open(path, *args, **kwargs)
os.open = _deny
_scandir = os.scandir
def _scan(path="."):
    if os.path.basename(os.fspath(path)) == "locked":
        raise PermissionError(13, "Permission denied", os.fspath(path))
    return _scandir(path)
os.scandir = _scan
"""


def test_unreadable_file_from_the_command_line(cli, tmp_path):
    (tmp_path / "secret.py").write_text(STALE)
    (tmp_path / "open.py").write_text(STALE)
    (tmp_path / "locked").mkdir()
    (tmp_path / "locked" / "x.py").write_text(STALE)
    if os.geteuid() == 0:
        hooks = tmp_path.parent / f"{tmp_path.name}-hooks"
        hooks.mkdir()
        (hooks / "sitecustomize.py").write_text(_DENY)
        env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT), str(hooks)]))
        result = subprocess.run(
            [sys.executable, "-m", "gradlint", "check", "--no-cache", "--format", "json", "."],
            cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300, check=False,
        )
    else:
        (tmp_path / "secret.py").chmod(0)
        (tmp_path / "locked").chmod(0)
        try:
            result = cli("check", "--no-cache", "--format", "json", ".", cwd=tmp_path)
        finally:
            (tmp_path / "locked").chmod(0o755)
    assert "Traceback" not in result.stderr, result.stderr
    assert result.returncode == 1
    report = json.loads(result.stdout)
    assert _errors(report) == {
        "secret.py": "cannot read file: permission denied",
        "locked": "cannot read folder: permission denied",
    }
    assert [f["path"] for f in report["findings"]] == ["open.py"]
    assert sorted(result.stderr.splitlines()) == [
        "locked: error: cannot read folder: permission denied",
        "secret.py: error: cannot read file: permission denied",
    ]


def test_a_worker_that_dies_costs_its_file_only(tmp_path, monkeypatch):
    from gradlint import engine

    for i in range(12):
        (tmp_path / f"m{i:02d}.py").write_text(STALE)
    real = engine.check_path

    def check_path(path, checker, project=None):
        if path.name == "m05.py":
            os._exit(70)  # what a segfault in native code looks like from outside
        return real(path, checker, project)

    monkeypatch.setattr(engine, "check_path", check_path)
    monkeypatch.chdir(tmp_path)
    outcome = run([Path(".")], Config(root=tmp_path), jobs=3)
    assert [e.path for e in outcome.errors] == ["m05.py"]
    assert "process died" in outcome.errors[0].message
    assert len(outcome.findings) == 11


def test_reading_a_pipe_never_blocks(tmp_path):
    """A FIFO swapped in for a file after the folder walk: opened without blocking, refused."""
    from gradlint.reading import read_text

    os.mkfifo(tmp_path / "model.py")
    with pytest.raises(ValueError, match=r"^not a regular file \(a named pipe\); skipped$"):
        read_text(tmp_path / "model.py", None)
