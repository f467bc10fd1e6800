"""Per-file results kept between runs, so that a second run re-checks only what changed.

An entry is valid while the file's bytes, gradlint's own code, the effective
configuration and every tree file the file's imports resolved into are the same
as when it was written. Entries are JSON, never pickle: a cache folder that
arrives with a cloned repository must not be able to run code. A corrupt or
foreign entry is a miss, and is overwritten; writes go through a temporary file
and ``os.replace``, so that concurrent runs never leave half an entry behind.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
import os
import re
import stat
import tempfile
import types
import typing
from pathlib import Path
from typing import Any

from gradlint import __version__
from gradlint.bounded import read_bytes
from gradlint.config import Config, ConfigError
from gradlint.diagnostics import FileResult

SCHEMA = 1
FOLDER_NAME = ".gradlint_cache"
_MARKER = "CACHEDIR.TAG"
# the first line is the Cache Directory Tagging Specification's; the second says whose it is
_TAG = "Signature: 8a477f597d28d172789f06886806bc55\n# gradlint's cache of results\n"
_GITIGNORE = "# Created by gradlint\n*\n"
_ENTRY_NAME = re.compile(r"(?:[0-9a-f]{32}|\.tmp-[\w-]+)\.json")
_SHARD_NAME = re.compile(r"[0-9a-f]{2}")
_SCHEMA_FOLDER = re.compile(r"v[0-9]+")
MAX_ENTRY = 16 * 1024 * 1024  # the largest report of one file is a few hundred kB


def cache_folder(config: Config) -> Path:
    if config.cache_dir:
        return Path(config.cache_dir)
    return config.root / FOLDER_NAME


def nested_cache_folders(top: Path) -> list[Path]:
    """The tagged cache folders below ``top``: the sub-projects' of a tree where each
    configuration keeps its own."""
    from gradlint.globs import DEFAULT_EXCLUDE

    found = []
    for folder, dirnames, _ in os.walk(top):
        if FOLDER_NAME in dirnames and is_gradlint_folder(Path(folder) / FOLDER_NAME):
            found.append(Path(folder) / FOLDER_NAME)
        dirnames[:] = [d for d in dirnames if d not in DEFAULT_EXCLUDE and not d.endswith(".egg-info")]
    return sorted(found)


def _is_real_folder(path: Path) -> bool:
    try:
        return stat.S_ISDIR(os.lstat(path).st_mode)
    except OSError:
        return False


def _read_small(path: Path) -> bytes | None:
    try:
        return read_bytes(path, 4096, follow_symlinks=False)
    except OSError:
        return None


def is_gradlint_folder(folder: Path) -> bool:
    """A real folder (no link) that carries the tag gradlint writes."""
    return _is_real_folder(folder) and _read_small(folder / _MARKER) == _TAG.encode()


def folder_problem(folder: Path) -> str | None:
    """Why ``folder`` cannot hold the cache, or None when it can.

    A cache folder is gradlint's alone: one that does not exist yet, one that is empty,
    or one that already carries gradlint's tag. Anything else holds someone's files,
    which a later ``gradlint clean`` must never be in a position to delete.
    """
    try:
        info = os.lstat(folder)
    except FileNotFoundError:
        return None
    except OSError as exc:
        return f"cannot use {folder} as the cache folder: {(exc.strerror or str(exc)).lower()}"
    if stat.S_ISLNK(info.st_mode):
        return f"the cache folder {folder} is a symbolic link; results are not cached"
    if not stat.S_ISDIR(info.st_mode):
        return f"the cache folder {folder} is not a folder; results are not cached"
    if is_gradlint_folder(folder):
        return None
    try:
        if not os.listdir(folder):
            return None
    except OSError as exc:
        return f"cannot use {folder} as the cache folder: {(exc.strerror or str(exc)).lower()}"
    return (
        f"{folder} holds files that gradlint did not write, so it cannot be the cache folder "
        f"(cache-dir); results are not cached"
    )


def remove_cache(folder: Path) -> tuple[bool, int]:
    """Delete gradlint's own entries from its tagged cache folder, and nothing else.

    Returns whether there was a cache, and how many files and folders that gradlint did
    not write were left in place. A folder without gradlint's tag, or a link, is refused.
    """
    if not os.path.lexists(folder):
        return False, 0
    if os.path.islink(folder):
        raise ConfigError(f"{folder} is a symbolic link; gradlint removes only a cache folder itself, not a link")
    if not is_gradlint_folder(folder):
        raise ConfigError(f"{folder} does not look like a gradlint cache (no {_MARKER} written by gradlint); not removed")
    kept = 0
    for name in os.listdir(folder):
        path = folder / name
        if _SCHEMA_FOLDER.fullmatch(name) and _is_real_folder(path):
            kept += _remove_entries(path)
        elif name == ".gitignore" and _read_small(path) == _GITIGNORE.encode():
            _unlink(str(path))
        elif name != _MARKER:
            kept += 1
    if kept == 0:
        _unlink(str(folder / _MARKER))
        _rmdir(folder)
    return True, kept


def _remove_entries(schema_folder: Path) -> int:
    """Unlink the entry files of one schema folder (never following a link); the count of
    what was left: anything not named as gradlint names its entries."""
    kept = 0
    for shard in os.listdir(schema_folder):
        path = schema_folder / shard
        if not (_SHARD_NAME.fullmatch(shard) and _is_real_folder(path)):
            kept += 1
            continue
        for name in os.listdir(path):
            entry = path / name
            if _ENTRY_NAME.fullmatch(name) and stat.S_ISREG(os.lstat(entry).st_mode):
                _unlink(str(entry))
            else:
                kept += 1
        _rmdir(path)
    _rmdir(schema_folder)
    return kept


def _rmdir(path: Path) -> None:
    try:
        os.rmdir(path)
    except OSError:
        pass  # not empty: what is left is not gradlint's


def digest(data: bytes) -> str:
    return hashlib.blake2b(data, digest_size=16).hexdigest()


def code_fingerprint() -> str:
    """gradlint's own modules, data files and rule pages, by size and mtime.

    The version alone is not enough: a source checkout changes its rules
    without changing its version number.
    """
    package = Path(__file__).resolve().parent
    entries = []
    for folder in (package, package / "_rules", package.parent / "rules"):
        if not folder.is_dir():
            continue
        for root, dirs, files in os.walk(folder):
            dirs[:] = [d for d in dirs if d != "__pycache__"]
            for name in files:
                if name.endswith((".py", ".md", ".toml")):  # torch_api.toml: data the code reads
                    stat = os.stat(os.path.join(root, name))
                    entries.append(f"{os.path.join(root, name)}:{stat.st_size}:{stat.st_mtime_ns}")
    entries.sort()
    return digest("\n".join(entries).encode())


LARGE_FILE = 64 * 1024 * 1024


class ResultCache:
    """Look up and store FileResults under one folder."""

    def __init__(self, folder: Path, config: Config, files: list[Path] | None = None) -> None:
        self.folder = folder
        self.entries = folder / f"v{SCHEMA}"
        # the enabled rules follow from the code and the configuration: no need to load them;
        # the set of files checked together decides what an import can resolve to
        checked_together = digest("\n".join(sorted(os.path.abspath(f) for f in files or ())).encode())
        self.run_key = digest(
            repr((__version__, code_fingerprint(), config.fingerprint(), checked_together)).encode()
        )
        self._hashes: dict[str, str | None] = {}
        self.problem = folder_problem(folder)
        self._prepared: bool | None = None

    # file hashes are shared by lookups and by the dependency checks of other files
    def file_hash(self, path: str, data: bytes | None = None) -> str | None:
        key = os.path.abspath(path)
        if key not in self._hashes:
            if data is None:
                try:
                    info = os.stat(key)
                    # never open a pipe or a device: reading one would block the run
                    if not stat.S_ISREG(info.st_mode):
                        data = None
                    elif info.st_size > LARGE_FILE:
                        # ONNX external weights run to gigabytes: size and time stand in for content
                        data = f"stat:{info.st_size}:{info.st_mtime_ns}".encode()
                    else:
                        data = Path(key).read_bytes()
                except OSError:
                    data = None
            self._hashes[key] = None if data is None else digest(data)
        return self._hashes[key]

    def _entry_path(self, shown: str, path: Path) -> Path:
        name = digest(f"{self.run_key}\0{os.path.abspath(path)}\0{shown}".encode())
        return self.entries / name[:2] / f"{name}.json"

    def lookup(self, path: Path, shown: str) -> FileResult | None:
        if self.problem is not None:
            return None
        content = self.file_hash(str(path))
        if content is None:
            return None
        try:
            data = read_bytes(self._entry_path(shown, path), MAX_ENTRY, follow_symlinks=False)
            entry = json.loads(data)
            result = _valid_entry(entry, content, shown)
        except (OSError, ValueError, RecursionError):
            return None  # missing, corrupt or foreign: a miss, rewritten after the check
        if result is None:
            return None
        for dep, dep_hash in entry["dependencies"].items():
            if self.file_hash(dep) != dep_hash:
                return None
        return result

    def store(self, path: Path, result: FileResult) -> None:
        content = self.file_hash(str(path))
        if content is None or any(e.message.startswith("cannot read") for e in result.errors):
            return
        deps = {os.path.abspath(d): self.file_hash(d) for d in result.dependencies}
        entry = {"schema": SCHEMA, "content": content, "dependencies": deps, "result": result_to_json(result)}
        target = self._entry_path(result.path, path)
        try:
            if not self._prepare():
                return
            target.parent.mkdir(exist_ok=True)
            if not _is_real_folder(target.parent):
                return  # a link planted in the cache must not carry a write elsewhere
            handle, temp = tempfile.mkstemp(dir=target.parent, prefix=".tmp-", suffix=".json")
            try:
                with os.fdopen(handle, "w", encoding="utf-8") as out:
                    json.dump(entry, out, default=str)
                os.replace(temp, target)
            except BaseException:
                _unlink(temp)
                raise
        except OSError:
            pass  # a read-only tree or a full disk costs speed, never the run

    def _prepare(self) -> bool:
        """Make the folder gradlint's, once: whether entries may be written in it."""
        if self._prepared is None:
            self._prepared = False
            if self.problem is not None:
                return False
            try:
                self.folder.mkdir(parents=True)
                created = True
            except FileExistsError:
                created = False
            if not is_gradlint_folder(self.folder):
                if folder_problem(self.folder) is not None:  # filled since the run started
                    return False
                (self.folder / _MARKER).write_text(_TAG, encoding="utf-8")
            if created:  # only a folder gradlint created gets the .gitignore that hides it
                (self.folder / ".gitignore").write_text(_GITIGNORE, encoding="utf-8")
            self.entries.mkdir(exist_ok=True)
            self._prepared = _is_real_folder(self.entries)
        return self._prepared


def _valid_entry(entry: object, content: str, shown: str) -> FileResult | None:
    """The entry's result when the entry has exactly the shape gradlint writes."""
    if not isinstance(entry, dict) or set(entry) != {"schema", "content", "dependencies", "result"}:
        return None
    if entry["schema"] != SCHEMA or entry["content"] != content:
        return None
    deps = entry["dependencies"]
    if not isinstance(deps, dict) or not all(
        isinstance(k, str) and (v is None or isinstance(v, str)) for k, v in deps.items()
    ):
        return None
    try:
        result = result_from_json(entry["result"])
    except ValueError:
        return None
    return result if result.path == shown else None


def _unlink(path: str) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass


_NOT_STORED = {FileResult: {"dependencies"}}


def result_to_json(result: FileResult) -> dict[str, Any]:
    return _to_json(result)


def result_from_json(data: Any) -> FileResult:
    """A FileResult from its JSON form; ValueError unless every field has its declared type."""
    return _from_json(FileResult, data)


def _to_json(value: Any) -> Any:
    if dataclasses.is_dataclass(value):
        skip = _NOT_STORED.get(type(value), ())
        return {f.name: _to_json(getattr(value, f.name)) for f in dataclasses.fields(value) if f.name not in skip}
    if isinstance(value, (list, tuple)):
        return [_to_json(v) for v in value]
    return value


@functools.cache
def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def _from_json(cls: type, data: Any) -> Any:
    names = [f.name for f in dataclasses.fields(cls) if f.name not in _NOT_STORED.get(cls, ())]
    if not isinstance(data, dict) or set(data) != set(names):
        raise ValueError(f"not a {cls.__name__}")
    hints = _hints(cls)
    return cls(**{name: _typed(hints[name], data[name]) for name in names})


def _typed(hint: Any, value: Any) -> Any:
    """``value`` as ``hint`` describes it, or ValueError."""
    origin = typing.get_origin(hint)
    if hint is Any:
        return value
    if origin in (typing.Union, types.UnionType):
        for option in typing.get_args(hint):
            try:
                return _typed(option, value)
            except ValueError:
                continue
        raise ValueError(f"{value!r} is not {hint}")
    if origin is typing.Literal:
        if value in typing.get_args(hint):
            return value
        raise ValueError(f"{value!r} is not {hint}")
    if origin is list:
        if not isinstance(value, list):
            raise ValueError(f"{value!r} is not a list")
        (item,) = typing.get_args(hint)
        return [_typed(item, v) for v in value]
    if origin is tuple:  # tuple[X, ...]
        if not isinstance(value, list):
            raise ValueError(f"{value!r} is not a list")
        return tuple(_typed(typing.get_args(hint)[0], v) for v in value)
    if origin is dict:
        if not isinstance(value, dict):
            raise ValueError(f"{value!r} is not a dict")
        return value
    if dataclasses.is_dataclass(hint):
        return _from_json(hint, value)
    if hint is type(None):
        if value is None:
            return None
    elif hint is float:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
    elif hint is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
    elif isinstance(value, hint):
        return value
    raise ValueError(f"{value!r} is not {hint}")
