"""The command line as a user meets it: exit codes, one-line errors, selection, outputs."""

from __future__ import annotations

import json
import textwrap

from gradlint import __version__
from tests.conftest import STALE_NOQA


def _project(tmp_path, files: dict[str, str], pyproject: str | None = None):
    for name, text in files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    if pyproject is not None:
        (tmp_path / "pyproject.toml").write_text(textwrap.dedent(pyproject), encoding="utf-8")
    return tmp_path


def test_version_and_help(cli):
    result = cli("--version")
    assert result.returncode == 0 and __version__ in result.stdout
    result = cli("check", "--help")
    assert result.returncode == 0 and "--select" in result.stdout and "--no-cache" in result.stdout


def test_clean_tree_exits_zero(cli, tmp_path):
    _project(tmp_path, {"model.py": STALE_NOQA.replace("  # noqa: GL0", "")})
    result = cli("check", "--no-cache", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "All checks passed (1 file checked)." in result.stdout


def test_finding_exits_one_with_position(cli, tmp_path):
    _project(tmp_path, {"pkg/model.py": STALE_NOQA})
    result = cli("check", "--no-cache", "pkg", cwd=tmp_path)
    assert result.returncode == 1
    assert result.stdout.startswith("GL001 unused `noqa` directive: GL0 reported nothing on this line\n --> pkg/model.py:7:38\n")


def test_exit_zero_keeps_the_report(cli, tmp_path):
    _project(tmp_path, {"model.py": STALE_NOQA})
    result = cli("check", "--no-cache", "--exit-zero", "model.py", cwd=tmp_path)
    assert result.returncode == 0 and "GL001" in result.stdout


def test_unknown_code_is_a_usage_error(cli, tmp_path):
    _project(tmp_path, {"model.py": STALE_NOQA})
    for args in (("--select", "GL999"), ("--ignore", "XY1"), ("--extend-select", "GL0,GL9")):
        result = cli("check", *args, "model.py", cwd=tmp_path)
        assert result.returncode == 2, args
        assert result.stderr.count("\n") == 1 and "unknown rule code or prefix" in result.stderr
        assert "Traceback" not in result.stderr


def test_unknown_option_and_bad_format_exit_two(cli, tmp_path):
    result = cli("check", "--frobnicate", cwd=tmp_path)
    assert result.returncode == 2 and "No such option" in result.stderr
    result = cli("check", "--format", "xml", cwd=tmp_path)
    assert result.returncode == 2 and "Traceback" not in result.stderr


def test_bad_config_exits_two_with_one_line(cli, tmp_path):
    cases = [
        "[tool.gradlint]\nselect = [",  # not TOML
        "[tool.gradlint]\nfrobnicate = 1\n",
        "[tool.gradlint]\nselect = ['GL999']\n",
        "[tool.gradlint]\nselect = 'GL0'\nignore = 3\n",
        "[tool.gradlint]\njobs = 'many'\n",
        "[tool.gradlint.options.GL001]\nstrict = true\n",
        "[tool.gradlint.options.GL777]\nx = 1\n",
    ]
    _project(tmp_path, {"model.py": STALE_NOQA})
    for text in cases:
        (tmp_path / "pyproject.toml").write_text(text, encoding="utf-8")
        result = cli("check", "--no-cache", "model.py", cwd=tmp_path)
        assert result.returncode == 2, (text, result.stdout, result.stderr)
        assert result.stderr.startswith("gradlint: error: ") and result.stderr.count("\n") == 1, result.stderr


def test_missing_path_is_an_error_line_and_the_run_goes_on(cli, tmp_path):
    _project(tmp_path, {"model.py": STALE_NOQA})
    result = cli("check", "--no-cache", "--format", "json", "nope.py", "model.py", cwd=tmp_path)
    assert result.returncode == 1
    report = json.loads(result.stdout)
    assert report["errors"] == [{"path": "nope.py", "line": None, "column": None, "message": "no such file or directory"}]
    assert [f["code"] for f in report["findings"]] == ["GL001"]
    assert result.stderr == "nope.py: error: no such file or directory\n"


def test_default_path_walks_the_tree_and_skips_tool_folders(cli, tmp_path):
    files = {
        "src/model.py": STALE_NOQA,
        ".git/hooks/x.py": STALE_NOQA,
        ".venv/lib/site.py": STALE_NOQA,
        "myenv/pyvenv.cfg": "home = /usr\n",
        "myenv/lib/a.py": STALE_NOQA,
        "build/lib/model.py": STALE_NOQA,
        "notes.txt": "# noqa: GL0\n",
    }
    _project(tmp_path, files)
    result = cli("check", "--no-cache", "--format", "json", cwd=tmp_path)
    assert result.returncode == 1
    assert [f["path"] for f in json.loads(result.stdout)["findings"]] == ["src/model.py"]


def test_exclude_globs_and_force_exclude(cli, tmp_path):
    config = """
        [tool.gradlint]
        exclude = ["legacy/", "*_generated.py"]
    """
    files = {"legacy/old.py": STALE_NOQA, "ok_generated.py": STALE_NOQA, "model.py": STALE_NOQA}
    _project(tmp_path, files, config)
    result = cli("check", "--no-cache", "--format", "json", cwd=tmp_path)
    assert [f["path"] for f in json.loads(result.stdout)["findings"]] == ["model.py"]
    # named on the command line, an excluded file is checked unless --force-exclude (pre-commit)
    result = cli("check", "--no-cache", "--format", "json", "legacy/old.py", cwd=tmp_path)
    assert [f["path"] for f in json.loads(result.stdout)["findings"]] == ["legacy/old.py"]
    result = cli("check", "--no-cache", "--force-exclude", "legacy/old.py", "ok_generated.py", cwd=tmp_path)
    assert result.returncode == 0 and "0 files checked" in result.stdout


def test_output_file(cli, tmp_path):
    _project(tmp_path, {"model.py": STALE_NOQA})
    result = cli("check", "--no-cache", "--format", "json", "-o", "report.json", "model.py", cwd=tmp_path)
    assert result.returncode == 1 and result.stdout == ""
    assert json.loads((tmp_path / "report.json").read_text())["findings"][0]["code"] == "GL001"
    result = cli("check", "--no-cache", "-o", "missing/dir/report.txt", "model.py", cwd=tmp_path)
    assert result.returncode == 2 and result.stderr.startswith("gradlint: error: cannot write")


def test_jobs_do_not_change_the_report(cli, tmp_path):
    files = {f"pkg/m{i:02d}.py": STALE_NOQA for i in range(24)}
    files["pkg/broken.py"] = "def f(:\n"
    _project(tmp_path, files)
    serial = cli("check", "--no-cache", "-j", "1", "--format", "json", cwd=tmp_path)
    parallel = cli("check", "--no-cache", "-j", "3", "--format", "json", cwd=tmp_path)
    assert serial.returncode == parallel.returncode == 1
    assert serial.stdout == parallel.stdout
    report = json.loads(parallel.stdout)
    assert len(report["findings"]) == 24 and report["errors"][0]["path"] == "pkg/broken.py"


def test_rule_command(cli):
    listing = cli("rule", "--all")
    assert listing.returncode == 0 and listing.stdout.startswith("GL001  unused-noqa")
    page = cli("rule", "gl001")
    assert page.returncode == 0 and page.stdout.startswith("# GL001: unused-noqa")
    assert cli("rule", "unused-noqa").stdout == page.stdout
    unknown = cli("rule", "GL999")
    assert unknown.returncode == 2 and unknown.stderr.count("\n") == 1



def _modules_imported(tmp_path, *args: str) -> set[str]:
    import os
    import subprocess
    import sys

    from tests.conftest import ROOT

    env = dict(os.environ, PYTHONPATH=str(ROOT))
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "gradlint", *args],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300, check=False,
    )
    return {line.split("|")[-1].strip() for line in result.stderr.splitlines() if line.startswith("import time:")}


def test_the_static_path_imports_no_heavy_machinery(tmp_path):
    _project(tmp_path, {"model.py": STALE_NOQA, "util.py": "def add(a, b):\n    return a + b\n"})
    cold = _modules_imported(tmp_path, "check", "model.py")
    assert "libcst" in cold
    assert not {m for m in cold if m.split(".")[0] in ("torch", "numpy", "onnx", "matplotlib")}
    # served from the cache, a file costs neither the parser nor the rules
    warm = _modules_imported(tmp_path, "check", "model.py")
    assert "libcst" not in warm and "gradlint.checks" not in warm
    # a file that mentions nothing a rule looks at skips the parser
    assert "libcst" not in _modules_imported(tmp_path, "check", "--no-cache", "util.py")
