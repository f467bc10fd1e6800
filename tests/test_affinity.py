"""Files that import from one another are checked by one worker (gradlint.affinity)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from gradlint import affinity, engine, workers
from gradlint.config import Config
from gradlint.frontends.python import Project

BLOCKS = '''\
import torch.nn as nn


class Block(nn.Module):
    def __init__(self, dim):
        super().__init__()
        self.fc = nn.Linear(dim, dim)
        self.act = nn.Tanh()

    def forward(self, x):
        return self.act(self.fc(x))


def make_block(dim):
    return Block(dim)


DEFAULT_DIM = 64
'''

MODEL = '''\
import torch.nn as nn

from {module} import Block


class Net{n}(nn.Module):
    def __init__(self):
        super().__init__()
        self.blocks = nn.Sequential(*[Block(32) for _ in range(8)])
        self.head = nn.Linear(32, 10)

    def forward(self, x):
        return self.head(self.blocks(x))
'''


def _tree(root: Path, files: dict[str, str]) -> list[Path]:
    paths = []
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        paths.append(path)
    return paths


def _groups(paths: list[Path], workers: int = 2) -> list[list[int]]:
    texts = {p: p.read_text() for p in paths}
    return affinity.groups(paths, texts, Project.for_files(paths), workers)


def _chunks(paths: list[Path], workers: int = 2) -> list[list[str]]:
    """The groups, and every other file alone."""
    groups = _groups(paths, workers)
    grouped = {i for group in groups for i in group}
    alone = [[i] for i in range(len(paths)) if i not in grouped]
    return [[paths[i].name for i in chunk] for chunk in groups + alone]


def _others(count: int, folder: str = "") -> dict[str, str]:
    """Files that import nothing of the run: a group is at most a small share of it."""
    return {f"{folder}other_{n}.py": BLOCKS.replace("Block", f"Other{n}") for n in range(count)}


def test_importers_go_with_the_file_they_import_from_and_it_comes_first(tmp_path):
    files = {"pkg/blocks.py": BLOCKS, "pkg/__init__.py": "", **_others(24, "pkg/")}
    files["pkg/relative.py"] = MODEL.format(module=".blocks", n=1)
    files["pkg/absolute.py"] = MODEL.format(module="pkg.blocks", n=2)
    files["pkg/sub/parent.py"] = MODEL.format(module="..blocks", n=3)
    files["pkg/wrapped.py"] = "from .blocks import (\n    DEFAULT_DIM,\n    make_block,\n)\n"
    files["pkg/constant.py"] = "from .blocks import DEFAULT_DIM\n"  # a value: the index needs no parse
    files["pkg/elsewhere.py"] = "from torch.nn import Linear\nfrom .missing import Block\n"
    paths = _tree(tmp_path, files)
    chunks = _chunks(paths)
    together = next(chunk for chunk in chunks if "blocks.py" in chunk)
    assert together[0] == "blocks.py"
    assert sorted(together) == ["absolute.py", "blocks.py", "parent.py", "relative.py", "wrapped.py"]
    assert ["constant.py"] in chunks and ["elsewhere.py"] in chunks
    assert sorted(name for chunk in chunks for name in chunk) == sorted(p.name for p in paths)


def test_a_group_stays_a_small_share_of_the_run(tmp_path, monkeypatch):
    files = {"blocks.py": BLOCKS}
    files.update({f"model_{n}.py": MODEL.format(module="blocks", n=n) for n in range(6)})
    files.update(_others(12))
    paths = _tree(tmp_path, files)
    total = sum(len(p.read_text()) for p in paths)
    groups = _groups(paths)
    weights = [sum(len(paths[i].read_text()) for i in group) for group in groups]
    assert max(weights) <= total // (affinity.SHARE * 2)
    assert 1 < len(next(group for group in groups if paths.index(tmp_path / "blocks.py") in group)) < 7
    # the workers take each group whole, and the chunks heaviest first
    monkeypatch.setitem(workers._STATE, "files", paths)
    plan = workers._plan(list(range(len(paths))), 2, groups)
    assert all(group in plan for group in groups)
    assert sorted(i for chunk in plan for i in chunk) == list(range(len(paths)))
    sizes = [sum(paths[i].stat().st_size for i in chunk) for chunk in plan]
    assert sizes == sorted(sizes, reverse=True)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="workers are forked")
def test_with_two_workers_an_imported_file_is_parsed_once(tmp_path, monkeypatch):
    files = {"blocks.py": BLOCKS}
    files.update({f"model_{n}.py": MODEL.format(module="blocks", n=n) for n in range(3)})
    files.update(_others(16))
    _tree(tmp_path, files)
    log = tmp_path / "parses.log"
    from gradlint.source import SourceFile

    parse = SourceFile.parse.__func__

    def logged(cls, path, text, tree=None):
        with open(log, "a") as out:
            out.write(json.dumps([os.getpid(), Path(path).name]) + "\n")
        return parse(cls, path, text, tree)

    monkeypatch.setattr(SourceFile, "parse", classmethod(logged))
    monkeypatch.chdir(tmp_path)
    parallel = engine.run([Path(".")], Config(root=tmp_path), jobs=2)
    whole = [json.loads(line) for line in log.read_text().splitlines()]
    assert [name for _, name in whole].count("blocks.py") == 1
    serial = engine.run([Path(".")], Config(root=tmp_path), jobs=1)
    assert [f.message for f in parallel.findings] == [f.message for f in serial.findings]
    # the three models; the blocks of the other files are built on stand-in sizes
    assert len([m for m in parallel.models if "stand_ins" not in m.extra]) == 3
    assert [(m.path, m.name) for m in parallel.models] == [(m.path, m.name) for m in serial.models]
