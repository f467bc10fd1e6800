"""Fixing a text the way ``--fix`` does, for the tests: check, fix, re-check, in memory."""

from __future__ import annotations

import io
import tokenize
from collections import Counter
from pathlib import Path

from gradlint.config import Config
from gradlint.engine import Checker, check_python
from gradlint.fixes.apply import FixPolicy
from gradlint.fixes.session import fix_text


def checker(select=("ALL",)) -> Checker:
    return Checker.from_config(Config(select=list(select)))


def findings_of(path: Path, text: str, chk: Checker):
    result = check_python(path, str(path), chk, text=text)
    assert not result.errors, result.errors
    return result.findings


def fix_in_memory(path: Path, text: str, chk: Checker, unsafe: bool = True):
    """(fixed text, fixes applied, findings before, findings after)."""
    before = findings_of(path, text, chk)

    def recheck(new: str):
        result = check_python(path, str(path), chk, text=new)
        return None if result.errors else result.findings

    after_text, applied, _ = fix_text(str(path), text, before, FixPolicy(unsafe=unsafe), recheck)
    after = findings_of(path, after_text, chk) if after_text != text else before
    return after_text, applied, before, after


def comments(text: str) -> Counter:
    tokens = tokenize.generate_tokens(io.StringIO(text).readline)
    return Counter(t.string for t in tokens if t.type == tokenize.COMMENT)
