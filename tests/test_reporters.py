"""Each output format, rendered from plain data and as the command line writes it."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from gradlint.diagnostics import FileError, Finding, Location, ModelRecord, RunResult
from gradlint.reporters import ReportContext, render
from gradlint.reporters.style import use_color


def _result(root: Path) -> RunResult:
    (root / "pkg").mkdir(exist_ok=True)
    (root / "pkg" / "train.py").write_text("import torch\n\n\nloss.backward()  # x\n", encoding="utf-8")
    return RunResult(
        findings=[
            Finding("GL001", "unused-noqa", "warning", "50% of it, a: b, c\nnext",
                    Location("pkg/train.py", 4, 18, 4, 29)),
            Finding("GL001", "unused-noqa", "warning", "in a graph",
                    Location("model.onnx", node="Sigmoid_3", op_type="Sigmoid", node_index=3)),
        ],
        errors=[FileError("pkg/broken.py", "syntax error: invalid syntax", 1, 7), FileError("pkg/gone.py", "no such file")],
        models=[ModelRecord("pkg/net.py", 5, "Net", 9, -4.25)],
        files_checked=3,
    )


def test_concise(tmp_path):
    text = render("concise", _result(tmp_path), ReportContext(root=tmp_path, show_models=True))
    lines = text.splitlines()
    assert lines[0] == "pkg/train.py:4:18: GL001 50% of it, a: b, c"
    assert "model.onnx:Sigmoid_3: GL001 in a graph" in lines
    assert "pkg/net.py:5: model Net: depth 9, log10 gradient ratio -4.2 (first weight / last weight: 6e-05)" in lines
    assert lines[-1] == "Found 2 findings in 3 files checked; 2 files could not be checked."
    assert render("concise", RunResult(files_checked=1), ReportContext(root=tmp_path)) == (
        "All checks passed (1 file checked).\n"
    )


FULL = """\
GL001 50% of it, a: b, c
next
 --> pkg/train.py:4:18
  |
1 | import torch
  |
4 | loss.backward()  # x
  |                  ^^^
  |
help: `gradlint rule GL001` explains it: https://github.com/gradlint/gradlint/blob/main/rules/GL001.md

GL001 in a graph
 --> model.onnx:Sigmoid_3
help: `gradlint rule GL001` explains it: https://github.com/gradlint/gradlint/blob/main/rules/GL001.md

pkg/net.py:5: model Net: depth 9, log10 gradient ratio -4.2 (first weight / last weight: 6e-05)
Found 2 findings in 3 files checked; 2 files could not be checked.
"""


def test_full_shows_the_lines_under_each_finding(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    text = render("full", _result(tmp_path), ReportContext(show_models=True))
    # the blank lines 2 and 3 lead the frame of line 4: trimmed, as ruff trims them
    assert text == FULL.replace("1 | import torch\n  |\n", "")
    assert render("text", _result(tmp_path), ReportContext(show_models=True)) == text
    quiet = render("full", _result(tmp_path), ReportContext(quiet=True))
    assert quiet == text.split("\n\npkg/net.py")[0] + "\n"


def test_full_frames_tabs_wide_characters_and_context(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "m.py").write_text("a = 1\nb = 2\n\tx = '日本'; y\nc = 3\nd = 4\ne = 5\n", encoding="utf-8")
    found = Finding("GL001", "unused-noqa", "error", "m", Location("m.py", 3, 12, 3, 13))
    text = render("full", RunResult(findings=[found], files_checked=1), ReportContext(quiet=True))
    assert text.splitlines()[1:9] == [
        " --> m.py:3:12",
        "  |",
        "1 | a = 1",
        "2 | b = 2",
        "3 |     x = '日本'; y",
        "  |                 ^",
        "4 | c = 3",
        "5 | d = 4",
    ]


def test_colour_only_when_asked(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for fmt in ("full", "concise"):
        plain = render(fmt, _result(tmp_path), ReportContext())
        coloured = render(fmt, _result(tmp_path), ReportContext(color=True))
        assert "\x1b[" not in plain and "\x1b[1;33mGL001\x1b[0m" in coloured
        assert re.sub(r"\x1b\[[0-9;]*m", "", coloured) == plain


@pytest.mark.parametrize(
    "choice, tty, env, expected",
    [
        ("always", False, {"NO_COLOR": "1"}, True),
        ("never", True, {"FORCE_COLOR": "1"}, False),
        ("auto", True, {}, True),
        ("auto", False, {}, False),
        ("auto", True, {"NO_COLOR": "1"}, False),
        ("auto", True, {"CLICOLOR": "0"}, False),
        ("auto", False, {"FORCE_COLOR": "1", "NO_COLOR": "1"}, True),
        ("auto", False, {"FORCE_COLOR": ""}, False),
        ("auto", False, {"CLICOLOR_FORCE": "1"}, True),
        ("auto", False, {"CLICOLOR_FORCE": "0"}, False),
    ],
)
def test_colour_follows_the_environment_as_ruff_does(choice, tty, env, expected):
    assert use_color(choice, tty, env) is expected


def test_statistics_count_each_code(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = _result(tmp_path)
    result.findings.append(Finding("GL101", "saturating-activation-chain", "warning", "m", Location("a.py", 1, 1)))
    text = render("full", result, ReportContext(statistics=True))
    assert text == (
        "2\tGL001\tunused-noqa\n"
        "1\tGL101\tsaturating-activation-chain\n"
        "Found 3 findings in 3 files checked; 2 files could not be checked.\n"
    )
    assert json.loads(render("json", result, ReportContext(statistics=True))) == [
        {"code": "GL001", "name": "unused-noqa", "count": 2, "fixable": False},
        {"code": "GL101", "name": "saturating-activation-chain", "count": 1, "fixable": False},
    ]


def test_json_shape(tmp_path):
    document = json.loads(render("json", _result(tmp_path), ReportContext(root=tmp_path)))
    assert set(document) == {"version", "findings", "errors", "models"}
    first = document["findings"][0]
    for key in ("path", "line", "column", "end_line", "end_column", "code", "name", "severity", "message"):
        assert key in first
    assert (first["line"], first["column"], first["end_column"]) == (4, 18, 29)
    assert document["findings"][1]["node"] == {"name": "Sigmoid_3", "op_type": "Sigmoid", "index": 3}
    assert first["url"] == "https://github.com/gradlint/gradlint/blob/main/rules/GL001.md"
    assert document["errors"] == [
        {"path": "pkg/broken.py", "line": 1, "column": 7, "message": "syntax error: invalid syntax"},
        {"path": "pkg/gone.py", "line": None, "column": None, "message": "no such file"},
    ]
    assert document["models"][0]["log10_grad_ratio"] == -4.25


def test_github_annotations_escape_what_the_runner_parses(tmp_path):
    lines = render("github", _result(tmp_path), ReportContext(root=tmp_path)).splitlines()
    assert lines[0] == "::warning file=pkg/train.py,line=4,col=18,endLine=4,endColumn=29,title=GL001::50%25 of it, a: b, c%0Anext"
    assert lines[1].startswith("::warning file=model.onnx,title=GL001::Sigmoid_3 (Sigmoid): in a graph")
    assert lines[2] == "::error file=pkg/broken.py,line=1,col=7,title=gradlint::syntax error: invalid syntax"
    assert lines[3] == "::error file=pkg/gone.py,title=gradlint::no such file"


def test_sarif_has_what_github_code_scanning_requires(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    document = json.loads(render("sarif", _result(tmp_path), ReportContext(root=tmp_path)))
    assert document["version"] == "2.1.0" and document["$schema"].endswith("sarif-2.1.0.json")
    (run,) = document["runs"]
    driver = run["tool"]["driver"]
    assert driver["name"] == "gradlint" and driver["version"]
    rules = {rule["id"]: rule for rule in driver["rules"]}
    gl001 = rules["GL001"]
    assert gl001["name"] == "unused-noqa"
    assert gl001["shortDescription"]["text"]
    assert gl001["fullDescription"]["text"].startswith("Reports a `# noqa: GLxxx` comment")  # rules/GL001.md
    assert gl001["help"]["text"].startswith("# GL001: unused-noqa") and gl001["help"]["markdown"]
    assert gl001["defaultConfiguration"]["level"] == "warning"
    assert gl001["helpUri"] == "https://github.com/gradlint/gradlint/blob/main/rules/GL001.md"
    first, graph = run["results"]
    for result in run["results"]:
        assert driver["rules"][result["ruleIndex"]]["id"] == result["ruleId"]
        assert result["level"] in ("error", "warning", "note", "none")
        assert result["message"]["text"]
        (location,) = result["locations"]
        physical = location["physicalLocation"]
        assert physical["artifactLocation"]["uri"] and physical["region"]["startLine"] >= 1
        assert result["partialFingerprints"]
    region = first["locations"][0]["physicalLocation"]["region"]
    assert first["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "pkg/train.py"
    assert (region["startLine"], region["startColumn"], region["endColumn"]) == (4, 18, 29)
    assert graph["locations"][0]["logicalLocations"][0]["name"] == "Sigmoid_3"
    # the fingerprint follows the line's text, not its number
    moved = _result(tmp_path)
    (tmp_path / "pkg" / "train.py").write_text("import torch\n\n\n\n\nloss.backward()  # x\n", encoding="utf-8")
    moved.findings[0] = Finding("GL001", "unused-noqa", "warning", "m", Location("pkg/train.py", 6, 18))
    again = json.loads(render("sarif", moved, ReportContext(root=tmp_path)))["runs"][0]["results"][0]
    assert again["partialFingerprints"] == first["partialFingerprints"]
    notification = run["invocations"][0]["toolExecutionNotifications"][0]
    assert notification["message"]["text"].startswith("syntax error")
    assert notification["locations"][0]["physicalLocation"]["region"] == {"startLine": 1, "startColumn": 7}


def test_full_draws_a_span_over_several_lines_as_ruff_does(tmp_path, monkeypatch):
    """The frames ruff 0.17 prints for C408 on the same two files, character for character."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "mid.py").write_text("y = 1\nx = dict(\n    a=1, b=2)\nz = 2\n", encoding="utf-8")
    (tmp_path / "top.py").write_text("z = 2\ndef f():\n    return 1\n", encoding="utf-8")
    findings = [
        Finding("GL001", "unused-noqa", "warning", "m", Location("mid.py", 2, 5, 3, 14)),
        Finding("GL001", "unused-noqa", "warning", "m", Location("top.py", 2, 1, 3, 13)),
    ]
    frames = render("full", RunResult(findings=findings), ReportContext(quiet=True)).split("\n\n")
    assert frames[0].splitlines()[2:10] == [
        "  |",
        "1 |   y = 1",
        "2 |   x = dict(",
        "  |  _____^",
        "3 | |     a=1, b=2)",
        "  | |_____________^",
        "4 |   z = 2",
        "  |",
    ]
    assert frames[1].splitlines()[2:8] == [
        "  |",
        "1 |   z = 2",
        "2 | / def f():",
        "3 | |     return 1",
        "  | |____________^",
        "  |",
    ]
