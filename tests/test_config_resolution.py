"""Each file's configuration, as ruff resolves it: the nearest file among its folders,
``extend`` chains, --config and --isolated, the command line over each, and the settings
that a run would use (--show-settings, --show-files). Through the command line."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

# GL601 (the loop never clears its gradients), GL606 (lr=0.5 for SGD is high only under a
# configured range) and GL001 (the noqa suppresses nothing).
TRAIN = textwrap.dedent(
    """\
    import torch

    model = torch.nn.Linear(3, 1)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.5)
    loss_fn = torch.nn.MSELoss()
    SCALE = 2  # noqa: GL0


    def fit(X, y, epochs=100):
        for epoch in range(epochs):
            loss = loss_fn(model(X), y)
            loss.backward()
            optimizer.step()
    """
)


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def _findings(cli, folder: Path, *args: str) -> list[tuple[str, str]]:
    result = cli("check", "--no-cache", "--format", "json", *args, cwd=folder)
    assert result.returncode in (0, 1), result.stderr
    return sorted((f["path"], f["code"]) for f in json.loads(result.stdout)["findings"])


@pytest.fixture
def monorepo(tmp_path: Path) -> Path:
    """Two sub-projects with settings of their own, and a root configuration for the rest."""
    _write(tmp_path / "pyproject.toml", "[tool.gradlint]\nselect = ['GL6']\n")
    _write(tmp_path / "vision" / "pyproject.toml", "[tool.gradlint]\nignore = ['GL601']\n")
    _write(tmp_path / "speech" / "gradlint.toml", "select = ['GL0']\n")
    for sub in ("vision", "speech", "tools"):
        _write(tmp_path / sub / "train.py", TRAIN)
    return tmp_path


def test_each_file_of_one_call_takes_its_own_configuration(cli, monorepo):
    expected = [
        ("speech/train.py", "GL001"),  # speech: GL0 only
        ("tools/train.py", "GL601"),  # the root's: GL6
        ("vision/train.py", "GL001"),  # vision: all but GL601
    ]
    files = ["vision/train.py", "speech/train.py", "tools/train.py"]
    assert _findings(cli, monorepo, *files) == expected
    assert _findings(cli, monorepo) == expected  # a walk from the root: the same
    # from inside a sub-project, the files of another keep theirs
    assert _findings(cli, monorepo / "vision", "train.py", "../speech/train.py") == [
        ("../speech/train.py", "GL001"), ("train.py", "GL001"),
    ]


def test_command_line_selection_applies_over_every_configuration(cli, monorepo):
    assert _findings(cli, monorepo, "--ignore", "GL001") == [("tools/train.py", "GL601")]
    # --extend-select adds to each file's own selection, over vision's ignore too (ruff's
    # stages: the command line's comes last)
    assert _findings(cli, monorepo, "--extend-select", "GL601") == [
        ("speech/train.py", "GL001"), ("speech/train.py", "GL601"),
        ("tools/train.py", "GL601"), ("vision/train.py", "GL001"), ("vision/train.py", "GL601"),
    ]
    # --select starts afresh everywhere
    assert _findings(cli, monorepo, "--select", "GL601") == [
        ("speech/train.py", "GL601"), ("tools/train.py", "GL601"), ("vision/train.py", "GL601"),
    ]


def test_config_forces_one_file_and_isolated_reads_none(cli, monorepo):
    forced = _findings(cli, monorepo, "--config", "speech/gradlint.toml")
    assert forced == [("speech/train.py", "GL001"), ("tools/train.py", "GL001"), ("vision/train.py", "GL001")]
    isolated = _findings(cli, monorepo, "--isolated")
    assert {code for _, code in isolated} == {"GL001", "GL601"} and len(isolated) == 6
    both = cli("check", "--isolated", "--config", "speech/gradlint.toml", cwd=monorepo)
    assert both.returncode == 2 and "cannot go with --config" in both.stderr


def test_within_one_folder_dot_gradlint_toml_then_gradlint_toml_then_pyproject(cli, tmp_path):
    _write(tmp_path / "train.py", TRAIN)
    _write(tmp_path / "pyproject.toml", "[tool.gradlint]\nselect = ['GL601']\n")
    assert _findings(cli, tmp_path) == [("train.py", "GL601")]
    _write(tmp_path / "gradlint.toml", "select = ['GL001']\n")
    assert _findings(cli, tmp_path) == [("train.py", "GL001")]
    _write(tmp_path / ".gradlint.toml", "select = ['GL6']\nignore = ['GL601']\n")
    assert _findings(cli, tmp_path) == []
    # a pyproject.toml without [tool.gradlint] is passed over for the folder above
    _write(tmp_path / "sub" / "pyproject.toml", "[tool.black]\nline-length = 100\n")
    _write(tmp_path / "sub" / "train.py", TRAIN)
    assert _findings(cli, tmp_path, "sub/train.py") == []


def test_extend_chain_merges_as_ruff_does(cli, tmp_path):
    _write(
        tmp_path / "pyproject.toml",
        """\
        [tool.gradlint]
        select = ["GL6", "GL0"]
        ignore = ["GL001"]

        [tool.gradlint.per-file-ignores]
        "lib/scripts/*" = ["GL601"]   # relative to this file's folder

        [tool.gradlint.options.GL606]
        lr-ranges = { SGD = [1e-4, 0.1] }
        """,
    )
    _write(tmp_path / "lib" / "gradlint.toml", 'extend = "../pyproject.toml"\nextend-select = ["GL001"]\n')
    _write(tmp_path / "lib" / "app" / ".gradlint.toml", 'extend = "../gradlint.toml"\nignore = ["GL606"]\n')
    for where in ("lib/train.py", "lib/scripts/train.py", "lib/app/train.py"):
        _write(tmp_path / where, TRAIN)
    assert _findings(cli, tmp_path, "lib") == [
        # GL001 is ignored at the root and selected again, more specifically, by lib
        ("lib/app/train.py", "GL001"), ("lib/app/train.py", "GL601"),
        ("lib/scripts/train.py", "GL001"), ("lib/scripts/train.py", "GL606"),
        ("lib/train.py", "GL001"), ("lib/train.py", "GL601"), ("lib/train.py", "GL606"),
    ]
    # a select in the extending file starts the selection afresh
    _write(tmp_path / "lib" / "gradlint.toml", 'extend = "../pyproject.toml"\nselect = ["GL606"]\n')
    assert _findings(cli, tmp_path, "lib/train.py") == [("lib/train.py", "GL606")]


def test_paths_in_a_configuration_are_relative_to_its_folder(cli, tmp_path):
    _write(tmp_path / "pyproject.toml", '[tool.gradlint]\nextend = "shared/base.toml"\n')
    _write(tmp_path / "shared" / "base.toml", 'exclude = ["generated/"]\n')
    _write(tmp_path / "generated" / "train.py", TRAIN)
    _write(tmp_path / "shared" / "generated" / "train.py", TRAIN)
    listed = cli("check", "--show-files", cwd=tmp_path)
    assert listed.stdout.splitlines() == ["generated/train.py"], listed.stderr


def test_extend_cycles_and_missing_bases_are_configuration_errors(cli, tmp_path):
    _write(tmp_path / "train.py", TRAIN)
    _write(tmp_path / "pyproject.toml", '[tool.gradlint]\nextend = "conf/base.toml"\n')
    _write(tmp_path / "conf" / "base.toml", 'extend = "../pyproject.toml"\n')
    result = cli("check", "train.py", cwd=tmp_path)
    assert result.returncode == 2 and result.stdout == ""
    assert "'extend' makes a cycle: pyproject.toml -> conf/base.toml -> pyproject.toml" in result.stderr
    _write(tmp_path / "pyproject.toml", '[tool.gradlint]\nextend = "pyproject.toml"\n')
    assert "makes a cycle" in cli("check", "train.py", cwd=tmp_path).stderr
    for number in range(40):  # a long chain without a cycle is cut short, without a traceback
        _write(tmp_path / "chain" / f"{number}.toml", f'extend = "{number + 1}.toml"\n')
    _write(tmp_path / "pyproject.toml", '[tool.gradlint]\nextend = "chain/0.toml"\n')
    result = cli("check", "train.py", cwd=tmp_path)
    assert result.returncode == 2 and "'extend' goes more than 32 files deep" in result.stderr
    _write(tmp_path / "pyproject.toml", '[tool.gradlint]\nextend = "nowhere.toml"\n')
    result = cli("check", "train.py", cwd=tmp_path)
    assert result.returncode == 2 and "'extend' names nowhere.toml, which does not exist" in result.stderr


@pytest.mark.parametrize(
    "table, message",
    [
        ("[tool.gradlint.options.GL606]\nlr-ranges = { SGD = [1e-6] }\n",
         "options.GL606: 'lr-ranges.SGD' must be [low, high], two numbers with 0 <= low <= high (got [1e-6])"),
        ("[tool.gradlint.options.GL606]\nlr-ranges = { Adam = [0.1, 1e-3] }\n", "'lr-ranges.Adam' must be [low, high]"),
        ("[tool.gradlint.options.learning-rate-out-of-range]\nlr-ranges = [1, 2]\n",
         "'lr-ranges' must be a table of names to [low, high]"),
        ("[tool.gradlint.options.GL101]\nmin-gradient-ratio = 0\n", "'min-gradient-ratio' must be a positive number (got 0)"),
        ("[tool.gradlint.options.GL203]\nmax-gradient-ratio = \"big\"\n", "'max-gradient-ratio' must be a positive number"),
    ],
)
def test_a_malformed_rule_option_is_one_configuration_error(cli, tmp_path, table, message):
    _write(tmp_path / "sub" / "train.py", TRAIN)
    _write(tmp_path / "sub" / "pyproject.toml", "[tool.gradlint]\n" + table)
    result = cli("check", "sub/train.py", cwd=tmp_path)
    assert result.returncode == 2, result.stdout + result.stderr
    assert result.stderr.startswith("gradlint: error: sub/pyproject.toml: ")
    assert message in result.stderr and "internal error" not in result.stdout + result.stderr


def test_every_rule_option_declares_its_type():
    from gradlint.rule import all_rules

    with_options = [rule for rule in all_rules() if rule.options]
    assert with_options
    for rule in with_options:
        assert set(rule.options) == set(rule.option_types), rule.code
        for key, default in rule.options.items():  # the defaults pass their own test
            assert rule.option_types[key].problem(key, default) is None, (rule.code, key)


def test_show_settings_names_the_files_they_came_from(cli, tmp_path):
    _write(tmp_path / "pyproject.toml", "[tool.gradlint]\nignore = ['GL601']\n[tool.gradlint.options.GL606]\nlr-ranges = { SGD = [0, 0.1] }\n")
    _write(tmp_path / "pkg" / ".gradlint.toml", 'extend = "../pyproject.toml"\nextend-select = ["GL601"]\n')
    result = cli("check", "--show-settings", "pkg/train.py", "--ignore", "GL7", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[:4] == [
        "# settings for pkg/train.py", "# from: pkg/.gradlint.toml", "# extends: pyproject.toml", "# root: pkg",
    ]
    assert 'ignore = ["GL601"]' in lines
    assert lines[5:7] == [
        '# then: ignore = [], extend-select = ["GL601"]', '# then: ignore = ["GL7"], extend-select = []',
    ]
    assert "GL601" in lines[4].split() and "GL701" not in lines[4].split()
    assert "lr-ranges = { SGD = [0, 0.1] }" in lines
    bare = cli("check", "--show-settings", "x.py", "--isolated", cwd=tmp_path)
    assert "# from: no configuration file (the defaults)" in bare.stdout


def test_show_files_lists_what_would_be_checked_and_checks_nothing(cli, monorepo):
    _write(monorepo / "vision" / "pyproject.toml", "[tool.gradlint]\nextend-exclude = ['train.py']\n")
    _write(monorepo / "vision" / "model.py", "x = 1\n")
    result = cli("check", "--show-files", cwd=monorepo)
    assert result.returncode == 0 and result.stderr == ""
    assert result.stdout == "speech/train.py\ntools/train.py\nvision/model.py\n"
    assert not (monorepo / ".gradlint_cache").exists()


def test_cache_entries_follow_each_files_settings(cli, monorepo):
    def run():
        result = cli("check", "--format", "json", cwd=monorepo)
        return sorted((f["path"], f["code"]) for f in json.loads(result.stdout)["findings"])

    first = run()
    assert run() == first
    _write(monorepo / "vision" / "pyproject.toml", "[tool.gradlint]\nselect = ['GL601']\n")
    assert ("vision/train.py", "GL601") in run() and ("vision/train.py", "GL001") not in run()
    # each configuration caches in its own folder
    assert (monorepo / "vision" / ".gradlint_cache").is_dir() and (monorepo / "speech" / ".gradlint_cache").is_dir()


def test_workers_check_each_group_with_its_own_rules(cli, monorepo):
    for sub in ("vision", "speech", "tools"):
        for number in range(4):
            _write(monorepo / sub / f"train_{number}.py", TRAIN)
    serial = _findings(cli, monorepo, "-j", "1")
    assert len(serial) == 15 and _findings(cli, monorepo, "-j", "2") == serial


def test_clean_removes_the_caches_of_the_sub_projects(cli, monorepo):
    assert cli("check", "--exit-zero", cwd=monorepo).returncode == 0
    caches = {p.parent for p in monorepo.glob("**/.gradlint_cache")}
    assert caches == {monorepo, monorepo / "speech", monorepo / "vision"}
    result = cli("clean", cwd=monorepo)
    assert result.returncode == 0, result.stderr
    assert list(monorepo.glob("**/.gradlint_cache")) == []


def test_a_parent_configuration_excludes_a_sub_project_with_its_own(cli, monorepo):
    _write(monorepo / "pyproject.toml", "[tool.gradlint]\nselect = ['GL6']\nexclude = ['vision/']\n")
    assert cli("check", "--show-files", cwd=monorepo).stdout == "speech/train.py\ntools/train.py\n"
    named = ("vision/train.py", "tools/train.py")
    assert cli("check", "--show-files", *named, cwd=monorepo).stdout == "tools/train.py\nvision/train.py\n"
    assert cli("check", "--show-files", "--force-exclude", *named, cwd=monorepo).stdout == "tools/train.py\n"
    # a project that lives below a folder named like a default exclusion is not excluded whole
    inner = monorepo.parent / f"{monorepo.name}-elsewhere" / "build" / "proj"
    _write(inner / "pyproject.toml", "[tool.gradlint]\n")
    _write(inner / "train.py", TRAIN)
    assert cli("check", "--show-files", "--force-exclude", "train.py", cwd=inner).stdout == "train.py\n"
