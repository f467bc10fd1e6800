"""The probe's report: one JSON document per target, and its terminal rendering."""

from __future__ import annotations

from typing import Any


def document(
    target: str, request, measured: dict[str, Any], verdicts, findings, static_ratio, limits
) -> dict[str, Any]:
    layers = layer_rows(measured)
    return {
        "target": target,
        "model_class": measured["model_class"],
        "device": measured["device"],
        "device_name": measured["device_name"],
        "seed": request.seed,
        "loss": request.loss,
        "input": measured["input"],
        "loss_value": measured["loss"],
        "log10_grad_ratio": measured["log10_grad_ratio"],
        "static_log10_grad_ratio": static_ratio,
        "dead_params": measured["dead_params"],
        "frozen_params": measured["frozen_params"],
        "unregistered_params": measured.get("unregistered_params", []),
        "symmetric_weights": measured.get("symmetric_weights", []),
        "layers": layers,
        "verdicts": verdicts,
        "findings": findings,
        "thresholds": limits.to_json(),
        "healthy": not any(v["problem"] for v in verdicts),
    }


def layer_rows(measured: dict[str, Any]) -> list[dict[str, Any]]:
    """Weights and measured activations in module order, each activation after the layers before it."""
    order = {name: i for i, name in enumerate(["", *measured.get("module_names", [])])}
    rows = []
    for weight in measured["weights"]:
        flags = []
        if not weight["requires_grad"]:
            flags.append("frozen")
        elif weight["grad_missing"] or weight["grad_rms"] == 0:
            flags.append("no-grad")
        if weight["nonfinite"]:
            flags.append("non-finite")
        rows.append({**weight, "flags": flags})
    for act in measured["activations"]:
        rows.append({**act, "module": act["name"], "flags": []})
    rows.sort(key=lambda r: order.get(r["module"], len(order)))
    return rows


def mark_activation_flags(doc: dict[str, Any]) -> None:
    flagged = {
        name: v["name"]
        for v in doc["verdicts"]
        if v["name"] in ("dying-relu", "saturation")
        for name in v.get("names", [])
    }
    for row in doc["layers"]:
        if row["kind"] != "weight" and row["name"] in flagged:
            row["flags"].append(flagged[row["name"]])


def _e(value: float | None) -> str:
    return "-" if value is None else f"{value:.2e}"


def _ratio(value: float | None) -> str:
    return "n/a" if value is None else f"{value:+.2f}"


def render_text(doc: dict[str, Any]) -> str:
    out = [
        f"gradlint probe {doc['target']}: {doc['model_class']} on {doc['device']}"
        + (f" ({doc['device_name']})" if doc["device_name"] != "cpu" else "")
        + f", seed {doc['seed']}, loss {'mean(output**2)' if doc['loss'] == 'mse' else 'cross-entropy, random labels'}",
        f"input: {doc['input']}",
        "",
    ]
    header = ("layer", "type", "grad RMS", "weight RMS", "grad/weight", "dead/sat", "flags")
    table = []
    for row in doc["layers"]:
        if row["kind"] == "weight":
            table.append(
                (
                    row["name"],
                    row["module_type"],
                    _e(row["grad_rms"]),
                    _e(row["weight_rms"]),
                    _e(row["grad_to_weight"]),
                    "",
                    ",".join(row["flags"]),
                )
            )
        else:
            share = (
                "-"
                if row["fraction"] is None
                else f"{'dead' if row['kind'] == 'dying' else 'sat'} {row['fraction']:.0%}"
            )
            if row.get("dead_units") is not None:
                share += f", {row['dead_units']:.0%} of units"
            table.append(
                (row["name"], row["module_type"], "", "", "", share, ",".join(row["flags"]))
            )
    widths = [max(len(str(r[i])) for r in [header, *table]) for i in range(len(header))]
    for row in [header, *table]:
        out.append("  ".join(str(c).ljust(w) for c, w in zip(row, widths)).rstrip())
    out.append("")
    static = doc["static_log10_grad_ratio"]
    out.append(
        f"log10 grad ratio (first/last weight RMS): measured {_ratio(doc['log10_grad_ratio'])}, "
        f"static estimate {_ratio(static) if static is not None else 'none'}"
    )
    out.append(f"dead params: {', '.join(doc['dead_params']) or 'none'}")
    out.append(f"frozen params: {', '.join(doc['frozen_params']) or 'none'}")
    out.append("")
    out.append("verdicts:")
    for v in doc["verdicts"]:
        out.append(
            f"  {'PROBLEM' if v['problem'] else 'ok':<7}  {v['name']:<11} {v['detail']}  [{v['source']}]"
        )
    if doc["findings"]:
        out.append("")
        out.append("static findings on this model:")
        for f in doc["findings"]:
            out.append(f"  {f['path']}:{f['line']}: {f['code']} {f['message']}")
            out.append(
                f"      {'confirmed' if f['confirmed'] else 'not confirmed'}: {_measured(f['measured'])}"
            )
    out.append("")
    out.append("healthy" if doc["healthy"] else "problems found")
    return "\n".join(out) + "\n"


def _measured(measured: dict[str, Any]) -> str:
    if "symmetric_weights" in measured:
        symmetric = measured["symmetric_weights"]
        return (
            f"{len(symmetric)} weight(s) with identical units"
            + (f": {', '.join(symmetric[:6])}" if symmetric else "")
            + f"; {len(measured['dead_params'])} dead param(s)"
        )
    if "dead_params" in measured:
        dead = measured["dead_params"]
        named = measured["named_params"]
        return (
            f"{len(dead)} dead param(s)"
            + (f": {', '.join(dead[:6])}" if dead else "")
            + (f"; named: {', '.join(named[:6])}" if named else "")
        )
    if "direction" not in measured:  # GL102-GL105: the activation figure the rule predicts
        return ", ".join(
            f"{k.replace('_', ' ')} {'n/a' if v is None else f'{v:.0%}'}" for k, v in measured.items()
        )
    sign = "<" if measured["direction"] == "vanishing" else ">"
    return (
        f"measured log10 ratio {_ratio(measured['log10_grad_ratio'])}, {measured['direction']} threshold "
        f"{sign} {measured['log10_threshold']:+.2f} ({measured['threshold_source']})"
    )
