"""Top-level statements no check reads are left out of the libcst parse (gradlint.partial)."""

from __future__ import annotations

import ast
from pathlib import Path

from gradlint.check_file import _parse
from gradlint.config import Config
from gradlint.engine import Checker
from gradlint.partial import masked, unneeded_statements
from gradlint.source import SourceFile

FIXTURE = Path(__file__).parent / "fixtures" / "partial" / "registry_model.py"


def _left_out_names(text: str, needs=lambda statement: False) -> list[str]:
    tree = ast.parse(text)
    spans = unneeded_statements(text, tree, needs)
    names = []
    for stmt in tree.body:
        first = min([stmt.lineno, *(d.lineno for d in getattr(stmt, "decorator_list", ()))])
        if (first, stmt.end_lineno) in spans:
            names.append(getattr(stmt, "name", None) or stmt.targets[0].id)
    return names


def test_tables_and_registry_functions_are_left_out_and_what_the_model_uses_is_kept():
    text = FIXTURE.read_text()
    # _act is a default of Tower's __init__; _create_tower's body builds Tower (a factory);
    # tower_small carries a noqa, and _registry decorates it; _cfg is used only by the table
    assert _left_out_names(text) == ["_cfg", "default_cfgs", "tower_tiny", "checkpoint_filter_fn", "freeze_stem"]
    # a rule may ask for statements: freezing is read by the graph-cut checks
    assert "freeze_stem" not in _left_out_names(text, lambda s: "requires_grad" in s)


def test_the_masked_text_keeps_every_line_and_column():
    text = FIXTURE.read_text().replace("\n", "\r\n", 3)  # mixed line endings survive too
    tree = ast.parse(text)
    spans = unneeded_statements(text, tree, lambda statement: False)
    out = masked(text, spans)
    assert out.count("\n") == text.count("\n") and out.count("\r") == text.count("\r")
    kept = [line for number, line in enumerate(text.split("\n"), 1) if not any(a <= number <= b for a, b in spans)]
    assert kept == [line for number, line in enumerate(out.split("\n"), 1) if not any(a <= number <= b for a, b in spans)]
    ast.parse(out)


def test_the_engine_parses_a_partial_tree_only_when_no_enabled_rule_reads_everything():
    text = FIXTURE.read_text()
    source = _parse(str(FIXTURE), text, Checker.from_config(Config()))
    assert source.partial and "def tower_tiny" not in source.module.code and "class Tower" in source.module.code
    # positions in the partial tree are the file's
    tower = next(s for s in source.module.body if getattr(getattr(s, "name", None), "value", "") == "Tower")
    assert source.location(tower.name).line == text.split("\n").index("class Tower(nn.Module):") + 1
    # a loss rule may follow any function: with a loss in the file, the tree is whole
    lossy = text + "\n\ndef criterion():\n    return nn.CrossEntropyLoss()\n"
    assert not _parse(str(FIXTURE), lossy, Checker.from_config(Config())).partial


def test_findings_and_models_are_those_of_the_whole_file(tmp_path, monkeypatch):
    """The file's own checks, and a file importing what the partial tree lacks, give what
    they give on the whole file."""
    from gradlint import check_file, engine

    (tmp_path / "registry_model.py").write_text(FIXTURE.read_text())
    (tmp_path / "use.py").write_text(
        "import torch.nn as nn\nfrom registry_model import _cfg, _create_tower\n\n\n"
        "def build():\n    return _create_tower('x', depth=12)\n\n\n"
        "class Wrapper(nn.Module):\n    def __init__(self, cfg=_cfg()):\n        super().__init__()\n"
        "        self.fc = nn.Linear(4, 4)\n\n    def forward(self, x):\n        return self.fc(x)\n"
    )

    def report():
        outcome = engine.run([tmp_path], Config(), jobs=1)
        findings = [(Path(f.location.path).name, f.code, f.location.line, f.message) for f in outcome.findings]
        return findings, [(Path(m.path).name, m.name, m.line) for m in outcome.models], outcome.errors

    parsed = []
    real = SourceFile.parse_partial.__func__
    monkeypatch.setattr(SourceFile, "parse_partial", classmethod(lambda cls, *a: parsed.append(a[0]) or real(cls, *a)))
    partial = report()
    assert "registry_model.py" in {Path(p).name for p in parsed}
    monkeypatch.setattr(check_file, "_left_out", lambda *a: [])
    whole = report()
    assert partial == whole
    assert {(name, code) for name, code, *_ in whole[0]} == {("registry_model.py", "GL101"), ("registry_model.py", "GL001")}


def test_a_function_holding_an_import_is_kept(tmp_path):
    text = (
        "import torch.nn as nn\n\n\ndef _load():\n    import torch.nn.functional as F\n    return F\n\n\n"
        "def _unused():\n    return 1\n\n\nclass Net(nn.Module):\n    def forward(self, x):\n        return F.softmax(x, -1)\n"
    )
    assert _left_out_names(text) == ["_unused"]
