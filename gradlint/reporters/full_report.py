"""Each finding with the source lines it points at, underlined, as ruff's default output shows it.

```
GL601 optimizer step in a loop that never clears gradients
 --> train.py:34:13
   |
33 |         loss.backward()
34 |         optimizer.step()
   |         ^^^^^^^^^^^^^^^^
   |
help: `gradlint rule GL601` explains it: https://…/rules/GL601.md
```
"""

from __future__ import annotations

import unicodedata

from gradlint.diagnostics import Finding, RunResult
from gradlint.docs import rule_url
from gradlint.reporters.source_lines import SourceLines
from gradlint.reporters.style import SEVERITY_STYLE, Style
from gradlint.reporters.summary import close, fix_mark

CONTEXT = 2  # lines shown before and after the flagged one
TAB = "    "


def _width(char: str) -> int:
    return 2 if unicodedata.east_asian_width(char) in ("W", "F") else 1


def _display(line: str) -> str:
    return line.replace("\t", TAB).rstrip()


def _offset(line: str, column: int) -> int:
    """Screen cells before the 1-based ``column`` of ``line``, tabs expanded."""
    return sum(len(TAB) if c == "\t" else _width(c) for c in line[: max(column - 1, 0)])


def _underline(line: str, finding: Finding) -> tuple[int, int]:
    """Where the carets start (screen cells) and how many there are: the finding's span on
    its first line, at least one."""
    loc = finding.location
    start = min(loc.column or 1, len(line.rstrip()) + 1)
    end = loc.end_column if loc.end_line == loc.line and loc.end_column else len(line.rstrip()) + 1
    end = max(min(end, len(line.rstrip()) + 1), start + 1)
    first = _offset(line, start)
    return first, max(_offset(line, end) - first, 1)


def _frame(finding: Finding, lines: SourceLines, style: Style) -> tuple[int, list[str]]:
    """The width of the line numbers' gutter, and the lines around the finding's: its one
    line underlined, or the lines of a longer span joined by a rule in the margin, as ruff
    draws them."""
    loc = finding.location
    source = lines.lines(loc.path, loc.cell)
    if loc.line is None or not 0 < loc.line <= len(source):
        return 1, []
    multi = loc.end_line is not None and loc.line < loc.end_line <= len(source) and loc.end_column is not None
    span_end = loc.end_line if multi else loc.line
    first = max(loc.line - CONTEXT, 1)
    last = min(span_end + CONTEXT, len(source))
    while first < loc.line and not source[first - 1].strip():
        first += 1
    while last > span_end and not source[last - 1].strip():
        last -= 1
    gutter = len(str(last))
    bar = style("|", "blue")
    blank = f"{' ' * gutter} {bar}"
    mark = SEVERITY_STYLE[finding.severity]
    out = [blank]
    for number in range(first, last + 1):
        raw = source[number - 1]
        margin = ""
        if multi:
            opens = number == loc.line and (loc.column or 1) <= len(raw) - len(raw.lstrip()) + 1
            inside = loc.line < number <= span_end
            margin = style("/", mark) + " " if opens else style("|", mark) + " " if inside else "  "
        text = margin + _display(raw)
        out.append(f"{style(str(number).rjust(gutter), 'blue')} {bar}{' ' + text.rstrip() if text.strip() else ''}")
        if not multi and number == loc.line:
            start, count = _underline(raw, finding)
            out.append(f"{blank} {' ' * start}{style('^' * count, mark)}")
        elif multi and number == loc.line and not opens:
            reach = _offset(raw, loc.column or 1)
            out.append(f"{blank}  {style('_' * (reach + 1) + '^', mark)}")
        elif multi and number == span_end:
            reach = max(_offset(raw, loc.end_column - 1), 0)
            out.append(f"{blank} {style('|' + '_' * (reach + 1) + '^', mark)}")
    out.append(blank)
    return gutter, out


def _finding(finding: Finding, lines: SourceLines, style: Style) -> list[str]:
    loc = finding.location
    where = ":".join([loc.path, *loc.places()])
    out = [f"{style(finding.code, SEVERITY_STYLE[finding.severity])} {fix_mark(finding)}{style(finding.message, 'bold')}"]
    gutter, frame = _frame(finding, lines, style)
    out.append(f"{' ' * gutter}{style('-->', 'blue')} {where}")
    out.extend(frame)
    if finding.fix is not None:
        out.append(f"{style('help:', 'cyan')} {finding.fix.description}")
    out.append(f"{style('help:', 'cyan')} `gradlint rule {finding.code}` explains it: {rule_url(finding.code)}")
    return out


def render(result: RunResult, context) -> str:
    style = Style(context.color)
    lines = SourceLines(context.sources)
    body: list[str] = []
    for finding in result.findings:
        body.extend(_finding(finding, lines, style))
        body.append("")
    return close(body, result, context)
