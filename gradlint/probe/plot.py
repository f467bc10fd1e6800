"""The gradient-flow chart: mean and max |grad| per weight, input side on the left, log scale."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def plot_grad_flow(doc: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    weights = [r for r in doc["layers"] if r["kind"] == "weight"]
    names = [r["name"] for r in weights]
    # A zero (dead) gradient has no place on a log axis: it is marked a decade below the
    # smallest measured one, with its flag saying why, instead of a bar.
    measured = [v for r in weights for v in (r["grad_mean_abs"], r["grad_max_abs"]) if v]
    floor = min(measured) / 10 if measured else 1e-12
    positions = list(range(len(weights)))
    live = [i for i, r in enumerate(weights) if r["grad_max_abs"]]
    gone = [i for i, r in enumerate(weights) if not r["grad_max_abs"]]
    fig, ax = plt.subplots(figsize=(max(6.0, 0.35 * len(weights) + 2.5), 4.8), layout="constrained")
    ax.bar(live, [weights[i]["grad_max_abs"] for i in live], color="#8fb8de", label="max |grad|")
    ax.bar(
        live,
        [weights[i]["grad_mean_abs"] for i in live],
        color="#1f4e79",
        width=0.5,
        label="mean |grad|",
    )
    if gone:
        ax.scatter(
            gone, [floor] * len(gone), marker="x", color="#b00020", zorder=3, label="no gradient"
        )
    for i, row in enumerate(weights):
        if row["flags"]:
            top = row["grad_max_abs"] or floor
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
    ax.set_ylabel("|gradient| (log scale)")
    ax.set_xlabel("weight (input side left)")
    ratio = doc["log10_grad_ratio"]
    ratio_text = "n/a" if ratio is None else f"{ratio:+.2f}"
    ax.set_title(
        f"Gradient flow: {doc['model_class']} on {doc['device']}\nlog10 first/last gradient RMS ratio {ratio_text}",
        fontsize=10,
    )
    ax.grid(axis="y", which="major", alpha=0.3)
    ax.legend(loc="best", fontsize=8)
    fig.savefig(path, dpi=120)
    plt.close(fig)
