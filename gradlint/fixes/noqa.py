"""``--add-noqa``: a ``# noqa: CODE`` on the line of every current finding, so that a project
can adopt gradlint on an existing code base and keep new code clean."""

from __future__ import annotations

import io
import re
import tokenize
from pathlib import Path

from gradlint.diagnostics import Finding
from gradlint.fixes.session import FileFix, write_back
from gradlint.reading import decode_source
from gradlint.suppression import NOQA

_LINE = re.compile(r"[^\r\n]*(\r\n|\r|\n)?")


def add_noqa(findings: list[Finding]) -> tuple[int, list[str]]:
    """(directives added or extended, notes on the lines that could not take one)."""
    by_file: dict[str, dict[int, set[str]]] = {}
    for finding in findings:
        if finding.location.line is not None and finding.path.endswith((".py", ".pyi")):
            by_file.setdefault(finding.path, {}).setdefault(finding.location.line, set()).add(
                finding.code
            )
    added, notes = 0, []
    for shown, lines in sorted(by_file.items()):
        path = Path(shown)
        try:
            data = path.read_bytes()
            before = decode_source(data)
        except (OSError, ValueError) as exc:
            notes.append(f"{shown}: no noqa added: {exc}")
            continue
        after, count, skipped = with_noqa(before, lines)
        notes.extend(
            f"{shown}:{n}: no noqa added: the line ends inside a string or a continuation"
            for n in skipped
        )
        if after != before:
            problem = write_back(FileFix(path, shown, before, after, data=data))
            if problem:
                notes.append(problem)
                continue
        added += count
    return added, notes


def with_noqa(text: str, wanted: dict[int, set[str]]) -> tuple[str, int, list[int]]:
    """``text`` with the codes of ``wanted`` (by 1-based line) in a noqa comment of each line."""
    lines = [m.group(0) for m in _LINE.finditer(text)][:-1] or [text]
    blocked, comments = _lines_that_cannot_end_in_a_comment(text)
    count, skipped = 0, []
    for number, codes in sorted(wanted.items()):
        if number > len(lines) or number in blocked:
            skipped.append(number)
            continue
        line = lines[number - 1]
        body = line.rstrip("\r\n")
        end = line[len(body) :]
        if body.rstrip().endswith("\\"):
            skipped.append(number)
            continue
        comment = comments.get(number)
        match = NOQA.search(comment[1]) if comment else None
        if match and match.group("codes"):
            at = comment[0] + match.end()
            body = body[:at] + ", " + ", ".join(sorted(codes)) + body[at:]
        elif match:
            continue  # a bare noqa already covers the line
        else:
            body = body.rstrip() + "  # noqa: " + ", ".join(sorted(codes))
        lines[number - 1] = body + end
        count += 1
    return "".join(lines), count, skipped


def _lines_that_cannot_end_in_a_comment(text: str) -> tuple[set[int], dict[int, tuple[int, str]]]:
    """Lines inside a multi-line string, and each line's comment."""
    blocked: set[int] = set()
    comments: dict[int, tuple[int, str]] = {}
    try:
        for token in tokenize.generate_tokens(io.StringIO(text).readline):
            if token.type == tokenize.STRING and token.end[0] > token.start[0]:
                blocked.update(range(token.start[0], token.end[0]))
            elif token.type == tokenize.COMMENT:
                comments[token.start[0]] = (token.start[1], token.string)
    except (tokenize.TokenError, SyntaxError):
        pass
    return blocked, comments
