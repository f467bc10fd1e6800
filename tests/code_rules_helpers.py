"""Run the code rules on a snippet through the real engine."""

from __future__ import annotations

import textwrap

from gradlint.config import Config
from gradlint.engine import Checker, check_python


def findings(snippet: str, tmp_path, select: str, options: dict | None = None) -> list:
    path = tmp_path / "snippet.py"
    path.write_text(textwrap.dedent(snippet), encoding="utf-8")
    config = Config(select=[select], options=options or {})
    result = check_python(path, str(path), Checker.from_config(config))
    assert not result.errors, result.errors
    return result.findings


def lines(snippet: str, tmp_path, select: str, **kwargs) -> list[tuple[int, str]]:
    return sorted((f.location.line, f.code) for f in findings(snippet, tmp_path, select, **kwargs))
