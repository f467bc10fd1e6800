"""What `gradlint check` prints, end to end: each output format, colour, statistics, quiet and
silent runs, rule URLs, errors with their place, SARIF against the official schema, ``ALL``
and ``# noqa`` codes that name no rule."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tests.conftest import STALE_NOQA

ROOT = Path(__file__).resolve().parent
GL001_URL = "https://github.com/gradlint/gradlint/blob/main/rules/GL001.md"
ANSI = re.compile(r"\x1b\[[0-9;]*m")
BROKEN = "import torch\nx = (1,\n"  # CPython: '(' was never closed, at 2:5


def _project(tmp_path: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return tmp_path


FULL = f"""\
GL001 unused `noqa` directive: GL0 reported nothing on this line
 --> model.py:7:38
  |
5 |     def __init__(self):
6 |         super().__init__()
7 |         self.fc = nn.Linear(64, 10)  # noqa: GL0
  |                                      ^^^^^^^^^^^
8 |
9 |     def forward(self, x):
  |
help: `gradlint rule GL001` explains it: {GL001_URL}

Found 1 finding in 1 file checked.
"""


def test_the_default_output_is_full_and_text_names_it(cli, tmp_path):
    _project(tmp_path, {"model.py": STALE_NOQA})
    result = cli("check", "--no-cache", "model.py", cwd=tmp_path)
    assert result.returncode == 1 and result.stdout == FULL
    for args in (("--format", "text"), ("--output-format", "full"), ("--format", "full")):
        assert cli("check", "--no-cache", *args, "model.py", cwd=tmp_path).stdout == FULL, args


def test_concise_is_one_line_per_finding(cli, tmp_path):
    _project(tmp_path, {"model.py": STALE_NOQA})
    result = cli("check", "--no-cache", "--output-format", "concise", "model.py", cwd=tmp_path)
    assert result.stdout == (
        "model.py:7:38: GL001 unused `noqa` directive: GL0 reported nothing on this line\n"
        "Found 1 finding in 1 file checked.\n"
    )


def test_colour_on_request_and_never_into_a_pipe(cli, run_cli_colour, tmp_path):
    _project(tmp_path, {"model.py": STALE_NOQA})
    for fmt in ("full", "concise"):
        coloured = cli("check", "--no-cache", "--output-format", fmt, "--color", "always", "model.py", cwd=tmp_path)
        plain = cli("check", "--no-cache", "--output-format", fmt, "model.py", cwd=tmp_path)
        assert "\x1b[1;33mGL001\x1b[0m" in coloured.stdout and "\x1b[" not in plain.stdout
        assert ANSI.sub("", coloured.stdout) == plain.stdout
    # a child process, as a user runs it: stdout is a pipe, so auto means no colour unless forced
    assert "\x1b[" not in run_cli_colour({}, tmp_path)
    assert "\x1b[" in run_cli_colour({"FORCE_COLOR": "1"}, tmp_path)
    assert "\x1b[" in run_cli_colour({"CLICOLOR_FORCE": "1"}, tmp_path)
    assert "\x1b[" not in run_cli_colour({"FORCE_COLOR": "1"}, tmp_path, "--color", "never")


@pytest.fixture
def run_cli_colour(monkeypatch):
    from tests.conftest import run_cli

    def run(env: dict[str, str], folder: Path, *args: str) -> str:
        for name in ("FORCE_COLOR", "CLICOLOR_FORCE", "NO_COLOR", "CLICOLOR"):
            monkeypatch.delenv(name, raising=False)
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        return run_cli("check", "--no-cache", *args, "model.py", cwd=folder).stdout

    return run


def test_no_color_turns_colour_off_on_a_terminal(tmp_path):
    """NO_COLOR beats a terminal (a pseudo-terminal stands in for one); FORCE_COLOR beats NO_COLOR."""
    pty = pytest.importorskip("pty")
    import os
    import subprocess
    import sys

    from tests.conftest import ROOT as REPO

    _project(tmp_path, {"model.py": STALE_NOQA})

    def on_a_terminal(**env: str) -> bytes:
        leader, follower = pty.openpty()
        environ = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "FORCE_COLOR", "CLICOLOR_FORCE")}
        environ.update(env, PYTHONPATH=str(REPO))
        subprocess.run([sys.executable, "-m", "gradlint", "check", "--no-cache", "model.py"], cwd=tmp_path,
                       env=environ, stdout=follower, stderr=subprocess.DEVNULL, timeout=300, check=False)
        os.close(follower)
        chunks = []
        while True:
            try:
                chunk = os.read(leader, 65536)
            except OSError:
                break
            if not chunk:
                break
            chunks.append(chunk)
        os.close(leader)
        return b"".join(chunks)

    assert b"\x1b[" in on_a_terminal()
    assert b"\x1b[" not in on_a_terminal(NO_COLOR="1")
    assert b"\x1b[" in on_a_terminal(NO_COLOR="1", FORCE_COLOR="1")


def test_statistics_quiet_and_silent(cli, tmp_path):
    _project(tmp_path, {"a.py": STALE_NOQA, "b.py": STALE_NOQA})
    stats = cli("check", "--no-cache", "--statistics", cwd=tmp_path)
    assert stats.returncode == 1
    assert stats.stdout == "2\tGL001\tunused-noqa\nFound 2 findings in 2 files checked.\n"
    as_json = cli("check", "--no-cache", "--statistics", "--output-format", "json", cwd=tmp_path)
    assert json.loads(as_json.stdout) == [{"code": "GL001", "name": "unused-noqa", "count": 2, "fixable": False}]
    quiet = cli("check", "--no-cache", "-q", "--output-format", "concise", cwd=tmp_path)
    assert quiet.returncode == 1 and quiet.stdout.splitlines() == [
        "a.py:7:38: GL001 unused `noqa` directive: GL0 reported nothing on this line",
        "b.py:7:38: GL001 unused `noqa` directive: GL0 reported nothing on this line",
    ]
    full_quiet = cli("check", "--no-cache", "--quiet", "a.py", cwd=tmp_path)
    assert full_quiet.stdout == FULL.replace("model.py", "a.py").split("\n\nFound")[0] + "\n"
    (tmp_path / "broken.py").write_text(BROKEN, encoding="utf-8")
    silent = cli("check", "--no-cache", "-s", cwd=tmp_path)
    assert (silent.returncode, silent.stdout, silent.stderr) == (1, "", "")
    clean = _project(tmp_path / "clean", {"ok.py": "x = 1\n"})
    assert cli("check", "--no-cache", "-q", cwd=clean).stdout == ""


def test_every_finding_links_its_rule_page(cli, tmp_path):
    _project(tmp_path, {"model.py": STALE_NOQA})
    report = json.loads(cli("check", "--no-cache", "--output-format", "json", cwd=tmp_path).stdout)
    assert [f["url"] for f in report["findings"]] == [GL001_URL]
    sarif = json.loads(cli("check", "--no-cache", "--output-format", "sarif", cwd=tmp_path).stdout)
    rules = sarif["runs"][0]["tool"]["driver"]["rules"]
    assert all(rule["helpUri"].endswith(f"/rules/{rule['id']}.md") for rule in rules)
    assert f"help: `gradlint rule GL001` explains it: {GL001_URL}" in cli("check", "--no-cache", cwd=tmp_path).stdout


def test_a_syntax_error_says_where_it_is(cli, tmp_path):
    _project(tmp_path, {"syn.py": BROKEN, "gone.py": STALE_NOQA})
    (tmp_path / "gone.py").unlink()
    text = cli("check", "--no-cache", "syn.py", "gone.py", cwd=tmp_path)
    assert text.returncode == 1
    assert text.stderr.splitlines() == [
        "gone.py: error: no such file or directory",
        "syn.py:2:5: error: syntax error: '(' was never closed",
    ]
    github = cli("check", "--no-cache", "--output-format", "github", "syn.py", cwd=tmp_path)
    assert github.stdout == "::error file=syn.py,line=2,col=5,title=gradlint::syntax error: '(' was never closed\n"
    errors = json.loads(cli("check", "--no-cache", "--output-format", "json", "syn.py", cwd=tmp_path).stdout)["errors"]
    assert errors == [{"path": "syn.py", "line": 2, "column": 5, "message": "syntax error: '(' was never closed"}]


def _sarif_schema_validator():
    jsonschema = pytest.importorskip("jsonschema")
    schema = json.loads((ROOT / "data" / "sarif-schema-2.1.0.json").read_text(encoding="utf-8"))
    return jsonschema.Draft4Validator(schema)


def test_sarif_is_valid_and_relative_to_the_repository_top(cli, tmp_path):
    """A monorepo: the sub-project has its own configuration, code scanning reads paths from
    the repository's top."""
    repo = _project(tmp_path / "repo", {
        "services/trainer/pyproject.toml": "[tool.gradlint]\n",
        "services/trainer/src/model.py": STALE_NOQA,
        "services/trainer/src/syn.py": BROKEN,
    })
    (repo / ".git").mkdir()
    outside = _project(tmp_path / "elsewhere", {"other.py": STALE_NOQA}) / "other.py"
    trainer = repo / "services" / "trainer"
    result = cli("check", "--no-cache", "--output-format", "sarif", "src", str(outside), cwd=trainer)
    assert result.returncode == 1
    document = json.loads(result.stdout)
    validator = _sarif_schema_validator()
    assert sorted(e.message for e in validator.iter_errors(document)) == []
    (run,) = document["runs"]
    assert run["originalUriBaseIds"] == {"%SRCROOT%": {"uri": repo.resolve().as_uri() + "/"}}
    places = [r["locations"][0]["physicalLocation"]["artifactLocation"] for r in run["results"]]
    assert sorted(places, key=str) == sorted([
        {"uri": "services/trainer/src/model.py", "uriBaseId": "%SRCROOT%"},
        {"uri": outside.resolve().as_uri()},  # outside the repository: absolute, no base
    ], key=str)
    (notification,) = run["invocations"][0]["toolExecutionNotifications"]
    assert notification["locations"][0]["physicalLocation"] == {
        "artifactLocation": {"uri": "services/trainer/src/syn.py", "uriBaseId": "%SRCROOT%"},
        "region": {"startLine": 2, "startColumn": 5},
    }
    # a `.git` file (a worktree, a submodule) marks the top as well; without one, the current folder
    (repo / ".git").rmdir()
    (trainer / ".git").write_text("gitdir: ../../.git/worktrees/trainer\n", encoding="utf-8")
    again = json.loads(cli("check", "--no-cache", "--output-format", "sarif", "src", cwd=trainer).stdout)
    assert again["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "src/model.py"


def test_the_validator_rejects_what_code_scanning_would(cli, tmp_path):
    """The schema test can fail: a result without a message is not SARIF."""
    _project(tmp_path, {"model.py": STALE_NOQA})
    document = json.loads(cli("check", "--no-cache", "--output-format", "sarif", cwd=tmp_path).stdout)
    del document["runs"][0]["results"][0]["message"]
    assert list(_sarif_schema_validator().iter_errors(document))


BCE = "import torch\nimport torch.nn as nn\n\n\ndef loss(logits, y):\n    return nn.BCELoss()(torch.sigmoid(logits), y)\n"


@pytest.mark.parametrize(
    "pyproject, args, fires",
    [
        ("", (), False),  # the default rules leave the opt-in one out
        ("select = ['ALL']\n", (), True),  # ALL means every rule, as in ruff
        ("", ("--select", "ALL"), True),
        ("", ("--select", "GL4"), True),
        ("", ("--extend-select", "GL404"), True),
        ("select = ['ALL']\nignore = ['GL404']\n", (), False),
    ],
)
def test_all_selects_the_opt_in_rules_too(cli, tmp_path, pyproject, args, fires):
    _project(tmp_path, {"pyproject.toml": "[tool.gradlint]\n" + pyproject, "train.py": BCE})
    report = json.loads(cli("check", "--no-cache", "--output-format", "json", *args, cwd=tmp_path).stdout)
    assert ("GL404" in [f["code"] for f in report["findings"]]) is fires


def test_a_noqa_code_that_names_no_rule_is_reported(cli, tmp_path):
    source = STALE_NOQA.replace("# noqa: GL0", "# noqa: GL999, E501").replace(
        "return self.fc(x)", "return self.fc(x)  # noqa: E501, F401"
    )
    _project(tmp_path, {"model.py": source})
    result = cli("check", "--no-cache", "--output-format", "concise", "-q", cwd=tmp_path)
    assert result.stdout == "model.py:7:38: GL001 unused `noqa` directive: GL999 is no gradlint code\n"
    result = cli("check", "--no-cache", "--output-format", "concise", "-q", "--ignore", "GL001", cwd=tmp_path)
    assert result.returncode == 0 and result.stdout == ""


def test_the_output_format_can_come_from_the_environment(cli, tmp_path, monkeypatch):
    _project(tmp_path, {"model.py": STALE_NOQA})
    monkeypatch.setenv("GRADLINT_OUTPUT_FORMAT", "concise")
    assert cli("check", "--no-cache", "-q", cwd=tmp_path).stdout.startswith("model.py:7:38: GL001 ")
    assert cli("check", "--no-cache", "-q", "--output-format", "full", cwd=tmp_path).stdout.startswith("GL001 ")
