"""Jupyter notebooks end to end through the command line: found by a folder walk and when
named, their code cells checked as one module, every location given as a cell and a line of
that cell in every output format, ``noqa`` per cell line, and JSON that is no notebook an
error, never a pass. The fixture's defects and their sources are in its first cell."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from gradlint.notebooks import CellMap, mask_ipython, parse_notebook
from gradlint.reporters import FORMATS
from tests.conftest import ROOT

FIXTURE = ROOT / "tests" / "fixtures" / "notebooks" / "mnist_training.ipynb"
TEXT = [
    (
        "nb.ipynb:cell 8:9:16: GL401 CrossEntropyLoss receives softmax output (`F.softmax(x, dim=1)` at line 11 "
        "of cell 4 in Net.forward); it applies log_softmax itself, so pass the logits"
    ),
    (
        "nb.ipynb:cell 8:11:9: GL601 optimizer step in a loop that never clears gradients: `.backward()` adds to "
        "`.grad`, so every step applies the sum of all gradients so far; call `zero_grad()` once per step"
    ),
]


def _notebook(folder: Path, name: str = "nb.ipynb") -> Path:
    target = folder / name
    shutil.copyfile(FIXTURE, target)
    return target


def _edit_cell(path: Path, cell: int, old: str, new: str) -> None:
    document = json.loads(path.read_text(encoding="utf-8"))
    source = "".join(document["cells"][cell - 1]["source"])
    assert old in source
    document["cells"][cell - 1]["source"] = source.replace(old, new).splitlines(keepends=True)
    path.write_text(json.dumps(document, indent=1), encoding="utf-8")


def test_a_notebook_named_on_the_command_line_is_checked_cell_by_cell(cli, tmp_path):
    _notebook(tmp_path)
    done = cli("check", "--output-format", "concise", "--no-cache", "nb.ipynb", cwd=tmp_path)
    assert done.returncode == 1, done.stderr
    assert done.stdout.splitlines() == [*TEXT, "Found 2 findings in 1 file checked."]
    assert done.stderr == ""


def test_its_code_saved_as_a_script_gives_the_same_findings(cli, tmp_path):
    """The measured false pass: the same cells as a .py file always had these findings."""
    code = parse_notebook(FIXTURE.read_bytes()).text
    (tmp_path / "nb.py").write_text(code, encoding="utf-8")
    _notebook(tmp_path)
    as_script = json.loads(cli("check", "--no-cache", "--output-format", "json", "nb.py", cwd=tmp_path).stdout)
    as_notebook = json.loads(cli("check", "--no-cache", "--output-format", "json", "nb.ipynb", cwd=tmp_path).stdout)
    assert [f["code"] for f in as_script["findings"]] == [f["code"] for f in as_notebook["findings"]] == ["GL401", "GL601"]
    # the script's lines are the joined cells'; the notebook's are the cells' own
    assert [(f["line"], f["column"]) for f in as_script["findings"]] == [(35, 16), (37, 9)]


def test_a_folder_walk_finds_notebooks_and_skips_jupyter_checkpoints(cli, tmp_path):
    (tmp_path / "notebooks" / ".ipynb_checkpoints").mkdir(parents=True)
    _notebook(tmp_path / "notebooks")
    _notebook(tmp_path / "notebooks" / ".ipynb_checkpoints", "nb-checkpoint.ipynb")
    done = cli("check", "--output-format", "concise", "--no-cache", cwd=tmp_path)
    assert done.returncode == 1, done.stderr
    assert done.stdout.splitlines() == [f"notebooks/{line}" for line in TEXT] + ["Found 2 findings in 1 file checked."]


def test_json_gives_the_cell(cli, tmp_path):
    _notebook(tmp_path)
    document = json.loads(cli("check", "--no-cache", "--output-format", "json", "--show-models", "nb.ipynb", cwd=tmp_path).stdout)
    found = [(f["path"], f["cell"], f["line"], f["column"], f["end_line"], f["end_column"], f["code"])
             for f in document["findings"]]
    assert found == [("nb.ipynb", 8, 9, 16, 9, 41, "GL401"), ("nb.ipynb", 8, 11, 9, 11, 25, "GL601")]
    assert document["findings"][0]["extra"] == {
        "activation_line": 11, "activation_cell": 4, "activation_span": [11, 16, 11, 35],
    }
    assert [(m["class"], m["cell"], m["line"]) for m in document["models"]] == [("Net", 4, 1)]


def test_sarif_gives_the_cell_in_a_logical_location(cli, tmp_path):
    _notebook(tmp_path)
    done = cli("check", "--no-cache", "--output-format", "sarif", "nb.ipynb", cwd=tmp_path)
    results = json.loads(done.stdout)["runs"][0]["results"]
    assert [r["ruleId"] for r in results] == ["GL401", "GL601"]
    (where,) = results[1]["locations"]
    # the region is in the file as stored: the JSON line that holds the cell's line
    assert where["physicalLocation"] == {
        "artifactLocation": {"uri": "nb.ipynb", "uriBaseId": "%SRCROOT%"},
        "region": {"startLine": 109, "startColumn": 14, "endLine": 109, "endColumn": 30},
    }
    stored = FIXTURE.read_text(encoding="utf-8").splitlines()[108]
    assert stored == '    "        optimizer.step()\\n",' and stored[13:29] == "optimizer.step()"
    assert where["logicalLocations"] == [{"name": "cell 8", "fullyQualifiedName": "nb.ipynb:cell 8:11:9"}]
    assert where["properties"] == {"cell": 8, "line": 11, "column": 9, "endLine": 11, "endColumn": 25}
    assert results[1]["message"]["text"].startswith("cell 8, line 11, column 9: optimizer step in a loop")
    # fingerprints follow the cell's line, so the two findings differ
    assert len({r["partialFingerprints"]["gradlintFingerprint/v1"] for r in results}) == 2


def test_github_annotations_name_the_cell(cli, tmp_path):
    _notebook(tmp_path)
    lines = cli("check", "--no-cache", "--output-format", "github", "nb.ipynb", cwd=tmp_path).stdout.splitlines()
    assert [line.split("::")[1] for line in lines] == [
        "error file=nb.ipynb,line=107,col=21,endLine=107,endColumn=46,title=GL401",
        "error file=nb.ipynb,line=109,col=14,endLine=109,endColumn=30,title=GL601",
    ]
    assert lines[1].split("::")[2].startswith("cell 8, line 11, column 9: optimizer step")


@pytest.mark.parametrize("fmt", FORMATS)
def test_every_output_format_says_which_cell(cli, tmp_path, fmt):
    _notebook(tmp_path)
    done = cli("check", "--no-cache", "--output-format", fmt, "nb.ipynb", cwd=tmp_path)
    assert done.returncode == 1, done.stderr
    # "cell 8" in text, "cell": 8 in JSON
    assert done.stdout.count("cell 8") + done.stdout.count('"cell": 8') >= 2, done.stdout
    assert "of cell 4 in Net.forward" in done.stdout  # the softmax's own line, in GL401's message


def test_noqa_works_on_a_cell_line(cli, tmp_path):
    notebook = _notebook(tmp_path)
    _edit_cell(notebook, 8, "optimizer.step()\n", "optimizer.step()  # noqa: GL601\n")
    _edit_cell(notebook, 4, "nn.Linear(128, 10)\n", "nn.Linear(128, 10)  # noqa: GL101\n")
    done = cli("check", "--output-format", "concise", "--no-cache", "nb.ipynb", cwd=tmp_path)
    assert done.stdout.splitlines()[:2] == [
        "nb.ipynb:cell 4:5:40: GL001 unused `noqa` directive: GL101 reported nothing on this line",
        TEXT[0],
    ]
    assert "GL601" not in done.stdout


def test_a_file_noqa_in_a_cell_skips_the_notebook(cli, tmp_path):
    notebook = _notebook(tmp_path)
    _edit_cell(notebook, 2, "import torch\n", "import torch  # gradlint: noqa\n")
    done = cli("check", "--output-format", "concise", "--no-cache", "nb.ipynb", cwd=tmp_path)
    assert (done.returncode, done.stdout) == (0, "All checks passed (1 file checked).\n")


def test_a_syntax_error_is_located_in_its_cell(cli, tmp_path):
    notebook = _notebook(tmp_path)
    _edit_cell(notebook, 6, "batch_size=64, shuffle=True)", "batch_size=64, shuffle=True]")
    done = cli("check", "--output-format", "concise", "--no-cache", "nb.ipynb", cwd=tmp_path)
    assert done.returncode == 1
    message = "syntax error: closing parenthesis ']' does not match opening parenthesis '('"
    assert done.stderr.splitlines() == [f"nb.ipynb:cell 6:3:82: error: {message}"]
    errors = json.loads(cli("check", "--no-cache", "--output-format", "json", "nb.ipynb", cwd=tmp_path).stdout)["errors"]
    assert errors == [{"path": "nb.ipynb", "cell": 6, "line": 3, "column": 82, "message": message}]
    github = cli("check", "--no-cache", "--output-format", "github", "nb.ipynb", cwd=tmp_path).stdout
    stored = notebook.read_text(encoding="utf-8").splitlines()
    line = next(n for n, text in enumerate(stored, 1) if "shuffle=True]" in text)
    column = stored[line - 1].index("]") + 1
    assert github == f"::error file=nb.ipynb,line={line},col={column},title=gradlint::cell 6, line 3, column 82: {message}\n"
    sarif = json.loads(cli("check", "--no-cache", "--output-format", "sarif", "nb.ipynb", cwd=tmp_path).stdout)
    (notification,) = sarif["runs"][0]["invocations"][0]["toolExecutionNotifications"]
    assert notification["locations"][0]["physicalLocation"]["region"] == {"startLine": line, "startColumn": column}
    assert notification["message"]["text"] == f"cell 6, line 3, column 82: {message}"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('{"name": "package", "version": "1.0"}\n', "not a Jupyter notebook: JSON without 'nbformat' and 'cells'; skipped"),
        ('{"nbformat": 3, "nbformat_minor": 0, "worksheets": []}', "Jupyter notebook format 3 is not supported (nbformat 4 is); skipped"),
        ('{"cells": [\n', "not a Jupyter notebook: invalid JSON at line 2, column 1 (Expecting value); skipped"),
        ('[1, 2]', "not a Jupyter notebook: JSON without 'nbformat' and 'cells'; skipped"),
        ('{"nbformat": 4, "cells": [{"cell_type": "code", "source": 7}]}', "not a Jupyter notebook: the source of cell 1 is not text; skipped"),
        ("[" * 100_000, "not a Jupyter notebook: JSON nested too deeply; skipped"),
        ("", "empty file: not a Jupyter notebook; skipped"),
        ("\udcff", "not a Jupyter notebook: not valid UTF-8 (byte 0); skipped"),
    ],
)
def test_json_that_is_no_notebook_is_an_error_never_a_pass(cli, tmp_path, content, message):
    (tmp_path / "data.ipynb").write_bytes(content.encode("utf-8", "surrogateescape"))
    done = cli("check", "--no-cache", "data.ipynb", cwd=tmp_path)
    assert done.returncode == 1
    assert done.stderr == f"data.ipynb: error: {message}\n"
    assert "All checks passed" not in done.stdout


def test_the_cache_keys_on_the_notebook_bytes(cli, tmp_path):
    notebook = _notebook(tmp_path)
    first = cli("check", "--output-format", "concise", "nb.ipynb", cwd=tmp_path)
    assert cli("check", "--output-format", "concise", "nb.ipynb", cwd=tmp_path).stdout == first.stdout
    _edit_cell(notebook, 8, "        loss.backward()\n", "        optimizer.zero_grad()\n        loss.backward()\n")
    again = cli("check", "--output-format", "concise", "nb.ipynb", cwd=tmp_path)
    assert again.stdout.splitlines() == [TEXT[0], "Found 1 finding in 1 file checked."]


def test_workers_report_notebooks_as_one_process_does(cli, tmp_path):
    for i in range(6):
        _notebook(tmp_path, f"nb{i}.ipynb")
    serial = cli("check", "--output-format", "concise", "--no-cache", "-j", "1", cwd=tmp_path)
    parallel = cli("check", "--output-format", "concise", "--no-cache", "-j", "2", cwd=tmp_path)
    assert parallel.stdout == serial.stdout and serial.stdout.count(": GL") == 12


def test_a_notebook_of_another_language_holds_no_python(cli, tmp_path):
    document = json.loads(FIXTURE.read_text(encoding="utf-8"))
    document["metadata"] = {"kernelspec": {"name": "ir", "language": "R"}, "language_info": {"name": "R"}}
    (tmp_path / "r.ipynb").write_text(json.dumps(document), encoding="utf-8")
    assert cli("check", "--no-cache", "r.ipynb", cwd=tmp_path).returncode == 0


def _joined(*cells: str, **metadata) -> str:
    document = {"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": [
        {"cell_type": "code", "metadata": metadata, "source": c} for c in cells
    ]}
    return parse_notebook(json.dumps(document).encode()).text


def test_cells_run_by_a_cell_magic_or_an_automagic_are_left_out():
    assert _joined("%%bash\nls\n", "%%writefile x.py\nx = (\n", "pip install torch", "cd /tmp") == ""
    assert _joined("%%time\nx = 1", "%%capture out\ny = 2") == "pass\nx = 1\npass\ny = 2\n"
    assert _joined("cd = 3") == "cd = 3\n"  # an assignment, not the automagic
    assert _joined("x = 1", vscode={"languageId": "sql"}) == ""


def test_magics_are_masked_line_for_line():
    lines = [
        "%load_ext autoreload",
        "files = !ls",
        "a, b = %sx echo 1 2",
        "model?",
        "for i in range(3):",
        "    !echo {i}",
        "x = (1",
        "     % 2)",  # a continued expression, not a magic
        'doc = """',
        "%d items",  # inside a string
        '"""',
        "y = 1 + \\",
        "    2",
        "%pip install a \\",
        "    b",
        "print('why?')",
    ]
    assert mask_ipython(lines) == [
        "pass", "files = None", "a, b = None", "pass", "for i in range(3):", "    pass", "x = (1", "     % 2)",
        'doc = """', "%d items", '"""', "y = 1 + \\", "    2", "pass", "", "print('why?')",
    ]


def test_cell_map_turns_joined_lines_into_cell_lines():
    cells = CellMap(((1, 2), (4, 5)))
    assert [cells.where(n) for n in (1, 3, 4, 9)] == [(2, 1), (2, 3), (5, 1), (5, 6)]
    assert cells.message("at line 5 in f; line 7 of model.py") == "at line 2 of cell 5 in f; line 7 of model.py"


def test_masking_leaves_plain_python_alone():
    """No line of valid Python is IPython syntax: the corpora and fixtures come through unchanged."""
    from gradlint.reading import python_lines

    files = sorted((ROOT / "tests").rglob("*.py")) + sorted((ROOT / "gradlint").rglob("*.py"))
    assert len(files) > 200
    for path in files:
        lines = python_lines(path.read_text(encoding="utf-8"))
        assert mask_ipython(lines) == lines, path


def test_a_pipe_or_an_oversized_notebook_is_reported_and_skipped(cli, tmp_path):
    import os

    os.mkfifo(tmp_path / "pipe.ipynb")
    _notebook(tmp_path)
    (tmp_path / "pyproject.toml").write_text("[tool.gradlint]\nmax-file-size = 1000\n", encoding="utf-8")
    done = cli("check", "--no-cache", "pipe.ipynb", "nb.ipynb", cwd=tmp_path)
    assert done.returncode == 1 and "All checks passed" not in done.stdout
    assert done.stderr.splitlines() == [
        "nb.ipynb: error: the notebook's code is 0.0 MB, over the 0.0 MB limit (max-file-size); skipped",
        "pipe.ipynb: error: not a regular file (a named pipe); skipped",
    ]


def test_a_notebook_handed_in_as_text_is_read_as_a_notebook(tmp_path):
    """What a check of standard input or of an editor's buffer hands the pipeline."""
    from gradlint.check_file import check_python
    from gradlint.config import Config
    from gradlint.engine import Checker

    result = check_python(tmp_path / "nb.ipynb", "nb.ipynb", Checker(Config(root=tmp_path)),
                          text=FIXTURE.read_text(encoding="utf-8"))
    assert [(f.location.cell, f.location.line, f.code) for f in result.findings] == [(8, 9, "GL401"), (8, 11, "GL601")]
    broken = check_python(tmp_path / "nb.ipynb", "nb.ipynb", Checker(Config(root=tmp_path)), text="{}")
    assert [e.message for e in broken.errors] == ["not a Jupyter notebook: JSON without 'nbformat' and 'cells'; skipped"]


def test_a_notebook_stored_otherwise_is_reported_on_the_file_in_sarif_and_github(cli, tmp_path):
    """One string per cell, and non-ASCII escaped: the stored lines are found where they exist."""
    document = json.loads(FIXTURE.read_text(encoding="utf-8"))
    for cell in document["cells"]:
        cell["source"] = "".join(cell["source"])
    (tmp_path / "joined.ipynb").write_text(json.dumps(document, indent=1), encoding="utf-8")
    document = json.loads(FIXTURE.read_text(encoding="utf-8"))
    document["cells"][7]["source"][10] = "        optimizer.step()  # étape\n"
    document["cells"][7]["source"][8] = "        loss = criterion(output, labels) if 'é' else 0\n"
    (tmp_path / "escaped.ipynb").write_text(json.dumps(document, indent=1, ensure_ascii=True), encoding="utf-8")
    sarif = json.loads(cli("check", "--no-cache", "--output-format", "sarif", "joined.ipynb", "escaped.ipynb", cwd=tmp_path).stdout)
    regions = [(r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"], r["locations"][0]["physicalLocation"]["region"])
               for r in sarif["runs"][0]["results"]]
    assert regions == [
        ("escaped.ipynb", {"startLine": 107, "startColumn": 21, "endLine": 107, "endColumn": 46}),
        ("escaped.ipynb", {"startLine": 109, "startColumn": 14, "endLine": 109, "endColumn": 30}),
        ("joined.ipynb", {"startLine": 1, "startColumn": 1}),
        ("joined.ipynb", {"startLine": 1, "startColumn": 1}),
    ]
    github = cli("check", "--no-cache", "--output-format", "github", "joined.ipynb", cwd=tmp_path).stdout
    assert github.startswith("::error file=joined.ipynb,title=GL401::cell 8, line 9, column 16: ")


def test_a_column_after_escaped_text_is_found_in_the_stored_line(tmp_path):
    from gradlint.notebook_json import JsonPositions

    document = {"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": [
        {"cell_type": "markdown", "metadata": {}, "source": ["# x\n"]},
        {"cell_type": "code", "metadata": {}, "source": ["\u00e9\t\"\\ t = 1\n", "u = 2"]},
    ]}
    (tmp_path / "a.ipynb").write_text(json.dumps(document, indent=1, ensure_ascii=True), encoding="utf-8")
    stored = (tmp_path / "a.ipynb").read_text(encoding="utf-8").splitlines()
    line, column = JsonPositions().position(str(tmp_path / "a.ipynb"), 2, 1, 6)
    assert stored[line - 1][column - 1:column + 4] == "t = 1"
    assert JsonPositions().position(str(tmp_path / "a.ipynb"), 2, 2, 1)[0] == line + 1
    assert JsonPositions().position(str(tmp_path / "a.ipynb"), 2, 3, 1) is None


def test_the_pre_commit_hook_takes_notebooks():
    hook = (ROOT / ".pre-commit-hooks.yaml").read_text(encoding="utf-8")
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "\n  types_or: [python, pyi, jupyter]\n" in hook
    assert "\n        types_or: [python, pyi, jupyter]\n" in readme


def test_the_planner_s_filters_change_nothing_in_a_notebook(cli, tmp_path):
    _notebook(tmp_path)
    filtered = cli("check", "--no-cache", "--show-models", "nb.ipynb", cwd=tmp_path)
    whole = cli("check", "--no-cache", "--show-models", "--no-filters", "nb.ipynb", cwd=tmp_path)
    assert filtered.stdout == whole.stdout
    assert "\nnb.ipynb:cell 4:1: model Net: depth 2, " in filtered.stdout


def test_the_full_output_frames_the_cell_s_own_lines(cli, tmp_path):
    _notebook(tmp_path)
    done = cli("check", "--no-cache", "--output-format", "full", "nb.ipynb", cwd=tmp_path)
    lines = done.stdout.splitlines()
    at = lines.index("  --> nb.ipynb:cell 8:11:9")
    assert lines[at + 1:at + 8] == [
        "   |",
        " 9 |         loss = criterion(output, labels)",
        "10 |         loss.backward()",
        "11 |         optimizer.step()",
        "   |         ^^^^^^^^^^^^^^^^",
        "12 |         running_loss += loss.item()",
        '13 |     print(f"epoch {epoch}: {running_loss / len(train_loader):.3f}")',
    ]


def test_sarif_of_notebooks_is_valid_sarif(cli, tmp_path):
    jsonschema = pytest.importorskip("jsonschema")
    schema = json.loads((ROOT / "tests" / "data" / "sarif-schema-2.1.0.json").read_text(encoding="utf-8"))
    _notebook(tmp_path)
    broken = _notebook(tmp_path, "broken.ipynb")
    _edit_cell(broken, 6, "batch_size=64, shuffle=True)", "batch_size=64, shuffle=True]")
    (tmp_path / "data.ipynb").write_text("{}", encoding="utf-8")
    document = json.loads(cli("check", "--no-cache", "--output-format", "sarif", cwd=tmp_path).stdout)
    assert len(document["runs"][0]["results"]) == 2
    assert len(document["runs"][0]["invocations"][0]["toolExecutionNotifications"]) == 2
    assert list(jsonschema.Draft4Validator(schema).iter_errors(document)) == []


def _random_json(rng, depth: int = 0):
    kind = rng.randrange(8 if depth < 3 else 5)
    if kind == 0:
        return None
    if kind == 1:
        return rng.choice([True, False, 0, 4, -1, 2.5])
    if kind in (2, 3):
        return "".join(rng.choice("ab %!\n#\"(") for _ in range(rng.randrange(12)))
    if kind == 4:
        return rng.choice(["code", "markdown", "raw", "python", "R"])
    if kind == 5:
        return [_random_json(rng, depth + 1) for _ in range(rng.randrange(4))]
    keys = ["cells", "cell_type", "source", "metadata", "nbformat", "vscode", "languageId", "language_info", "name"]
    return {rng.choice(keys): _random_json(rng, depth + 1) for _ in range(rng.randrange(5))}


def _random_notebook(rng):
    cells = [{"cell_type": rng.choice(["code", "markdown", _random_json(rng)]),
              "source": rng.choice([_random_json(rng), ["x = 1\n", "%time y\n"], "!ls\nz = (1,\n 2)"]),
              "metadata": rng.choice([{}, _random_json(rng)])}
             for _ in range(rng.randrange(4))]
    return {"nbformat": rng.choice([4, 4, 3, "4", None]), "cells": rng.choice([cells, cells, _random_json(rng)]),
            "metadata": rng.choice([{}, _random_json(rng)])}


def test_any_json_is_a_notebook_or_a_one_line_error():
    import random

    rng = random.Random(7)
    outcomes = set()
    for _ in range(2000):
        document = _random_notebook(rng) if rng.random() < 0.7 else _random_json(rng)
        try:
            joined = parse_notebook(json.dumps(document).encode())
        except ValueError as exc:
            assert "\n" not in str(exc) and str(exc).endswith("; skipped"), document
            outcomes.add("error")
            continue
        outcomes.add("code" if joined.text else "empty")
        assert joined.text == "" or joined.text.endswith("\n")
        for first, _ in joined.cells.starts:
            assert 0 < first <= joined.text.count("\n")
    assert outcomes == {"error", "code", "empty"}


def test_masking_keeps_every_line_where_it_was():
    import random

    rng = random.Random(11)
    for _ in range(2000):
        lines = ["".join(rng.choice("%!?#'\"\\([{}]) =ax\t") for _ in range(rng.randrange(12)))
                 for _ in range(rng.randrange(12))]
        assert len(mask_ipython(lines)) == len(lines), lines


def test_a_notebook_on_standard_input_is_read_as_a_notebook(cli, tmp_path):
    done = cli("check", "--stdin-filename", "nb.ipynb", "-", cwd=tmp_path,
               input=FIXTURE.read_text(encoding="utf-8"))
    assert done.returncode == 1, done.stderr
    assert "--> nb.ipynb:cell 8:9:16" in done.stdout and "--> nb.ipynb:cell 8:11:9" in done.stdout
