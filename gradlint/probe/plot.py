"""The gradient-flow chart: mean and max |grad| per weight, input side on the left, log scale."""

from __future__ import annotations

from pathlib import Path
from typing import Any

# Gradients below this are drawn at it, so zero (dead) layers stay visible on a log axis.
FLOOR = 1e-30


def plot_grad_flow(doc: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    weights = [r for r in doc["layers"] if r["kind"] == "weight"]
    names = [r["name"] for r in weights]
    means = [max(r["grad_mean_abs"] or 0.0, FLOOR) for r in weights]
    maxes = [max(r["grad_max_abs"] or 0.0, FLOOR) for r in weights]
    positions = range(len(weights))
    fig, ax = plt.subplots(figsize=(max(6.0, 0.35 * len(weights) + 2.5), 4.8), layout="constrained")
    ax.bar(positions, maxes, color="#8fb8de", label="max |grad|")
    ax.bar(positions, means, color="#1f4e79", width=0.5, label="mean |grad|")
    for i, row in enumerate(weights):
        if row["flags"]:
            ax.annotate(",".join(row["flags"]), (i, maxes[i]), rotation=90, fontsize=7, color="#b00020",
                        ha="center", va="bottom")
    ax.set_yscale("log")
    ax.set_xticks(list(positions))
    ax.set_xticklabels(names, rotation=60, ha="right", fontsize=7 if len(names) > 20 else 8)
    ax.set_xlim(-0.75, len(weights) - 0.25)
    ax.set_ylabel("|gradient| (log scale)")
    ax.set_xlabel("weight (input side left)")
    ratio = doc["log10_grad_ratio"]
    ratio_text = "n/a" if ratio is None else f"{ratio:+.2f}"
    ax.set_title(f"Gradient flow: {doc['model_class']} ({doc['device']}), log10 first/last RMS ratio {ratio_text}",
                 fontsize=10)
    ax.grid(axis="y", which="major", alpha=0.3)
    ax.legend(loc="best", fontsize=8)
    fig.savefig(path, dpi=120)
    plt.close(fig)
