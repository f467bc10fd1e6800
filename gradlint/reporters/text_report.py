"""``path:line:col: CODE message``, as compilers and ruff print it."""

from __future__ import annotations

from gradlint.diagnostics import Finding, ModelRecord, RunResult


def _where(finding: Finding) -> str:
    loc = finding.location
    if loc.node is not None:
        return f"{loc.path}:{loc.node}"
    if loc.cell is not None:
        return f"{loc.path}:cell {loc.cell}:{loc.line}:{loc.column}"
    return f"{loc.path}:{loc.line}:{loc.column}"


def _model_line(model: ModelRecord) -> str:
    ratio = model.log10_grad_ratio
    if ratio is None:
        estimate = "gradient ratio unknown (something on the path could not be resolved)"
    else:
        estimate = f"log10 gradient ratio {ratio:+.1f} (first weight / last weight: {10.0 ** ratio:.1g})"
    depth = "?" if model.depth is None else str(model.depth)
    where = f"{model.path}:{model.line}" if model.line is not None else model.path
    if model.line is not None and model.extra.get("cell") is not None:
        where = f"{model.path}:cell {model.extra['cell']}:{model.line}"
    return f"{where}: model {model.name}: depth {depth}, {estimate}"


def render(result: RunResult, context) -> str:
    lines = [f"{_where(f)}: {f.code} {f.message}" for f in result.findings]
    if context.show_models and result.models:
        if lines:
            lines.append("")
        lines.extend(_model_line(m) for m in result.models)
    count = len(result.findings)
    summary = f"Found {count} finding{'s' if count != 1 else ''} in {result.files_checked} file{'s' if result.files_checked != 1 else ''} checked"
    if result.errors:
        summary += f"; {len(result.errors)} file{'s' if len(result.errors) != 1 else ''} could not be checked"
    if not count and not result.errors:
        summary = f"All checks passed ({result.files_checked} file{'s' if result.files_checked != 1 else ''} checked)"
    lines.append(summary + ".")
    return "\n".join(lines) + "\n"
