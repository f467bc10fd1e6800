"""``# noqa`` comments, applied once for every rule, and the ones that suppress nothing."""

from __future__ import annotations

import re
import tokenize
from dataclasses import dataclass, field
from functools import partial

from gradlint.diagnostics import Finding, Location
from gradlint.reading import python_lines

# A code is letters then digits (GL601, GL6, E501): words after the list, as in
# ``# noqa: GL601 the loss applies softmax itself``, are explanation, not codes.
_CODES = r"(?P<codes>[A-Z]+[0-9]+(?:\s*,\s*[A-Z]+[0-9]+|\s+[A-Z]+[0-9]+)*)"
NOQA = re.compile(r"#\s*noqa(?:\s*:\s*" + _CODES + r")?", re.IGNORECASE)
FILE_NOQA = re.compile(r"#\s*gradlint\s*:\s*noqa(?:\s*:\s*" + _CODES + r")?\s*$", re.IGNORECASE)
UNUSED_NOQA_CODE = "GL001"
UNUSED_NOQA_NAME = "unused-noqa"
_GL_CODE = re.compile(r"GL[0-9]+$")


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
    lines = python_lines(text)
    # each line ends in "\n", as the tokenize module expects: it would take a lone "\r" for
    # part of the line, and its numbers must be the tree's
    fed = [line + "\n" for line in lines[:-1]]
    if lines[-1]:
        fed.append(lines[-1])
    try:
        tokens = tokenize.generate_tokens(partial(next, iter(fed), ""))
        return [(t.start[0], t.start[1], t.string) for t in tokens if t.type == tokenize.COMMENT]
    except (tokenize.TokenError, SyntaxError, IndentationError):
        found = []
        for number, line in enumerate(lines, 1):
            index = line.find("#")
            if index >= 0:
                found.append((number, index, line[index:]))
        return found


def parse_suppressions(text: str) -> Suppressions:
    result = Suppressions()
    if "noqa" not in text.lower():
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
    known_codes: set[str] = frozenset(),
) -> list[Finding]:
    """Drop suppressed findings; add a GL001 for each ``# noqa: GLxxx`` list with a code that
    suppressed nothing or that names no rule of ``known_codes``."""
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
    if report_unused and not _covered(UNUSED_NOQA_CODE, suppressions.file_codes or []):
        kept.extend(_unused(suppressions, path, enabled_codes, known_codes))
    return kept


def _unused(suppressions: Suppressions, path: str, enabled_codes: set[str], known_codes: set[str]) -> list[Finding]:
    """GL001 for each ``# noqa: ...`` list with gradlint codes that suppressed nothing or
    that no rule has (as ruff's RUF100 reports unused and unknown codes).

    Only gradlint's codes are judged (``E501`` belongs to another tool), and only those that
    could have fired: a disabled rule cannot prove its noqa stale.
    """
    found = []
    for comment in suppressions.by_line.values():
        if comment.codes is None:
            continue
        unknown = [
            c for c in comment.codes
            if known_codes and _GL_CODE.match(c) and not any(k.startswith(c) for k in known_codes)
        ]
        unused = [
            c
            for c in comment.codes
            if c.startswith("GL") and c not in comment.used and c not in unknown
            and any(e.startswith(c) for e in enabled_codes)
        ]
        parts = []
        if unused:
            parts.append(f"{', '.join(unused)} reported nothing on this line")
        if unknown:
            parts.append(f"{', '.join(unknown)} {'is no' if len(unknown) == 1 else 'are no'} gradlint code{'s' if len(unknown) > 1 else ''}")
        if parts:
            found.append(
                Finding(
                    code=UNUSED_NOQA_CODE,
                    name=UNUSED_NOQA_NAME,
                    severity="warning",
                    message=f"unused `noqa` directive: {'; '.join(parts)}",
                    location=Location(path, comment.line, comment.column, comment.line, comment.end_column),
                )
            )
    return found
