"""``--statistics``: how many findings of each code, as ``ruff check --statistics`` counts them."""

from __future__ import annotations

import json
from collections import Counter

from gradlint.diagnostics import RunResult
from gradlint.reporters.style import SEVERITY_STYLE, Style
from gradlint.reporters.summary import close


def _rows(result: RunResult) -> list[dict]:
    counts = Counter(f.code for f in result.findings)
    fixes = Counter(f.code for f in result.findings if f.fix is not None)
    first = {}
    for f in result.findings:
        first.setdefault(f.code, f)
    # the most frequent first, as ruff sorts them; the code breaks ties
    order = sorted(counts, key=lambda code: (-counts[code], code))
    return [
        {"code": code, "name": first[code].name, "count": counts[code],
         "fixable": fixes[code] == counts[code], "fixable_count": fixes[code],
         "severity": first[code].severity}
        for code in order
    ]


def render(result: RunResult, context, fmt: str) -> str:
    rows = _rows(result)
    if fmt == "json":
        keep = ("code", "name", "count", "fixable")
        return json.dumps([{k: row[k] for k in keep} for row in rows], indent=2) + "\n"
    style = Style(context.color)
    any_fix = any(row["fixable_count"] for row in rows)
    count_width = max((len(str(row["count"])) for row in rows), default=1)
    code_width = max((len(row["code"]) for row in rows), default=1)
    body = []
    for row in rows:
        marker = ""
        if any_fix:
            marker = "[*] " if row["fixable"] else "[-] " if row["fixable_count"] else "[ ] "
        code = style(row["code"].ljust(code_width), SEVERITY_STYLE[row["severity"]])
        body.append(f"{str(row['count']).rjust(count_width)}\t{code}\t{marker}{row['name']}")
    return close(body, result, context)
