"""``--fix`` over a run: each file with fixable findings repaired, re-checked between rounds,
and written back (or shown as a diff) only when it changed."""

from __future__ import annotations

import difflib
import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from gradlint.diagnostics import Finding, Fix
from gradlint.fixes import fix_declared, fixes_for
from gradlint.fixes.apply import FixPolicy, apply_fixes, compatible
from gradlint.reading import decode_source

# ruff stops after 100 rounds; a fix here never needs more than a few
MAX_ROUNDS = 10

# the findings of a text as the run checks its file; None when the text does not parse
Recheck = Callable[[Path, str, str], "list[Finding] | None"]


@dataclass
class FileFix:
    path: Path
    shown: str
    before: str
    after: str
    applied: list[Fix] = field(default_factory=list)
    remaining: list[Finding] = field(default_factory=list)
    problem: str | None = None
    data: bytes = b""  # the file's bytes when it was read

    @property
    def changed(self) -> bool:
        return self.after != self.before


def fix_text(
    shown: str,
    text: str,
    findings: list[Finding],
    policy: FixPolicy,
    recheck: Callable[[str], list[Finding] | None],
) -> tuple[str, list[Fix], list[Finding]]:
    """The text with every allowed fix made, the fixes made, and the findings left.

    Fixes that touch the same lines are made one at a time: the others are made again
    on the new text, after a re-check says they are still wanted."""
    applied: list[Fix] = []
    for _ in range(MAX_ROUNDS):
        fixes = [f for f in fixes_for(shown, text, findings) if policy.allows(f)]
        if not fixes:
            break
        chosen = compatible(fixes)
        new_text = apply_fixes(text, chosen)
        rechecked = recheck(new_text) if new_text != text else None
        if rechecked is None:  # a fix that breaks the file is never kept
            break
        text, findings = new_text, rechecked
        applied.extend(chosen)
    return text, applied, findings


def fix_files(
    findings: list[Finding], policy_for: Callable[[str], FixPolicy], recheck: Recheck
) -> list[FileFix]:
    """Fix every file whose findings have an allowed fix (``policy_for(shown)`` says which).
    ``recheck(path, shown, text)`` checks a text as the run checked the file."""
    by_file: dict[str, list[Finding]] = {}
    for finding in findings:
        # fixes edit Python source: not exported graphs, nor (yet) notebooks
        if finding.path.endswith((".py", ".pyi")) and fix_declared(finding.code) is not None:
            by_file.setdefault(finding.path, []).append(finding)
    results = []
    for shown, found in by_file.items():
        path = Path(shown)
        try:
            data = path.read_bytes()
            before = decode_source(data)
        except (OSError, ValueError) as exc:
            results.append(FileFix(path, shown, "", "", problem=f"not fixed: {exc}"))
            continue
        after, applied, remaining = fix_text(
            shown,
            before,
            found,
            policy_for(shown),
            lambda text, path=path, shown=shown: recheck(path, shown, text),
        )
        results.append(FileFix(path, shown, before, after, applied, remaining, data=data))
    return results


def unified_diff(outcome: FileFix) -> str:
    lines = difflib.unified_diff(
        outcome.before.splitlines(keepends=True),
        outcome.after.splitlines(keepends=True),
        fromfile=outcome.shown if os.path.isabs(outcome.shown) else f"a/{outcome.shown}",
        tofile=outcome.shown if os.path.isabs(outcome.shown) else f"b/{outcome.shown}",
    )
    return "".join(
        line if line.endswith(("\n", "\r")) else line + "\n\\ No newline at end of file\n"
        for line in lines
    )


def write_back(outcome: FileFix) -> str | None:
    """Write the fixed text in place of the file; None, or why it was not written.

    The new text goes to a temporary file in the same folder, with the file's mode, and
    replaces the file in one rename; nothing is written when the file changed on disk
    since it was read."""
    path, original = outcome.path, outcome.data
    encoding = _encoding_of(original)
    try:
        data = outcome.after.encode(encoding)
    except UnicodeEncodeError:
        return f"{outcome.shown}: not fixed: the fix does not fit the file's encoding {encoding}"
    try:
        if path.read_bytes() != original:
            return f"{outcome.shown}: not fixed: the file changed on disk while it was being fixed"
        mode = path.stat().st_mode & 0o7777
        handle, temp = tempfile.mkstemp(
            dir=path.parent, prefix=f".{path.name}.", suffix=".gradlint-fix"
        )
        try:
            with os.fdopen(handle, "wb") as out:
                out.write(data)
            os.chmod(temp, mode)
            os.replace(temp, path)
        except BaseException:
            os.unlink(temp)
            raise
    except OSError as exc:
        return f"{outcome.shown}: not fixed: cannot write: {(exc.strerror or str(exc)).lower()}"
    return None


def _encoding_of(data: bytes) -> str:
    from gradlint.reading import _ENCODING_COOKIE

    if data.startswith(b"\xef\xbb\xbf"):
        return "utf-8-sig"
    for line in data.split(b"\n", 2)[:2]:
        match = _ENCODING_COOKIE.match(line)
        if match:
            return match.group(1).decode("ascii")
    return "utf-8"
