"""What the human-readable reports share: the models' estimates and the closing line."""

from __future__ import annotations

from gradlint.diagnostics import Finding, ModelRecord, RunResult
from gradlint.reporters.style import Style


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'s' if count != 1 else ''}"


def model_line(model: ModelRecord) -> str:
    ratio = model.log10_grad_ratio
    if ratio is None:
        why = model.extra.get("blocked") or "something on the path could not be resolved"
        estimate = f"gradient ratio unknown ({why})"
    else:
        estimate = f"log10 gradient ratio {ratio:+.1f} (first weight / last weight: {10.0 ** ratio:.1g})"
        spread = model.extra.get("stand_in_estimates")
        if spread:
            names = ", ".join(model.extra.get("depends_on") or ())
            estimate += f", between {spread[0]:+.1f} and {spread[1]:+.1f} as {names} vary"
        if model.extra.get("assumed_positions"):
            estimate += f", on sequences of {model.extra['assumed_positions']} positions (no input gives them)"
        if model.extra.get("assumed_input"):
            shape = ", ".join(map(str, model.extra["assumed_input"]))
            estimate += f", on an input of ({shape}): {model.extra['assumed_input_from']} (no example input gives one)"
    depth = "?" if model.depth is None else str(model.depth)
    where = f"{model.path}:{model.line}" if model.line is not None else model.path
    if model.line is not None and model.extra.get("cell") is not None:
        where = f"{model.path}:cell {model.extra['cell']}:{model.line}"
    built = model.extra.get("built_with")
    # "GPTConfig() defaults" reads "with ...", a build elsewhere "as train.py builds it"
    built = (f" ({built})" if built.startswith("as ") else f" (with {built})") if built else ""
    return f"{where}: model {model.name}{built}: depth {depth}, {estimate}"


def model_lines(result: RunResult, context) -> list[str]:
    if not (context.show_models and result.models):
        return []
    return [model_line(m) for m in result.models]


def fix_mark(finding: Finding) -> str:
    """``[*] `` before the message of a finding that ``--fix`` repairs, as ruff marks it."""
    return "[*] " if finding.fix is not None else ""


def fix_lines(result: RunResult) -> list[str]:
    """How many findings ``--fix`` (or ``--unsafe-fixes``) would repair."""
    fixable = sum(1 for f in result.findings if f.fix is not None)
    lines = [f"[*] {fixable} fixable with the `--fix` option."] if fixable and result.fixed is None else []
    if result.hidden_fixes:
        lines.append(f"{_plural(result.hidden_fixes, 'hidden fix').replace('fixs', 'fixes')} can be "
                     "enabled with the `--unsafe-fixes` option.")
    return lines


def summary_line(result: RunResult, style: Style) -> str:
    checked = _plural(result.files_checked, "file")
    count = len(result.findings)
    if result.fixed is not None and (count or result.fixed):  # with --fix, as ruff says it
        return f"Found {_plural(count + result.fixed, 'error')} ({result.fixed} fixed, {count} remaining)."
    if not count and not result.errors:
        return style(f"All checks passed ({checked} checked).", "green")
    summary = f"Found {_plural(count, 'finding')} in {checked} checked"
    if result.errors:
        summary += f"; {_plural(len(result.errors), 'file')} could not be checked"
    return summary + "."


def close(body: list[str], result: RunResult, context) -> str:
    """The report's lines, the models' estimates after a blank line, then the summary
    (left out with ``--quiet``)."""
    lines = list(body)
    models = model_lines(result, context)
    if models:
        if lines and lines[-1] != "":
            lines.append("")
        lines.extend(models)
    if not context.quiet:
        lines.append(summary_line(result, Style(context.color)))
        lines.extend(fix_lines(result))
    while lines and lines[-1] == "":
        lines.pop()
    return "\n".join(lines) + ("\n" if lines else "")
