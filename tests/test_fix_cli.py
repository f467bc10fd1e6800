"""``gradlint check --fix`` and its companions, as a user runs them."""

from __future__ import annotations

import os
import stat
import textwrap

from conftest import invoke_cli

from gradlint.diagnostics import Finding, Location
from gradlint.fixes import fixes_for
from gradlint.fixes.apply import FixPolicy, apply_fixes
from gradlint.fixes.noqa import with_noqa
from gradlint.fixes.session import FileFix, write_back

# the loop of a tutorial, with the user's own layout: comments, a blank line, odd spacing
LOOP = textwrap.dedent(
    """\
    import torch
    from torch import nn


    def fit(model, X, y,   lr=0.1, epochs=100):  # keep this spacing
        optimizer = torch.optim.SGD(model.parameters(), lr=lr)
        for epoch in range(epochs):
            loss = nn.functional.mse_loss(model(X), y)

            loss.backward()          # aligned comment
            optimizer.zero_grad()
            optimizer.step()
            nn.utils.clip_grad_norm_(model.parameters(), 1.0)  # clip
    """
)

FIXED_LOOP = textwrap.dedent(
    """\
    import torch
    from torch import nn


    def fit(model, X, y,   lr=0.1, epochs=100):  # keep this spacing
        optimizer = torch.optim.SGD(model.parameters(), lr=lr)
        for epoch in range(epochs):
            loss = nn.functional.mse_loss(model(X), y)

            loss.backward()          # aligned comment
            nn.utils.clip_grad_norm_(model.parameters(), 1.0)  # clip
            optimizer.step()
            optimizer.zero_grad()
    """
)

PLAIN_LIST = textwrap.dedent(
    """\
    import torch.nn as nn


    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.blocks = [nn.Linear(3, 3), nn.Linear(3, 3)]

        def forward(self, x):
            for block in self.blocks:
                x = block(x)
            return x
    """
)


def test_fix_writes_the_repair_and_counts_it(tmp_path):
    target = tmp_path / "train.py"
    target.write_text(LOOP)
    target.chmod(0o640)
    result = invoke_cli("check", "--no-cache", "--fix", str(target))
    assert target.read_text() == FIXED_LOOP
    assert stat.S_IMODE(target.stat().st_mode) == 0o640
    assert "Found 2 errors (2 fixed, 0 remaining)." in result.stdout
    assert result.returncode == 0
    assert [p.name for p in tmp_path.iterdir()] == ["train.py"]  # no temporary file left


def test_conflicting_fixes_on_one_line_apply_one_at_a_time():
    path = "train.py"
    from fix_harness import checker, fix_in_memory

    from gradlint.fixes.apply import compatible

    chk = checker()
    from pathlib import Path

    _, _, before, _ = fix_in_memory(Path(path), LOOP, chk, unsafe=False)
    fixes = fixes_for(path, LOOP, before)
    assert len(fixes) == 2 and len(compatible(fixes)) == 1  # both edit line 12
    fixed, applied, _, after = fix_in_memory(Path(path), LOOP, chk)
    assert fixed == FIXED_LOOP and len(applied) == 2 and not after


def test_diff_prints_and_writes_nothing(tmp_path):
    target = tmp_path / "train.py"
    target.write_text(LOOP)
    result = invoke_cli("check", "--no-cache", "--diff", str(target))
    assert target.read_text() == LOOP
    assert result.returncode == 1
    assert "+        nn.utils.clip_grad_norm_(model.parameters(), 1.0)  # clip\n" in result.stdout
    assert "-        nn.utils.clip_grad_norm_(model.parameters(), 1.0)  # clip\n" in result.stdout
    assert result.stdout.startswith(f"--- {target}\n+++ {target}\n")
    relative = invoke_cli("check", "--no-cache", "--diff", "train.py", cwd=tmp_path)
    assert relative.stdout.startswith("--- a/train.py\n+++ b/train.py\n")
    assert "Would fix 2 errors" in result.stdout


def test_unsafe_fixes_only_when_asked(tmp_path):
    target = tmp_path / "net.py"
    target.write_text(PLAIN_LIST)
    shown = invoke_cli("check", "--no-cache", str(target))
    assert "GL701 [*]" not in shown.stdout
    assert "1 hidden fix can be enabled with the `--unsafe-fixes` option." in shown.stdout
    invoke_cli("check", "--no-cache", "--fix", str(target))
    assert target.read_text() == PLAIN_LIST
    offered = invoke_cli("check", "--no-cache", "--unsafe-fixes", str(target))
    assert (
        "GL701 [*]" in offered.stdout and "[*] 1 fixable with the `--fix` option." in offered.stdout
    )
    invoke_cli("check", "--no-cache", "--fix", "--unsafe-fixes", str(target))
    assert "nn.ModuleList([nn.Linear(3, 3), nn.Linear(3, 3)])" in target.read_text()


def test_configuration_chooses_the_fixes(tmp_path):
    (tmp_path / "pyproject.toml").write_text(
        '[tool.gradlint]\nunfixable = ["GL604"]\nextend-safe-fixes = ["GL701"]\n'
    )
    (tmp_path / "train.py").write_text(LOOP)
    (tmp_path / "net.py").write_text(PLAIN_LIST)
    result = invoke_cli("check", "--no-cache", "--fix", ".", cwd=tmp_path)
    assert "nn.ModuleList(" in (tmp_path / "net.py").read_text()  # made safe by the project
    fixed = (tmp_path / "train.py").read_text()
    assert fixed.rstrip().endswith("# clip")  # GL604 left alone
    assert "(2 fixed, 1 remaining)" in result.stdout
    bad = invoke_cli("check", "--no-cache", ".", cwd=tmp_path, input=None)
    assert bad.returncode == 1
    (tmp_path / "pyproject.toml").write_text('[tool.gradlint]\nfixable = ["GL999"]\n')
    assert invoke_cli("check", "--no-cache", ".", cwd=tmp_path).returncode == 2


def test_fix_only_reports_nothing_else(tmp_path):
    target = tmp_path / "train.py"
    target.write_text(LOOP)
    result = invoke_cli("check", "--no-cache", "--fix-only", str(target))
    assert result.returncode == 0 and result.stdout.startswith("Fixed 2 errors:")
    assert target.read_text() == FIXED_LOOP


def test_no_write_when_the_file_changed_on_disk(tmp_path):
    target = tmp_path / "train.py"
    target.write_text("x = 1\n")
    outcome = FileFix(target, "train.py", "x = 1\n", "x = 2\n", data=b"x = 0\n")
    assert "changed on disk" in write_back(outcome)
    assert target.read_text() == "x = 1\n"


def test_crlf_tabs_and_a_bom_survive(tmp_path):
    text = LOOP.replace("    ", "\t").replace("\n", "\r\n")
    target = tmp_path / "train.py"
    target.write_bytes(b"\xef\xbb\xbf" + text.encode())
    invoke_cli("check", "--no-cache", "--fix", str(target))
    assert (
        target.read_bytes()
        == b"\xef\xbb\xbf" + FIXED_LOOP.replace("    ", "\t").replace("\n", "\r\n").encode()
    )


def test_add_noqa_then_the_check_is_clean(tmp_path):
    target = tmp_path / "train.py"
    target.write_text(LOOP)
    result = invoke_cli("check", "--no-cache", "--add-noqa", str(target))
    assert result.stdout == "Added 2 noqa directives.\n"
    text = target.read_text()
    assert "optimizer.zero_grad()  # noqa: GL602\n" in text
    assert "1.0)  # clip  # noqa: GL604\n" in text
    assert invoke_cli("check", "--no-cache", str(target)).returncode == 0


def test_add_noqa_extends_a_list_and_skips_strings():
    text = 'a = 1  # noqa: E501 too long\nb = """\n"""\n'
    fixed, count, skipped = with_noqa(text, {1: {"GL601"}, 2: {"GL605"}})
    assert fixed.splitlines()[0] == "a = 1  # noqa: E501, GL601 too long"
    assert count == 1 and skipped == [2]


def test_json_carries_the_fix(tmp_path):
    import json

    target = tmp_path / "train.py"
    target.write_text(LOOP)
    result = invoke_cli("check", "--no-cache", "--format", "json", str(target))
    records = json.loads(result.stdout)["findings"]
    assert all("fix" not in r for r in records)  # JSON stays as it was without --fix
    path = str(target)
    finding = Finding(
        "GL602", "zero-grad-between-backward-and-step", "error", "m", Location(path, 11, 9, 11, 30)
    )
    (fix,) = fixes_for(path, LOOP, [finding])
    assert fix.safety == "safe" and fix.path == path
    assert apply_fixes(LOOP, [fix]).count("optimizer.zero_grad()") == 1
    assert FixPolicy().allows(fix) and not FixPolicy(unfixable=["GL6"]).allows(fix)
    assert os.path.exists(path)


def test_zero_grad_goes_where_the_loop_needs_it():
    """Before the backward under a skip guard; after the step of a step every k batches."""
    from pathlib import Path

    from conftest import ROOT
    from fix_harness import checker, fix_in_memory

    path = (
        ROOT
        / "tests"
        / "fixtures"
        / "code_rules"
        / "loop"
        / "zero_grad_missing_under_a_finite_guard.py"
    )
    fixed, applied, _, after = fix_in_memory(Path(path), path.read_text(), checker(["GL6"]))
    lines = fixed.splitlines()
    first = lines.index("            optimizer.zero_grad()")
    assert lines[first + 1] == "            loss.backward()"
    assert lines[-1] == "                optimizer.zero_grad()" and lines[-2].endswith(
        "# expect: GL601"
    )
    assert len(applied) == 2 and not after


def test_odd_layouts_keep_every_byte_outside_the_fixes(tmp_path):
    """Comments inside calls, trailing commas, a semicolon line, a one-line branch, no final
    newline: the fixed file is exactly the reviewed snapshot."""
    from conftest import ROOT

    folder = ROOT / "tests" / "fixtures" / "fixes"
    target = tmp_path / "odd_layouts.py"
    target.write_bytes((folder / "odd_layouts.py").read_bytes())
    result = invoke_cli(
        "check", "--no-cache", "--fix", "--unsafe-fixes", "--select", "GL4,GL6,GL7", str(target)
    )
    assert "Found 5 errors (5 fixed, 0 remaining)." in result.stdout
    assert target.read_bytes() == (folder / "odd_layouts.fixed").read_bytes()


def test_each_file_follows_its_own_configuration(tmp_path):
    (tmp_path / "pyproject.toml").write_text("[tool.gradlint]\n")
    (tmp_path / "legacy").mkdir()
    (tmp_path / "legacy" / "pyproject.toml").write_text('[tool.gradlint]\nunfixable = ["GL6"]\n')
    (tmp_path / "train.py").write_text(LOOP)
    (tmp_path / "legacy" / "train.py").write_text(LOOP)
    invoke_cli("check", "--no-cache", "--fix", ".", cwd=tmp_path)
    assert (tmp_path / "train.py").read_text() == FIXED_LOOP
    assert (tmp_path / "legacy" / "train.py").read_text() == LOOP


def test_fixes_do_not_read_standard_input(tmp_path):
    result = invoke_cli("check", "--fix", "-", cwd=tmp_path, input=LOOP)
    assert result.returncode == 2 and "standard input" in result.stderr
