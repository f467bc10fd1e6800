"""What ``--fix``, ``--fix-only``, ``--diff``, ``--show-fixes``, ``--unsafe-fixes`` and
``--add-noqa`` do to a finished run, kept out of the command line's own module."""

from __future__ import annotations

import dataclasses
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import click

from gradlint.config import Config
from gradlint.diagnostics import Finding, RunResult
from gradlint.fixes.apply import FixPolicy


@dataclass
class FixOptions:
    fix: bool = False
    fix_only: bool = False
    diff: bool = False
    show_fixes: bool = False
    unsafe_fixes: bool = False
    add_noqa: bool = False

    @property
    def fixing(self) -> bool:
        return self.fix or self.fix_only or self.diff

    @classmethod
    def take(cls, settings: dict) -> FixOptions:
        """The fix options, taken out of the command's keyword arguments."""
        return cls(**{f.name: settings.pop(f.name) for f in dataclasses.fields(cls)})


_OPTIONS = (
    click.option("--fix", is_flag=True, help="Apply the safe fixes, then report what is left."),
    click.option("--unsafe-fixes", is_flag=True, help="Apply (or offer) the unsafe fixes too."),
    click.option("--fix-only", is_flag=True, help="Apply fixes; report nothing else."),
    click.option("--diff", is_flag=True, help="Print the fixes as a unified diff; write nothing."),
    click.option("--show-fixes", is_flag=True, help="List the fixes made."),
    click.option(
        "--add-noqa", is_flag=True, help="Write `# noqa: CODE` on the line of every finding."
    ),
)


def fix_options(command):
    for option in reversed(_OPTIONS):
        command = option(command)
    return command


def policy_of(config: Config, unsafe: bool) -> FixPolicy:
    fixes = getattr(config, "fixes", None) or {}
    return FixPolicy(
        unsafe=unsafe,
        fixable=fixes.get("fixable", ["ALL"]),
        unfixable=fixes.get("unfixable", []),
        extend_safe=fixes.get("extend-safe-fixes", []),
        extend_unsafe=fixes.get("extend-unsafe-fixes", []),
    )


class PerFile:
    """Each file's configuration (a run may hold several), its checker and its fix policy."""

    def __init__(self, settings, unsafe: bool) -> None:
        from gradlint.resolve import Resolver

        self.resolver = Resolver.of(settings)
        self.unsafe = unsafe
        self._checkers: dict[int, object] = {}

    def config(self, shown: str) -> Config:
        return self.resolver.config_for(Path(shown), is_dir=False)

    def policy(self, shown: str) -> FixPolicy:
        return policy_of(self.config(shown), self.unsafe)

    def recheck(self, path: Path, shown: str, text: str) -> list[Finding] | None:
        from gradlint.engine import Checker, check_python

        config = self.config(shown)
        checker = self._checkers.setdefault(id(config), Checker(config))
        result = check_python(path, shown, checker, text=text)
        return None if result.errors else result.findings


@dataclass
class FixReport:
    """What the command line prints besides the report: diffs, notes, the list of fixes."""

    stdout: str = ""
    notes: tuple[str, ...] = ()
    changed: int = 0  # files changed (or that would change, with --diff)


def apply_fix_options(
    outcome: RunResult, settings, options: FixOptions, mark: bool = True
) -> FixReport:
    """Fix, or mark what is fixable (``[*]``, when ``mark``), and return what to print besides
    the report. ``settings``: the run's Config, or the Resolver of each file's."""
    files = PerFile(settings, options.unsafe_fixes)
    if options.add_noqa:
        from gradlint.fixes.noqa import add_noqa

        count, notes = add_noqa(outcome.findings)
        return FixReport(
            stdout=f"Added {count} noqa directive{'s' if count != 1 else ''}.\n", notes=tuple(notes)
        )
    if not options.fixing:
        if mark:
            _mark_fixable(outcome, files)
        else:
            _without_fixes(outcome)
        return FixReport()
    from gradlint.fixes.session import fix_files, unified_diff, write_back

    results = fix_files(outcome.findings, files.policy, files.recheck)
    notes, diffs, fixed = [], [], []
    changed = 0
    for result in results:
        if result.problem:
            notes.append(f"{result.shown}: {result.problem}")
            continue
        if not result.changed:
            continue
        if options.diff:
            diffs.append(unified_diff(result))
        else:
            problem = write_back(result)
            if problem:
                notes.append(problem)
                continue
        changed += 1
        fixed.extend(result.applied)
        outcome.findings = [
            f for f in outcome.findings if f.path != result.shown
        ] + result.remaining
    outcome.findings.sort(key=Finding.sort_key)
    outcome.fixed = len(fixed)
    if mark:
        _mark_fixable(outcome, files)
    else:
        _without_fixes(outcome)
    stdout = "".join(diffs)
    if options.show_fixes or options.fix_only or options.diff:
        stdout += _fixed_summary(fixed, options.diff)
    return FixReport(stdout=stdout, notes=tuple(notes), changed=changed)


def _mark_fixable(outcome: RunResult, files: PerFile) -> None:
    """Keep on each finding the fix (``[*]``) that a fix allowed in this run would apply; the
    check made each finding's fix with the file at hand, and cached it."""
    hidden = 0
    marked = []
    for finding in outcome.findings:
        fix = finding.fix
        if fix is not None:
            policy = files.policy(finding.path)
            if not policy.allows(fix):
                if policy.allows(dataclasses.replace(fix, safety="safe")):
                    hidden += 1
                fix = None
        marked.append(finding if fix is finding.fix else dataclasses.replace(finding, fix=fix))
    outcome.findings = marked
    outcome.hidden_fixes = hidden


def _without_fixes(outcome: RunResult) -> None:
    """Reports that show no ``[*]`` (JSON, SARIF, GitHub, standard input) carry no fix."""
    outcome.findings = [
        dataclasses.replace(f, fix=None) if f.fix is not None else f for f in outcome.findings
    ]


def _fixed_summary(fixed, diff: bool) -> str:
    if not fixed:
        return "No errors would be fixed.\n" if diff else "No errors fixed.\n"
    verb = "Would fix" if diff else "Fixed"
    lines = [f"{verb} {len(fixed)} error{'s' if len(fixed) != 1 else ''}:"]
    by_file: dict[str, Counter] = {}
    for fix in fixed:
        by_file.setdefault(fix.path, Counter())[(fix.code, fix.description)] += 1
    for path in sorted(by_file):
        lines.append(f"- {path}:")
        for (code, description), count in sorted(by_file[path].items()):
            lines.append(f"    {count} × {code}: {description}")
    return "\n".join(lines) + "\n"
