"""Mechanical repairs of findings (``gradlint check --fix``), one module per kind of fix.

A rule names its fix module (``Rule.fix``) and the fix's safety (``Rule.fix_safety``);
each module has ``repair(tree, finding) -> Fix | None``, where ``tree`` is the file's
one parse (``FixTree``). ``fixes_for`` is the whole interface the command line and the
language server use.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable

from gradlint.diagnostics import Edit, Finding, Fix, FixSafety
from gradlint.rule import rule_by_code_or_name

__all__ = ["fix_declared", "fix_pairs", "fixes_for", "make_fix"]


def fix_declared(code: str) -> tuple[str, FixSafety] | None:
    """(fix module, declared safety) of a rule, or None when it has no fix."""
    cls = rule_by_code_or_name(code)
    if cls is None or cls.fix is None:
        return None
    return cls.fix, cls.fix_safety


def fixes_for(path: str, source_text: str, findings: Iterable[Finding]) -> list[Fix]:
    """The fix of each finding of ``path`` that has one, in the findings' order.

    ``Fix.edits`` are ranges of ``source_text`` (1-based lines and columns, in characters,
    the end exclusive) and their replacements; ``Fix.safety`` says whether it applies
    without ``--unsafe-fixes``."""
    return [fix for _, fix in fix_pairs(path, source_text, findings)]


def fix_pairs(
    path: str, source_text: str, findings: Iterable[Finding]
) -> list[tuple[Finding, Fix]]:
    """Each finding of ``path`` that has a fix, with its fix.

    Every fix is made against ``source_text`` as given: two fixes may overlap, and the
    caller applies them one at a time (``gradlint.fixes.apply``). A text libcst cannot
    parse gets no fix.
    """
    wanted = [(f, fix_declared(f.code)) for f in findings if f.path == path]
    wanted = [(f, d) for f, d in wanted if d is not None]
    if not wanted:
        return []
    from gradlint.fixes._tree import FixTree

    try:
        tree = FixTree(path, source_text)
    except Exception:  # noqa: BLE001 (libcst's parser errors share no base class)
        return []
    fixes = []
    for finding, (module_name, _) in wanted:
        module = importlib.import_module(f"gradlint.fixes.{module_name}")
        try:
            fix = module.repair(tree, finding)
        except Exception:  # noqa: BLE001 (a transform that trips on odd code offers no fix; the tests
            # hold every declared fix to its examples, so a broken one still fails there)
            fix = None
        if fix is not None:
            fixes.append((finding, fix))
    return fixes


def make_fix(
    finding: Finding,
    description: str,
    edits: Iterable[Edit] | None,
    safety: FixSafety | None = None,
) -> Fix | None:
    """A fix of ``finding`` with its rule's declared safety, or ``safety`` when the case
    is less safe than the rule's usual one; None without edits (a transform that gave up)."""
    if edits is None:
        return None
    declared = fix_declared(finding.code)
    base = declared[1] if declared else "unsafe"
    chosen = "unsafe" if "unsafe" in (base, safety) else "safe"
    return Fix(finding.code, description, chosen, tuple(edits), finding.path)
