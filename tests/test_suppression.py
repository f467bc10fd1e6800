"""`# noqa` directives: parsed once, applied to every rule, stale ones reported as GL001."""

from __future__ import annotations

import json
import textwrap

from gradlint.diagnostics import Finding, Location
from gradlint.suppression import apply_suppressions, parse_suppressions
from tests.conftest import STALE_NOQA


def _finding(code: str, line: int) -> Finding:
    return Finding(code, "some-rule", "warning", "bad", Location("m.py", line, 5))


def test_codes_prefixes_and_explanations():
    text = textwrap.dedent(
        """\
        a = 1  # noqa: GL601
        b = 2  # noqa:GL601,GL4
        c = 3  # NOQA: GL601 GL602 -- the loss applies softmax itself
        d = 4  # noqa
        s = "# noqa: GL601"
        e = 5  # noqa: GL601, E501  because reasons
        """
    )
    by_line = parse_suppressions(text).by_line
    assert by_line[1].codes == ["GL601"]
    assert by_line[2].codes == ["GL601", "GL4"]
    assert by_line[3].codes == ["GL601", "GL602"]
    assert by_line[4].codes is None
    assert 5 not in by_line  # inside a string, not a comment
    assert by_line[6].codes == ["GL601", "E501"]


def test_file_level_directives():
    assert parse_suppressions("# gradlint: noqa\nx = 1\n").file_all
    partial = parse_suppressions("x = 1\n# gradlint: noqa: GL1, GL601\n")
    assert not partial.file_all and partial.file_codes == ["GL1", "GL601"]
    assert not parse_suppressions("# gradlint: noqa is explained in the docs\n").file_all


def test_suppressed_kept_and_unused():
    text = "a\nb  # noqa: GL601\nc  # noqa: GL6, GL101\nd  # noqa\ne  # noqa: GL999, E501\n"
    findings = [_finding("GL601", 2), _finding("GL602", 3), _finding("GL401", 4), _finding("GL601", 1)]
    kept = apply_suppressions(
        findings, parse_suppressions(text), "m.py", report_unused=True,
        enabled_codes={"GL001", "GL101", "GL601", "GL602"},
    )
    assert [(f.code, f.location.line) for f in kept] == [("GL601", 1), ("GL001", 3)]
    assert "GL101 reported nothing" in kept[1].message
    # a code that could not have fired (GL999 unknown here, E501 another tool's) is not judged


def test_file_level_codes_suppress_and_cover_gl001():
    text = "# gradlint: noqa: GL6, GL001\nx  # noqa: GL101\n"
    kept = apply_suppressions(
        [_finding("GL601", 2), _finding("GL401", 2)], parse_suppressions(text), "m.py",
        report_unused=True, enabled_codes={"GL001", "GL101", "GL401", "GL601"},
    )
    assert [f.code for f in kept] == ["GL401"]




def _codes(cli, tmp_path, *args):
    result = cli("check", "--no-cache", "--format", "json", *args, cwd=tmp_path)
    assert result.returncode in (0, 1), result.stderr
    return [(f["path"], f["line"], f["code"]) for f in json.loads(result.stdout)["findings"]]


def test_end_to_end_unused_noqa_and_its_switches(cli, tmp_path):
    (tmp_path / "a.py").write_text(STALE_NOQA, encoding="utf-8")
    (tmp_path / "b.py").write_text("# gradlint: noqa\n" + STALE_NOQA, encoding="utf-8")
    (tmp_path / "c.py").write_text("# gradlint: noqa: GL001\n" + STALE_NOQA, encoding="utf-8")
    (tmp_path / "d.py").write_text(STALE_NOQA.replace("# noqa: GL0", "# noqa: E501"), encoding="utf-8")
    assert _codes(cli, tmp_path) == [("a.py", 7, "GL001")]
    assert _codes(cli, tmp_path, "--ignore", "GL001") == []
    (tmp_path / "pyproject.toml").write_text(
        '[tool.gradlint.per-file-ignores]\n"a.py" = ["GL0"]\n', encoding="utf-8"
    )
    assert _codes(cli, tmp_path) == []
