"""GL4xx: the activation a model's output ends in, against the loss that receives it.

Each case is a file, or a folder checked as one project, under
tests/fixtures/code_rules/loss/: its ``# expect: GL4xx`` comments are exactly what the
GL4 rules report on it; a finding lost or one more fails the case.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from code_rules_helpers import case, cases, expected, file_findings, line_of, reported

from gradlint.config import Config
from gradlint.engine import Checker, check_python


@pytest.mark.parametrize("path", cases("loss"))
def test_findings_are_exactly_the_inline_expectations(path, monkeypatch):
    assert reported(path, "GL4", monkeypatch) == expected(path)


def test_the_message_quotes_the_activation_and_its_line():
    path = case("loss", "softmax_module_to_criterion_parameter.py")
    (found,) = file_findings(path, "GL4")
    assert "self.softmax(h)" in found.message
    assert f"line {line_of(path, 'return self.softmax(h)')}" in found.message


def test_the_bce_note_is_opt_in_and_informational():
    path = case("loss", "sigmoid_into_bce_loss.py")
    assert {(f.location.line, f.code) for f in file_findings(path, "GL4")} == expected_lines(path)
    default = check_python(path, str(path), Checker.from_config(Config()))
    assert [f.code for f in default.findings] == []  # the default rules leave it out
    assert "GL404" in {f.code for f in file_findings(path, "ALL")}  # ALL is every rule
    assert file_findings(path, "GL404")[0].severity == "info"


def expected_lines(path) -> set[tuple[int, str]]:
    return {(line, code) for _, line, code in expected(path)}


def test_a_model_imported_from_another_file_is_named_with_its_file(cli, tmp_path):
    """From the command line, as a user runs it on a package."""
    project = tmp_path / "proj"
    shutil.copytree(case("loss", "imported_model_in_package"), project)
    done = cli("check", "--select", "GL4", "--format", "json", "pkg", cwd=project)
    data = json.loads(done.stdout)
    assert [(f["path"], f["line"], f["code"]) for f in data["findings"]] == sorted(expected(project))
    forward = line_of(project / "pkg" / "models.py", "return F.softmax")
    assert f"line {forward} of pkg/models.py in Net.forward" in data["findings"][0]["message"]


def test_an_imported_class_is_parsed_only_from_a_file_that_defines_a_forward(tmp_path, monkeypatch):
    """A model of another file is a class with a forward of its own: a file of output
    records or configurations (transformers' modeling_outputs.py) is never parsed to learn
    that its class is none, while the model file still is."""
    from gradlint.source import SourceFile

    folder = tmp_path / "project"  # a copy: this process keeps recent parses of a path
    shutil.copytree(case("loss", "imported_class_beside_the_script"), folder)
    parsed = []
    real_parse = SourceFile.parse.__func__

    def spy(cls, path, text, tree=None):
        parsed.append(Path(path).name)
        return real_parse(cls, path, text, tree)

    monkeypatch.setattr(SourceFile, "parse", classmethod(spy))
    script = folder / "train.py"
    assert {(f.location.line, f.code) for f in file_findings(script, "GL4")} == {
        (line, code) for name, line, code in expected(folder) if name == "train.py"
    } == {(line_of(script, "return nn.CrossEntropyLoss()"), "GL401")}
    assert [name for name in parsed if name != "train.py"] == ["models.py"]


def test_functions_that_name_no_loss_are_not_analysed_but_every_path_to_a_loss_is(tmp_path, monkeypatch):
    """Only functions whose text may reach a loss are followed: one naming a loss through
    an alias, a global holding one, a helper of the file that calls one, or a class that
    holds one. The rest (most methods of a large model file) would record nothing."""
    from gradlint.codefacts import output_activations

    # a copy: this process keeps its recent analysis of a path, and the spy must see one
    path = tmp_path / "losses.py"
    shutil.copyfile(case("loss", "losses_reached_through_aliases_globals_and_helpers.py"), path)
    ran: list[str] = []
    real = output_activations.FileAnalysis.run_function

    def spy(self, func, owner, bound=None):
        ran.append(func.name.value)
        return real(self, func, owner, bound)

    monkeypatch.setattr(output_activations.FileAnalysis, "run_function", spy)
    found = {(f.location.line, f.code) for f in file_findings(path, "GL4")}
    assert "unused" not in ran and "plain" not in ran and "__init__" in ran  # WithLoss.__init__
    assert {"score", "evaluate", "run_global", "aliased"} <= set(ran)
    assert found == expected_lines(path)  # as when every function ran
    assert len(found) == 3
