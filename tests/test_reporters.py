"""Each output format, rendered from plain data and as the command line writes it."""

from __future__ import annotations

import json
from pathlib import Path

from gradlint.diagnostics import FileError, Finding, Location, ModelRecord, RunResult
from gradlint.reporters import ReportContext, render


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
        errors=[FileError("pkg/broken.py", "syntax error: 1:7: invalid syntax")],
        models=[ModelRecord("pkg/net.py", 5, "Net", 9, -4.25)],
        files_checked=3,
    )


def test_text(tmp_path):
    text = render("text", _result(tmp_path), ReportContext(root=tmp_path, show_models=True))
    lines = text.splitlines()
    assert lines[0] == "pkg/train.py:4:18: GL001 50% of it, a: b, c"
    assert "model.onnx:Sigmoid_3: GL001 in a graph" in lines
    assert "pkg/net.py:5: model Net: depth 9, log10 gradient ratio -4.2 (first weight / last weight: 6e-05)" in lines
    assert lines[-1] == "Found 2 findings in 3 files checked; 1 file could not be checked."
    assert render("text", RunResult(files_checked=1), ReportContext(root=tmp_path)) == (
        "All checks passed (1 file checked).\n"
    )


def test_json_shape(tmp_path):
    document = json.loads(render("json", _result(tmp_path), ReportContext(root=tmp_path)))
    assert set(document) == {"version", "findings", "errors", "models"}
    first = document["findings"][0]
    for key in ("path", "line", "column", "end_line", "end_column", "code", "name", "severity", "message"):
        assert key in first
    assert (first["line"], first["column"], first["end_column"]) == (4, 18, 29)
    assert document["findings"][1]["node"] == {"name": "Sigmoid_3", "op_type": "Sigmoid", "index": 3}
    assert document["errors"] == [{"path": "pkg/broken.py", "message": "syntax error: 1:7: invalid syntax"}]
    assert document["models"][0]["log10_grad_ratio"] == -4.25


def test_github_annotations_escape_what_the_runner_parses(tmp_path):
    lines = render("github", _result(tmp_path), ReportContext(root=tmp_path)).splitlines()
    assert lines[0] == "::warning file=pkg/train.py,line=4,col=18,endLine=4,title=GL001::50%25 of it, a: b, c%0Anext"
    assert lines[1].startswith("::warning file=model.onnx,title=GL001::Sigmoid_3 (Sigmoid): in a graph")
    assert lines[2] == "::error file=pkg/broken.py,title=gradlint::syntax error: 1:7: invalid syntax"


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


def test_sarif_from_the_command_line_is_relative_to_the_project_root(cli, tmp_path):
    (tmp_path / "pyproject.toml").write_text("[tool.gradlint]\n", encoding="utf-8")
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "m.py").write_text("import torch\nx = 1  # noqa: GL0\n", encoding="utf-8")
    result = cli("check", "--no-cache", "--format", "sarif", "m.py", cwd=tmp_path / "src")
    assert result.returncode == 1, result.stderr
    (hit,) = json.loads(result.stdout)["runs"][0]["results"]
    assert hit["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "src/m.py"
