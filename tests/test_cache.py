"""The content cache: same results warm as cold, invalidated by what changes results, never fatal."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from gradlint import engine
from gradlint.cache import FOLDER_NAME, ResultCache, result_from_json, result_to_json
from gradlint.config import Config
from gradlint.diagnostics import Edit, FileError, FileResult, Finding, Fix, Location, ModelRecord
from tests.conftest import ROOT

STALE = "import torch\nx = 1  # noqa: GL0\n"


@pytest.fixture
def tree(tmp_path, monkeypatch):
    (tmp_path / "pkg").mkdir()
    for name in ("a", "b", "c"):
        (tmp_path / "pkg" / f"{name}.py").write_text(STALE)
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.fixture
def checked(monkeypatch):
    """The files the engine really checked (not served from the cache) in each run."""
    seen: list[str] = []
    real = engine.check_path

    def spy(path, checker, project=None):
        seen.append(path.name)
        return real(path, checker, project)

    monkeypatch.setattr(engine, "check_path", spy)
    return seen


def _run(root: Path, config: Config | None = None):
    return engine.run([Path("pkg")], config or Config(root=root), jobs=1, use_cache=True)


def _report(outcome) -> list[tuple]:
    return [(f.path, f.location.line, f.code, f.message) for f in outcome.findings]


def test_warm_run_serves_every_file_and_reports_the_same(tree, checked):
    cold = _run(tree)
    assert sorted(checked) == ["a.py", "b.py", "c.py"]
    checked.clear()
    warm = _run(tree)
    assert checked == [] and _report(warm) == _report(cold) and len(cold.findings) == 3
    assert (tree / FOLDER_NAME / ".gitignore").read_text().splitlines()[-1] == "*"


@pytest.fixture
def index(monkeypatch):
    """The frontend's index, told which files use which (none by default)."""
    import gradlint.frontends.python as frontend

    class Index(frontend.Project):
        uses: dict[str, set[str]] = {}  # noqa: RUF012 - shared on purpose: the test reads it

        def dependencies_of(self, path):
            return {dep for suffix, deps in self.uses.items() if path.endswith(suffix) for dep in deps}

    monkeypatch.setattr(frontend, "Project", Index)
    return Index


def test_an_edit_rechecks_that_file_only(tree, checked, index):
    _run(tree)
    checked.clear()
    (tree / "pkg" / "b.py").write_text("import torch\nx = 1\n")
    outcome = _run(tree)
    assert checked == ["b.py"]
    assert [f.path for f in outcome.findings] == ["pkg/a.py", "pkg/c.py"]


def test_configuration_changes_invalidate(tree, checked):
    _run(tree)
    checked.clear()
    outcome = _run(tree, Config(root=tree, ignore=["GL001"]))
    assert sorted(checked) == ["a.py", "b.py", "c.py"] and outcome.findings == []


def test_dependencies_invalidate(tree, checked, index):
    index.uses = {"a.py": {"pkg/b.py"}}
    _run(tree)
    checked.clear()
    (tree / "pkg" / "b.py").write_text(STALE + "# edited\n")
    _run(tree)
    assert sorted(checked) == ["a.py", "b.py"]  # a.py used b.py's definitions


def test_without_dependency_information_every_file_is_a_dependency(tree, checked, index):
    index.dependencies_of = None  # an index that cannot say
    _run(tree)
    checked.clear()
    (tree / "pkg" / "c.py").write_text(STALE + "# edited\n")
    _run(tree)
    assert sorted(checked) == ["a.py", "b.py", "c.py"]


def test_corrupt_and_foreign_entries_are_misses_and_rewritten(tree, checked):
    cold = _run(tree)
    entries = sorted((tree / FOLDER_NAME).rglob("*.json"))
    assert len(entries) == 3
    entries[0].write_text("{not json")
    entries[1].write_text(json.dumps({"schema": 1, "content": "x", "dependencies": {}, "result": 3}))
    entries[2].write_bytes(b"\x80\x04\x95")  # a pickle, say
    checked.clear()
    again = _run(tree)
    assert sorted(checked) == ["a.py", "b.py", "c.py"] and _report(again) == _report(cold)
    checked.clear()
    _run(tree)
    assert checked == []


def test_unwritable_cache_folder_is_not_fatal(tree, checked):
    (tree / "blocker").write_text("a file where the cache folder would go")
    config = Config(root=tree, cache_dir=str(tree / "blocker" / "cache"))
    assert len(_run(tree, config).findings) == 3
    assert len(_run(tree, config).findings) == 3


def test_round_trip_keeps_every_field():
    result = FileResult(
        "m.py",
        findings=[Finding("GL101", "x-y", "error", "msg", Location("m.py", 1, 2, 3, 4),
                          Fix("GL101", "drop it", "safe", (Edit(1, 2, 1, 9, ""),), "m.py"), {"ratio": -3.5, "layers": [1, 2]}),
                  Finding("GL101", "x-y", "info", "graph", Location("m.onnx", node="n", op_type="Tanh", node_index=2))],
        errors=[FileError("m.py", "oops")],
        models=[ModelRecord("m.py", 3, "Net", 9, -4.0, {"probe": None})],
    )
    assert result_from_json(json.loads(json.dumps(result_to_json(result)))) == result


def test_no_cache_and_clean_from_the_command_line(cli, tmp_path):
    (tmp_path / "m.py").write_text(STALE)
    assert cli("check", "--no-cache", "m.py", cwd=tmp_path).returncode == 1
    assert not (tmp_path / FOLDER_NAME).exists()
    assert cli("check", "m.py", cwd=tmp_path).returncode == 1
    assert (tmp_path / FOLDER_NAME / "CACHEDIR.TAG").is_file()
    second = cli("check", "m.py", cwd=tmp_path)
    assert second.returncode == 1 and "GL001" in second.stdout
    cleaned = cli("clean", cwd=tmp_path)
    assert cleaned.returncode == 0 and not (tmp_path / FOLDER_NAME).exists()
    custom = tmp_path / "elsewhere"
    assert cli("check", "--cache-dir", str(custom), "m.py", cwd=tmp_path).returncode == 1
    assert (custom / ".gitignore").is_file() and not (tmp_path / FOLDER_NAME).exists()
    assert cli("clean", "--cache-dir", str(custom), cwd=tmp_path).returncode == 0 and not custom.exists()
    (tmp_path / "precious").mkdir()
    refused = cli("clean", "--cache-dir", "precious", cwd=tmp_path)
    assert refused.returncode == 2 and (tmp_path / "precious").is_dir()


def test_concurrent_runs_leave_a_consistent_cache(tmp_path):
    for i in range(40):
        (tmp_path / f"m{i:02d}.py").write_text(STALE if i % 2 else "import torch\nx = 1\n")
    env = {"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"}
    command = [sys.executable, "-m", "gradlint", "check", "-j", "1", "--format", "json", "."]
    runs = [subprocess.Popen(command, cwd=tmp_path, env=env, stdout=subprocess.PIPE, text=True) for _ in range(3)]
    outputs = [p.communicate(timeout=300)[0] for p in runs]
    assert all(p.returncode == 1 for p in runs)
    assert len({json.dumps(json.loads(o)["findings"]) for o in outputs}) == 1
    for entry in (tmp_path / FOLDER_NAME).rglob("*.json"):
        json.loads(entry.read_text())  # whole entries only
    assert not list((tmp_path / FOLDER_NAME).rglob(".tmp-*"))
    warm = subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300, check=False)
    assert warm.stdout == outputs[0]


def test_lookup_never_opens_a_pipe(tmp_path):
    import os

    os.mkfifo(tmp_path / "pipe.py")
    cache = ResultCache(tmp_path / FOLDER_NAME, Config(root=tmp_path))
    assert cache.lookup(tmp_path / "pipe.py", "pipe.py") is None


def test_results_are_keyed_by_the_files_checked_together(tmp_path):
    """An import resolves differently when the file it names joins the run: no stale hit."""
    from gradlint.diagnostics import FileResult

    model = tmp_path / "model.py"
    model.write_text("import torch\n", encoding="utf-8")
    blocks = tmp_path / "blocks.py"
    blocks.write_text("import torch\n", encoding="utf-8")
    alone = ResultCache(tmp_path / FOLDER_NAME, Config(root=tmp_path), [model])
    alone.store(model, FileResult("model.py"))
    assert ResultCache(tmp_path / FOLDER_NAME, Config(root=tmp_path), [model]).lookup(model, "model.py") is not None
    together = ResultCache(tmp_path / FOLDER_NAME, Config(root=tmp_path), [model, blocks])
    assert together.lookup(model, "model.py") is None


SOFTMAX_MODEL = """import torch
import torch.nn as nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(8, 3)

    def forward(self, x):
        return torch.softmax(self.fc(x), dim=1)
"""

TRAIN = """import torch
import torch.nn as nn

from model import Net


def train(loader):
    model = Net()
    criterion = nn.CrossEntropyLoss()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    for x, y in loader:
        optimizer.zero_grad()
        loss = criterion(model(x), y)
        loss.backward()
        optimizer.step()
"""


@pytest.mark.parametrize("select", [["ALL"], ["GL4"]])
def test_fixing_an_imported_model_file_drops_the_cached_finding(tmp_path, monkeypatch, select):
    """GL4 reads the model in another file through the run's one resolver, which records that
    file as a dependency of the training script: the warm run must see the fix."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "model.py").write_text(SOFTMAX_MODEL)
    (tmp_path / "train.py").write_text(TRAIN)

    def codes():
        config = Config(root=tmp_path, select=select)
        outcome = engine.run([Path("train.py")], config, jobs=1, use_cache=True)
        return [(f.path, f.location.line, f.code) for f in outcome.findings]

    assert codes() == [("train.py", 13, "GL401")]
    assert codes() == [("train.py", 13, "GL401")]  # served from the cache
    (tmp_path / "model.py").write_text(SOFTMAX_MODEL.replace("torch.softmax(self.fc(x), dim=1)", "self.fc(x)"))
    assert codes() == []
