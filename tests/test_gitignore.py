"""What git ignores is not checked: the matcher agrees with git itself, and the walk uses it."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import textwrap
from pathlib import Path

import pytest

from gradlint.gitignore import GitIgnore, parse_line

STALE = "import torch.nn as nn\nx = nn.Linear(2, 2)  # noqa: GL0\n"  # GL001, nothing else

PATTERNS = textwrap.dedent(
    """\
    # a comment, then a blank line

    *.log
    !keep.log
    /build
    gen/
    docs/**/*.py
    **/vendor
    a/**/b
    foo*bar
    [abc]x.py
    [!q]y.py
    [a-c]z.py
    \\#hash.py
    trail\\ 
    sub/**
    !sub/keep.py
    x?z.py
    deep/**/leaf/
    """
)
NESTED = "/local.py\n!*.log\n"
FILES = [
    "a.log", "keep.log", "d/keep.log", "build/x.py", "x/build/y.py", "gen/g.py", "x/gen/g.py",
    "docs/a.py", "docs/x/y/a.py", "docs/a.txt", "vendor/v.py", "q/vendor/v.py", "q/r/vendor/v.py",
    "a/b", "a/x/b", "a/x/y/b", "ab", "foobar", "fooXbar", "fo/obar", "ax.py", "dx.py", "qy.py",
    "zy.py", "bz.py", "dz.py", "#hash.py", "trail ", "trail", "sub/x.py", "sub/keep.py",
    "sub/d/local.py", "sub/d/q.log", "sub/d/e/local.py", "xyz.py", "x/z.py", "deep/leaf/f.py",
    "deep/m/n/leaf/f.py", "deep/leaf", "plain.py",
]


@pytest.mark.skipif(shutil.which("git") is None, reason="needs git")
def test_the_matcher_agrees_with_git(tmp_path):
    repo = tmp_path / "repo"
    repo.mkdir()
    subprocess.run(["git", "init", "-q"], cwd=repo, check=True)
    (repo / ".gitignore").write_text(PATTERNS)
    (repo / "sub" / "d").mkdir(parents=True)
    (repo / "sub" / "d" / ".gitignore").write_text(NESTED)
    (repo / ".git" / "info").mkdir(exist_ok=True)
    (repo / ".git" / "info" / "exclude").write_text("plain.py\n")
    for name in FILES:
        path = repo / name
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text("")
    checked = subprocess.run(
        ["git", "check-ignore", "--stdin"], cwd=repo, input="\n".join(FILES) + "\n",
        capture_output=True, text=True, check=False,
    )
    by_git = set(checked.stdout.splitlines())
    ignore = GitIgnore()
    ours = {name for name in FILES if ignore.ignored_with_parents(str(repo / name), (repo / name).is_dir())}
    assert ours == by_git
    assert len(by_git) > 20 and "plain.py" in by_git  # the test exercises both verdicts


def test_pattern_forms():
    assert parse_line("# comment", "/r") is None and parse_line("   ", "/r") is None
    rule = parse_line("!/build/", "/r")
    assert rule.negated and rule.dir_only and rule.regex.match("build") and not rule.regex.match("x/build")
    assert parse_line("*.py", "/r").regex.match("a/b/c.py")
    assert not parse_line("a/*.py", "/r").regex.match("a/b/c.py")
    assert parse_line("a/**/c.py", "/r").regex.match("a/c.py")
    assert parse_line("[", "/r").regex.match("[")  # an unclosed bracket is a character


def _git_repo(root: Path) -> Path:
    (root / ".git").mkdir(parents=True)  # what makes a folder a repository's top
    return root


def _checked(cli, folder: Path, *args: str) -> list[str]:
    result = cli("check", "--no-cache", "--format", "json", "--exit-zero", *args, cwd=folder)
    assert result.returncode == 0, result.stderr
    return sorted({f["path"] for f in json.loads(result.stdout)["findings"]})


@pytest.fixture
def project(tmp_path: Path) -> Path:
    repo = _git_repo(tmp_path / "repo")
    (repo / ".gitignore").write_text("generated/\n*_pb2.py\n!keep_pb2.py\n")
    for name in ("model.py", "generated/model.py", "api_pb2.py", "keep_pb2.py", "src/vendored/lib.py"):
        (repo / name).parent.mkdir(parents=True, exist_ok=True)
        (repo / name).write_text(STALE)
    (repo / "src" / ".gitignore").write_text("vendored\n")
    return repo


def test_a_walk_skips_what_git_ignores(cli, project):
    assert _checked(cli, project) == ["keep_pb2.py", "model.py"]
    assert _checked(cli, project / "src") == []  # the repository's patterns hold below its top
    assert cli("check", "--show-files", cwd=project).stdout == "keep_pb2.py\nmodel.py\n"
    assert _checked(cli, project, "--no-respect-gitignore") == [
        "api_pb2.py", "generated/model.py", "keep_pb2.py", "model.py", "src/vendored/lib.py",
    ]
    (project / "pyproject.toml").write_text("[tool.gradlint]\nrespect-gitignore = false\n")
    assert len(_checked(cli, project)) == 5


def test_info_exclude_and_outside_a_repository(cli, project, tmp_path):
    (project / ".git" / "info").mkdir()
    (project / ".git" / "info" / "exclude").write_text("model.py\n")
    assert _checked(cli, project) == ["keep_pb2.py"]
    # a .gitignore outside any repository means nothing to git, nor to gradlint (as in ruff)
    loose = tmp_path / "loose"
    loose.mkdir()
    (loose / ".gitignore").write_text("*.py\n")
    (loose / "model.py").write_text(STALE)
    assert _checked(cli, loose) == ["model.py"]


def test_a_file_named_on_the_command_line_is_checked_unless_force_exclude(cli, project):
    named = ["generated/model.py", "api_pb2.py", "keep_pb2.py"]
    assert _checked(cli, project, *named) == sorted(named)
    assert _checked(cli, project, "--force-exclude", *named) == ["keep_pb2.py"]
    assert _checked(cli, project, "--force-exclude", "generated") == []


def test_a_worktree_reads_the_main_repositorys_exclude_file(tmp_path):
    main = _git_repo(tmp_path / "main")
    (main / ".git" / "info").mkdir()
    (main / ".git" / "info" / "exclude").write_text("secret.py\n")
    (main / ".git" / "worktrees" / "wt").mkdir(parents=True)
    (main / ".git" / "worktrees" / "wt" / "commondir").write_text("../..\n")
    tree = tmp_path / "wt"
    tree.mkdir()
    (tree / ".git").write_text(f"gitdir: {main / '.git' / 'worktrees' / 'wt'}\n")
    ignore = GitIgnore()
    assert ignore.ignored(os.path.join(tree, "secret.py"), False)
    assert not ignore.ignored(os.path.join(tree, "public.py"), False)


def test_dot_ignore_files_count_in_a_repository_or_not_and_over_git(cli, project, tmp_path):
    (project / ".ignore").write_text("!api_pb2.py\nkeep_pb2.py\n")  # ripgrep's file, as ruff reads it
    assert _checked(cli, project) == ["api_pb2.py", "model.py"]
    loose = tmp_path / "loose"
    loose.mkdir()
    (loose / ".ignore").write_text("gen_*.py\n")
    for name in ("model.py", "gen_model.py"):
        (loose / name).write_text(STALE)
    assert _checked(cli, loose) == ["model.py"]
    assert _checked(cli, loose, "--force-exclude", "gen_model.py") == []
    assert _checked(cli, loose, "gen_model.py") == ["gen_model.py"]


def test_the_users_global_excludes_file_counts_in_a_repository(cli, project, tmp_path, monkeypatch):
    home = tmp_path / "home"
    (home / ".config" / "git").mkdir(parents=True)
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.delenv("XDG_CONFIG_HOME", raising=False)
    (home / ".config" / "git" / "ignore").write_text("model.py\n")  # git's default place
    assert _checked(cli, project) == ["keep_pb2.py"]
    (project / ".gitignore").write_text("!model.py\n")  # the repository's own patterns win
    assert "model.py" in _checked(cli, project)
    (project / ".gitignore").write_text("generated/\n*_pb2.py\n!keep_pb2.py\n")
    # core.excludesFile moves it; the last git configuration to set it wins
    (home / ".config" / "git" / "ignore").write_text("")
    (home / ".config" / "git" / "config").write_text('[core]\n\texcludesFile = "~/xdg-excludes"\n')
    (home / ".gitconfig").write_text("[user]\n\tname = dev\n[core]\n\texcludesfile = ~/excludes ; mine\n")
    (home / "xdg-excludes").write_text("nothing.py\n")
    (home / "excludes").write_text("model.py\n")
    assert _checked(cli, project) == ["keep_pb2.py"]
    (home / ".gitconfig").unlink()
    assert _checked(cli, project) == ["keep_pb2.py", "model.py"]
