"""The cache folder is gradlint's alone, and a damaged cache is a miss, never a wrong report.

``clean`` must be unable to delete anything gradlint did not write, whatever a
configuration that arrived with a cloned repository says.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from gradlint import engine
from gradlint.cache import FOLDER_NAME, MAX_ENTRY, ResultCache
from gradlint.cli import main
from gradlint.config import Config
from tests.conftest import deadline

MODEL = "import torch\nx = 1  # noqa: GL0\n"


def invoke(*args: str):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def snapshot(top: Path) -> dict[str, bytes | str]:
    """Every file and link below ``top``: what no cache setting may delete or change."""
    seen: dict[str, bytes | str] = {}
    for folder, dirs, files in os.walk(top):
        for name in dirs + files:
            path = Path(folder) / name
            if path.is_symlink():
                seen[str(path)] = "-> " + os.readlink(path)
            elif path.is_file():
                seen[str(path)] = path.read_bytes()
    return seen


@pytest.fixture
def world(tmp_path, monkeypatch):
    """outer/ holds someone's files, outer/mid/ more, outer/mid/project/ is the project."""
    outer = tmp_path / "outer"
    project = outer / "mid" / "project"
    (project / "src").mkdir(parents=True)
    (outer / "theirs.txt").write_text("not gradlint's")
    (outer / "mid" / "notes.md").write_text("not gradlint's either")
    (project / "src" / "model.py").write_text(MODEL)
    (project / "README.md").write_text("the project")
    (outer / "elsewhere").mkdir()
    (outer / "elsewhere" / "data.bin").write_bytes(b"\0\1\2")
    os.symlink(outer / "elsewhere", project / "cachelink")
    monkeypatch.chdir(project)
    return tmp_path


def _configure(project: Path, cache_dir: str) -> None:
    (project / "pyproject.toml").write_text(f'[tool.gradlint]\ncache-dir = "{cache_dir}"\n')


OUTSIDE = ["..", "../..", "cachelink", "ABSOLUTE"]


def _value(world: Path, value: str) -> str:
    return str(world / "outer" / "elsewhere") if value == "ABSOLUTE" else value


@pytest.mark.parametrize("value", [".", *OUTSIDE])
def test_a_configuration_cannot_point_the_cache_at_the_project_or_outside(world, value):
    project = Path.cwd()
    _configure(project, _value(world, value))
    before = snapshot(world)
    checked = invoke("check", "src")
    assert checked.exit_code == 2 and "'cache-dir' must name a folder below the project root" in checked.output
    cleaned = invoke("clean")
    assert cleaned.exit_code == 2
    after = snapshot(world)
    assert after == before


@pytest.mark.parametrize("value", [".", "..", "../..", "src", "cachelink", "ABSOLUTE"])
def test_clean_deletes_nothing_gradlint_did_not_write(world, value):
    """Named on the command line, a folder outside the project is allowed, but only a folder
    that is new, empty or gradlint's own ever receives entries, and clean removes only those."""
    before = snapshot(world)
    cache_dir = _value(world, value)
    checked = invoke("check", "--cache-dir", cache_dir, "src")
    assert checked.exit_code == 1 and "GL001" in checked.output
    assert "results are not cached" in checked.output
    again = invoke("check", "--cache-dir", cache_dir, "src")
    assert again.exit_code == 1
    cleaned = invoke("clean", "--cache-dir", cache_dir)
    assert cleaned.exit_code == 2
    assert snapshot(world) == before
    for folder in (world / "outer", world / "outer" / "mid", Path.cwd(), Path.cwd() / "src"):
        assert not (folder / ".gitignore").exists() and not (folder / "CACHEDIR.TAG").exists()


def test_a_new_folder_named_on_the_command_line_is_created_and_cleaned(world):
    before = snapshot(world)
    fresh = world / "outer" / "scratch" / "cache"
    assert invoke("check", "--cache-dir", str(fresh), "src").exit_code == 1
    assert (fresh / ".gitignore").is_file() and (fresh / "CACHEDIR.TAG").is_file()
    assert list(fresh.rglob("*.json"))
    cleaned = invoke("clean", "--cache-dir", str(fresh))
    assert cleaned.exit_code == 0 and not fresh.exists()
    assert snapshot(world) == before


def test_an_empty_folder_becomes_a_cache_without_a_gitignore(world):
    empty = Path.cwd() / "cache"
    empty.mkdir()
    _configure(Path.cwd(), "cache")
    assert invoke("check", "src").exit_code == 1
    assert (empty / "CACHEDIR.TAG").is_file() and not (empty / ".gitignore").exists()
    assert invoke("clean").exit_code == 0 and not empty.exists()


def test_clean_keeps_what_someone_put_in_the_cache_folder(world):
    assert invoke("check", "src").exit_code == 1
    cache = Path.cwd() / FOLDER_NAME
    (cache / "mine.txt").write_text("keep me")
    (cache / "v1" / "ab").mkdir(exist_ok=True)
    (cache / "v1" / "ab" / "notes.txt").write_text("keep me too")
    os.symlink(world / "outer" / "theirs.txt", cache / "v1" / "ab" / ("0" * 32 + ".json"))
    cleaned = invoke("clean")
    assert cleaned.exit_code == 0 and "kept 3 file(s)" in cleaned.output
    assert (cache / "mine.txt").read_text() == "keep me"
    assert (cache / "v1" / "ab" / "notes.txt").read_text() == "keep me too"
    assert (world / "outer" / "theirs.txt").read_text() == "not gradlint's"
    assert [p.name for p in cache.rglob("*.json")] == ["0" * 32 + ".json"]  # the link, kept


def test_clean_refuses_a_symlinked_cache_and_says_so(world):
    target = world / "outer" / "elsewhere"
    link = Path.cwd() / FOLDER_NAME
    os.symlink(target, link)
    cleaned = invoke("clean")
    assert cleaned.exit_code == 2 and "is a symbolic link" in cleaned.output
    assert "Removed" not in cleaned.output and (target / "data.bin").is_file()


def test_a_planted_link_inside_the_cache_carries_no_write_elsewhere(world):
    assert invoke("check", "src").exit_code == 1
    entries = Path.cwd() / FOLDER_NAME / "v1"
    for shard in list(entries.iterdir()):
        for entry in shard.iterdir():
            entry.unlink()
        shard.rmdir()
        os.symlink(world / "outer" / "elsewhere", shard)
    (Path.cwd() / "src" / "model.py").write_text(MODEL + "\n")
    assert invoke("check", "src").exit_code == 1
    assert sorted(p.name for p in (world / "outer" / "elsewhere").iterdir()) == ["data.bin"]


# --- damaged entries ----------------------------------------------------------------


def _nested(depth: int) -> str:
    return "[" * depth + "]" * depth


def _result_with(change):
    def damage(entry: dict) -> str:
        change(entry["result"])
        return json.dumps(entry)

    return damage


DAMAGE = {
    "truncated": lambda entry: json.dumps(entry)[:40],
    "empty": lambda entry: "",
    "not json": lambda entry: "\x00\xff garbage",
    "nested": lambda entry: _nested(200_000),
    "nested result": lambda entry: json.dumps(entry).replace('"findings": [', '"findings": ' + _nested(100_000)[:-1] + "[", 1),
    "findings a dict": _result_with(lambda r: r.update(findings={})),
    "findings missing": _result_with(lambda r: r.pop("findings")),
    "line a string": _result_with(lambda r: r["findings"][0]["location"].update(line="2")),
    "code a number": _result_with(lambda r: r["findings"][0].update(code=101)),
    "severity unknown": _result_with(lambda r: r["findings"][0].update(severity="fatal")),
    "extra key": _result_with(lambda r: r["findings"][0].update(surprise=1)),
    "errors strings": _result_with(lambda r: r.update(errors=["boom"])),
    "models a list of lists": _result_with(lambda r: r.update(models=[[1, 2]])),
    "path of another file": _result_with(lambda r: r.update(path="other.py")),
    "dependencies a list": lambda entry: json.dumps({**entry, "dependencies": ["x"]}),
    "entry a list": lambda entry: json.dumps([entry]),
    "schema a string": lambda entry: json.dumps({**entry, "schema": "1"}),
    "bool line": _result_with(lambda r: r["findings"][0]["location"].update(line=True)),
}

REPLACE = {
    "fifo": lambda path: os.mkfifo(path),
    "link to /dev/zero": lambda path: os.symlink("/dev/zero", path),
    "folder": lambda path: path.mkdir(),
    "huge": lambda path: os.truncate(os.open(path, os.O_CREAT | os.O_WRONLY), MAX_ENTRY + 1),
}


def _cached_run(project: Path):
    return engine.run([project / "src"], Config(root=project), jobs=1, use_cache=True)


def _report(outcome) -> list[tuple]:
    return [(f.path, f.location.line, f.location.column, f.code, f.message) for f in outcome.findings]


def _entry(project: Path) -> Path:
    (entry,) = (project / FOLDER_NAME).rglob("*.json")
    return entry


@pytest.mark.parametrize("kind", sorted(DAMAGE) + sorted(REPLACE))
def test_a_damaged_entry_is_a_miss_and_is_rewritten(world, kind, monkeypatch):
    project = Path.cwd()
    cold = _report(_cached_run(project))
    assert cold
    entry = _entry(project)
    original = json.loads(entry.read_text())
    entry.unlink()
    if kind in DAMAGE:
        entry.write_text(DAMAGE[kind](json.loads(json.dumps(original))))
    else:
        REPLACE[kind](entry)
    checked: list[str] = []
    real = engine.check_path
    monkeypatch.setattr(engine, "check_path", lambda path, *a: checked.append(path.name) or real(path, *a))
    with deadline(20):
        assert _report(_cached_run(project)) == cold
    assert checked == ["model.py"]
    if kind != "folder":  # an entry in a folder's place stays a miss: os.replace cannot overwrite it
        checked.clear()
        assert _report(_cached_run(project)) == cold and checked == []


def test_every_field_must_have_its_type(world):
    project = Path.cwd()
    _cached_run(project)
    entry = _entry(project)
    data = json.loads(entry.read_text())
    cache = ResultCache(project / FOLDER_NAME, Config(root=project), [project / "src" / "model.py"])
    assert cache.lookup(project / "src" / "model.py", "src/model.py") is not None
    data["result"]["findings"][0]["location"]["column"] = 8.5
    entry.write_text(json.dumps(data))
    cache = ResultCache(project / FOLDER_NAME, Config(root=project), [project / "src" / "model.py"])
    assert cache.lookup(project / "src" / "model.py", "src/model.py") is None


@pytest.mark.parametrize("special", ["/dev/zero", "FIFO"])
def test_a_configuration_that_is_no_regular_file_is_a_one_line_error(tmp_path, monkeypatch, special):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "m.py").write_text(MODEL)
    if special == "FIFO":
        os.mkfifo(tmp_path / "gradlint.toml")
        special = str(tmp_path / "gradlint.toml")
    with deadline(20):
        result = invoke("check", "--config", special, "m.py")
    assert result.exit_code == 2
    assert result.output.count("\n") == 1 and "not a regular file" in result.output
