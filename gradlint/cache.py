"""Per-file results kept between runs, so that a second run re-checks only what changed.

An entry is valid while the file's bytes, gradlint's own code, the effective
configuration and every tree file the file's imports resolved into are the same
as when it was written. Entries are JSON, never pickle: a cache folder that
arrives with a cloned repository must not be able to run code. A corrupt or
foreign entry is a miss, and is overwritten; writes go through a temporary file
and ``os.replace``, so that concurrent runs never leave half an entry behind.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import stat
import tempfile
from pathlib import Path
from typing import Any

from gradlint import __version__
from gradlint.config import Config, ConfigError
from gradlint.diagnostics import FileError, FileResult, Finding, Fix, Location, ModelRecord

SCHEMA = 1
FOLDER_NAME = ".gradlint_cache"
_MARKER = "CACHEDIR.TAG"


def cache_folder(config: Config) -> Path:
    if config.cache_dir:
        return Path(config.cache_dir)
    return config.root / FOLDER_NAME


def remove_cache(folder: Path) -> bool:
    """Delete a cache folder; refuse a folder that is not one of ours."""
    if not folder.is_dir():
        return False
    if not (folder / _MARKER).is_file() and folder.name != FOLDER_NAME:
        raise ConfigError(f"{folder} does not look like a gradlint cache (no {_MARKER}); not removed")
    shutil.rmtree(folder, ignore_errors=True)
    return True


def digest(data: bytes) -> str:
    return hashlib.blake2b(data, digest_size=16).hexdigest()


def code_fingerprint() -> str:
    """gradlint's own modules and rule pages, by size and mtime.

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
                if name.endswith((".py", ".md")):
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
        self._prepared = False

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
        content = self.file_hash(str(path))
        if content is None:
            return None
        try:
            entry = json.loads(self._entry_path(shown, path).read_text(encoding="utf-8"))
            if entry.get("schema") != SCHEMA or entry.get("content") != content:
                return None
            for dep, dep_hash in entry["dependencies"].items():
                if self.file_hash(dep) != dep_hash:
                    return None
            return result_from_json(entry["result"])
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            return None  # missing, corrupt or foreign: a miss, rewritten after the check

    def store(self, path: Path, result: FileResult) -> None:
        content = self.file_hash(str(path))
        if content is None or any(e.message.startswith("cannot read") for e in result.errors):
            return
        deps = {os.path.abspath(d): self.file_hash(d) for d in result.dependencies}
        entry = {"schema": SCHEMA, "content": content, "dependencies": deps, "result": result_to_json(result)}
        target = self._entry_path(result.path, path)
        try:
            self._prepare()
            target.parent.mkdir(parents=True, exist_ok=True)
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

    def _prepare(self) -> None:
        if self._prepared:
            return
        self.entries.mkdir(parents=True, exist_ok=True)
        for name, text in (
            (".gitignore", "# Created by gradlint\n*\n"),
            (_MARKER, "Signature: 8a477f597d28d172789f06886806bc55\n# gradlint's cache of results\n"),
        ):
            marker = self.folder / name
            if not marker.exists():
                marker.write_text(text, encoding="utf-8")
        self._prepared = True


def _unlink(path: str) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass


def result_to_json(result: FileResult) -> dict[str, Any]:
    return {
        "path": result.path,
        "findings": [
            {
                "code": f.code,
                "name": f.name,
                "severity": f.severity,
                "message": f.message,
                "location": vars(f.location),
                "fix": None if f.fix is None else vars(f.fix),
                "extra": f.extra,
            }
            for f in result.findings
        ],
        "errors": [e.to_json() for e in result.errors],
        "models": [vars(m) for m in result.models],
    }


def result_from_json(data: dict[str, Any]) -> FileResult:
    return FileResult(
        path=data["path"],
        findings=[
            Finding(
                code=f["code"],
                name=f["name"],
                severity=f["severity"],
                message=f["message"],
                location=Location(**f["location"]),
                fix=None if f["fix"] is None else Fix(**f["fix"]),
                extra=f["extra"],
            )
            for f in data["findings"]
        ],
        errors=[FileError(e["path"], e["message"]) for e in data["errors"]],
        models=[ModelRecord(**m) for m in data["models"]],
    )
