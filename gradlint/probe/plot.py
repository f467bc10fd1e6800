"""The gradient-flow chart: the RMS gradient of each weight (the table's statistic), input side
on the left, log scale, with the verdicts' thresholds and the static estimate beside it.

The ratio in the title is the shared definition's, and the title names its two weights: the
first weight with a nonzero gradient and the last weight, which are the first and the last of
the table only while no weight is dead.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any


def _ends(weights: list[dict[str, Any]]) -> tuple[int | None, int | None]:
    """Positions of the ratio's two weights: the first with a nonzero gradient, the last."""
    if not weights:
        return None, None
    first = next((i for i, r in enumerate(weights) if r["grad_rms"]), None)
    return first, len(weights) - 1


def title_of(doc: dict[str, Any]) -> str:
    weights = [r for r in doc["layers"] if r["kind"] == "weight"]
    first, last = _ends(weights)
    ratio = doc["log10_grad_ratio"]
    head = f"Gradient flow: {doc['model_class']} on {doc['device']}"
    if first is None or last is None or ratio is None:
        return f"{head}\nlog10 RMS gradient ratio n/a (the last weight got no gradient)"
    pair = f"{weights[first]['name']} / {weights[last]['name']}"
    skipped = f", {first} dead weight(s) before it" if first else ""
    static = doc.get("static_log10_grad_ratio")
    static_text = f", static estimate {static:+.2f}" if static is not None else ""
    return f"{head}\nlog10 RMS gradient {pair} = {ratio:+.2f}{skipped}{static_text}"


def plot_grad_flow(doc: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    weights = [r for r in doc["layers"] if r["kind"] == "weight"]
    names = [r["name"] for r in weights]
    # A zero (dead) gradient has no place on a log axis: it is marked a decade below the
    # smallest measured one, with its flag saying why, instead of a bar.
    measured = [r["grad_rms"] for r in weights if r["grad_rms"]]
    floor = min(measured) / 10 if measured else 1e-12
    positions = list(range(len(weights)))
    live = [i for i, r in enumerate(weights) if r["grad_rms"]]
    gone = [i for i, r in enumerate(weights) if not r["grad_rms"]]
    fig, ax = plt.subplots(figsize=(max(6.0, 0.35 * len(weights) + 2.5), 4.8), layout="constrained")
    ax.bar(live, [weights[i]["grad_rms"] for i in live], color="#1f4e79", label="RMS gradient")
    if gone:
        ax.scatter(
            gone, [floor] * len(gone), marker="x", color="#b00020", zorder=3, label="no gradient"
        )
    _first, last = _ends(weights)
    last_rms = weights[last]["grad_rms"] if last is not None else None
    limits = doc.get("thresholds") or {}
    if last_rms:
        # the verdicts judge first/last against these ratios: drawn where the first would sit
        for key, style, label in (
            ("vanishing_ratio", ":", "vanishing below"),
            ("exploding_ratio", "--", "exploding above"),
        ):
            if limits.get(key):
                ax.axhline(last_rms * limits[key], ls=style, color="#555555", lw=1,
                           label=f"{label} (×{limits[key]:g} of the last)")
        static = doc.get("static_log10_grad_ratio")
        if static is not None and weights:
            ax.scatter([0], [last_rms * 10.0**static], marker="D", color="#e08000", zorder=4,
                       label="static estimate (first weight)")
    for i, row in enumerate(weights):
        if row["flags"]:
            top = row["grad_rms"] or floor
            ax.annotate(
                ",".join(row["flags"]),
                (i, top),
                xytext=(0, 6),
                textcoords="offset points",
                rotation=90,
                fontsize=7,
                color="#b00020",
                ha="center",
                va="bottom",
            )
    ax.set_yscale("log")
    ax.set_ylim(bottom=floor / 3)
    ax.set_xticks(positions)
    ax.set_xticklabels(names, rotation=60, ha="right", fontsize=7 if len(names) > 20 else 8)
    ax.set_xlim(-0.75, len(weights) - 0.25)
    ax.set_ylabel("RMS gradient (log scale)")
    ax.set_xlabel("weight (input side left)")
    ax.set_title(title_of(doc), fontsize=10)
    ax.grid(axis="y", which="major", alpha=0.3)
    ax.legend(loc="best", fontsize=8)
    fig.savefig(path, dpi=120)
    plt.close(fig)
