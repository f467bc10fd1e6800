"""``path:line:col: CODE message``, one line per finding, as compilers and ruff's concise output print it."""

from __future__ import annotations

from gradlint.diagnostics import Finding, RunResult
from gradlint.reporters.style import SEVERITY_STYLE, Style
from gradlint.reporters.summary import close, fix_mark


def where(finding: Finding, style: Style) -> str:
    loc = finding.location
    colon = style(":", "cyan")
    return colon.join([style(loc.path, "bold"), *loc.places()])


def render(result: RunResult, context) -> str:
    style = Style(context.color)
    body = [
        f"{where(f, style)}{style(':', 'cyan')} {style(f.code, SEVERITY_STYLE[f.severity])} {fix_mark(f)}{f.message}"
        for f in result.findings
    ]
    return close(body, result, context)
