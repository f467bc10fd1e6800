"""``# noqa`` comments, applied once for every rule, and the ones that suppress nothing."""

from __future__ import annotations

import io
import re
import tokenize
from dataclasses import dataclass, field

from gradlint.diagnostics import Finding, Location

NOQA = re.compile(
    r"#\s*noqa(?::[\s]?(?P<codes>[A-Z]+[0-9]*(?:[\s,]+[A-Z]+[0-9]*)*))?",
    re.IGNORECASE,
)
FILE_NOQA = re.compile(
    r"#\s*gradlint:\s*noqa(?::[\s]?(?P<codes>[A-Z]+[0-9]*(?:[\s,]+[A-Z]+[0-9]*)*))?\s*$",
    re.IGNORECASE,
)
UNUSED_NOQA_CODE = "GL001"
UNUSED_NOQA_NAME = "unused-noqa"


@dataclass
class NoqaComment:
    line: int
    column: int  # 1-based column of the '#'
    end_column: int
    codes: list[str] | None  # None: a bare ``# noqa``
    used: set[str] = field(default_factory=set)
    used_bare: bool = False


@dataclass
class Suppressions:
    by_line: dict[int, NoqaComment] = field(default_factory=dict)
    file_codes: list[str] | None = None  # set by ``# gradlint: noqa: GL1``
    file_all: bool = False  # a bare ``# gradlint: noqa``


def _split_codes(raw: str | None) -> list[str] | None:
    if raw is None:
        return None
    return [c.upper() for c in re.split(r"[\s,]+", raw.strip()) if c]


def _comments(text: str) -> list[tuple[int, int, str]]:
    try:
        tokens = tokenize.generate_tokens(io.StringIO(text).readline)
        return [(t.start[0], t.start[1], t.string) for t in tokens if t.type == tokenize.COMMENT]
    except (tokenize.TokenError, SyntaxError, IndentationError):
        found = []
        for number, line in enumerate(text.splitlines(), 1):
            index = line.find("#")
            if index >= 0:
                found.append((number, index, line[index:]))
        return found


def parse_suppressions(text: str) -> Suppressions:
    result = Suppressions()
    if "noqa" not in text and "NOQA" not in text:
        return result
    for line, col, comment in _comments(text):
        file_match = FILE_NOQA.search(comment)
        if file_match:
            codes = _split_codes(file_match.group("codes"))
            if codes is None:
                result.file_all = True
            else:
                result.file_codes = (result.file_codes or []) + codes
            continue
        match = NOQA.search(comment)
        if match:
            result.by_line[line] = NoqaComment(
                line=line,
                column=col + match.start() + 1,
                end_column=col + match.end() + 1,
                codes=_split_codes(match.group("codes")),
            )
    return result


def file_is_skipped(text: str) -> bool:
    """True when a bare ``# gradlint: noqa`` switches the whole file off."""
    if "gradlint" not in text:
        return False
    return parse_suppressions(text).file_all


def _covered(code: str, codes: list[str]) -> str | None:
    for c in codes:
        if code.startswith(c):
            return c
    return None


def apply_suppressions(
    findings: list[Finding],
    suppressions: Suppressions,
    path: str,
    report_unused: bool,
    enabled_codes: set[str],
) -> list[Finding]:
    """Drop suppressed findings; add a GL001 for each ``# noqa: GLxxx`` code that suppressed nothing."""
    if suppressions.file_all:
        return []
    kept: list[Finding] = []
    for finding in findings:
        if suppressions.file_codes and _covered(finding.code, suppressions.file_codes):
            continue
        comment = suppressions.by_line.get(finding.location.line or -1)
        if comment is not None:
            if comment.codes is None:
                comment.used_bare = True
                continue
            hit = _covered(finding.code, comment.codes)
            if hit:
                comment.used.add(hit)
                continue
        kept.append(finding)
    if report_unused:
        for comment in suppressions.by_line.values():
            if comment.codes is None:
                continue
            unused = [
                c
                for c in comment.codes
                if c.startswith("GL") and c not in comment.used
                and any(e.startswith(c) for e in enabled_codes)
            ]
            if unused:
                kept.append(
                    Finding(
                        code=UNUSED_NOQA_CODE,
                        name=UNUSED_NOQA_NAME,
                        severity="warning",
                        message=f"unused `noqa` directive: {', '.join(unused)} reported nothing on this line",
                        location=Location(path, comment.line, comment.column, comment.line, comment.end_column),
                    )
                )
    return kept
