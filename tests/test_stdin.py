"""``gradlint check -``: source from standard input, checked as the file it names would be."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

from tests.conftest import run_cli
from tests.test_config_resolution import TRAIN

# A model whose sigmoid stack lives in a sibling module: GL101 only when `.blocks` resolves.
BLOCKS = textwrap.dedent(
    """\
    import torch.nn as nn


    class SigmoidStack(nn.Module):
        def __init__(self, width=64, depth=10):
            super().__init__()
            self.layers = nn.Sequential(*[nn.Sequential(nn.Linear(width, width), nn.Sigmoid()) for _ in range(depth)])

        def forward(self, x):
            return self.layers(x)
    """
)
MODEL = textwrap.dedent(
    """\
    import torch.nn as nn

    from .blocks import SigmoidStack


    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.body = SigmoidStack()
            self.head = nn.Linear(64, 1)

        def forward(self, x):
            return self.head(self.body(x))
    """
)


def _report(result) -> list[tuple[str, int, str]]:
    assert result.returncode in (0, 1), result.stderr
    return [(f["path"], f["line"], f["code"]) for f in json.loads(result.stdout)["findings"]]


def test_stdin_without_a_name_is_reported_as_dash(cli, tmp_path):
    result = cli("check", "--format", "json", "-", input=TRAIN, cwd=tmp_path)
    assert _report(result) == [("-", 6, "GL001"), ("-", 13, "GL601")]
    assert list(tmp_path.iterdir()) == []  # no cache, nothing written


def test_stdin_filename_takes_the_configuration_beside_it(cli, tmp_path):
    (tmp_path / "svc").mkdir()
    (tmp_path / "svc" / "gradlint.toml").write_text("ignore = ['GL601']\n")
    result = cli("check", "--format", "json", "-", "--stdin-filename", "svc/train.py", input=TRAIN, cwd=tmp_path)
    assert _report(result) == [("svc/train.py", 6, "GL001")]
    # without "-": --stdin-filename alone reads standard input too, as in ruff
    text = cli("check", "--output-format", "concise", "--stdin-filename", "svc/train.py", input=TRAIN, cwd=tmp_path)
    assert text.returncode == 1 and text.stdout.startswith("svc/train.py:6:12: GL001 ")
    assert sorted(p.name for p in (tmp_path / "svc").iterdir()) == ["gradlint.toml"]


def test_stdin_filename_resolves_imports_from_its_folder(cli, tmp_path):
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "__init__.py").write_text("")
    (tmp_path / "pkg" / "blocks.py").write_text(BLOCKS)
    named = cli("check", "--format", "json", "-", "--stdin-filename", "pkg/model.py", input=MODEL, cwd=tmp_path)
    assert _report(named) == [("pkg/model.py", 9, "GL101")]
    # the same as the file on disk would get
    (tmp_path / "pkg" / "model.py").write_text(MODEL)
    assert _report(cli("check", "--no-cache", "--format", "json", "pkg/model.py", cwd=tmp_path)) == _report(named)
    # unnamed, the stack is out of reach: nothing to say
    assert _report(cli("check", "--format", "json", "-", input=MODEL, cwd=tmp_path)) == []


def test_an_excluded_stdin_filename_is_skipped_with_force_exclude(cli, tmp_path):
    (tmp_path / ".git").mkdir()
    (tmp_path / ".gitignore").write_text("generated/\n")
    (tmp_path / "pyproject.toml").write_text("[tool.gradlint]\nexclude = ['legacy/*']\n")
    for name in ("legacy/train.py", "generated/train.py"):
        args = ("check", "--format", "json", "-", "--stdin-filename", name)
        assert len(_report(cli(*args, input=TRAIN, cwd=tmp_path))) == 2
        skipped = cli(*args, "--force-exclude", input=TRAIN, cwd=tmp_path)
        assert skipped.returncode == 0 and _report(skipped) == []


def test_stdin_errors_are_one_line(cli, tmp_path):
    broken = cli("check", "-", "--stdin-filename", "x.py", input="def f(:\n", cwd=tmp_path)
    assert broken.returncode == 1 and broken.stderr == "x.py:1:7: error: syntax error: invalid syntax\n"
    mixed = cli("check", "-", "other.py", input=TRAIN, cwd=tmp_path)
    assert mixed.returncode == 2 and "'-' (standard input) cannot be checked together" in mixed.stderr
    (tmp_path / "gradlint.toml").write_text("max-file-size = 10\n")
    large = cli("check", "-", input=TRAIN, cwd=tmp_path)
    assert large.returncode == 1 and "over the" in large.stderr


def test_stdin_through_a_real_pipe(tmp_path: Path):
    result = run_cli("check", "--output-format", "concise", "-", "--stdin-filename", "train.py", cwd=tmp_path, input=TRAIN)
    assert result.returncode == 1, result.stderr
    assert result.stdout.splitlines()[:2] == [
        "train.py:6:12: GL001 unused `noqa` directive: GL0 reported nothing on this line",
        (
            "train.py:13:9: GL601 optimizer step in a loop that never clears gradients: `.backward()` adds to "
            "`.grad`, so every step applies the sum of all gradients so far; call `zero_grad()` once per step"
        ),
    ]
    assert list(tmp_path.iterdir()) == []
