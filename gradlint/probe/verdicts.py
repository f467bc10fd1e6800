"""Verdicts on a measurement, each citing the threshold it applied and where it comes from."""

from __future__ import annotations

import math
from typing import Any

from gradlint.probe.settings import Thresholds

AUTOTRAINER = "AUTOTRAINER (Zhang et al., ICSE 2021)"
DEEPDIAGNOSIS = "DeepDiagnosis (Wardat et al., ICSE 2022)"


def _verdict(name: str, problem: bool, detail: str, source: str, **figures: Any) -> dict[str, Any]:
    return {"name": name, "problem": problem, "detail": detail, "source": source, **figures}


def _first_weight(measured: dict[str, Any]) -> dict[str, Any] | None:
    return next((w for w in measured["weights"] if w["grad_rms"]), None)


def judge(
    measured: dict[str, Any], limits: Thresholds, dead_params_fail: bool = True
) -> list[dict[str, Any]]:
    log10 = measured["log10_grad_ratio"]
    ratio = None if log10 is None else 10.0**log10
    first = _first_weight(measured)
    first_norm = first["grad_norm"] if first else None
    verdicts = []

    if ratio is None:
        # Both AUTOTRAINER checks read the ratio; without it they cannot judge.
        for name in ("vanishing", "exploding"):
            verdicts.append(
                _verdict(
                    name, False, "no gradient ratio (the last weight got no gradient)", AUTOTRAINER
                )
            )
    else:
        below = ratio < limits.vanishing_ratio
        small = first_norm is not None and first_norm < limits.vanishing_first_grad_norm
        verdicts.append(
            _verdict(
                "vanishing",
                below and small,
                f"ratio {ratio:.3g} {'<' if below else '>='} {limits.vanishing_ratio:g} and "
                f"first-layer grad norm {_g(first_norm)} {'<' if small else '>='} "
                f"{limits.vanishing_first_grad_norm:g}",
                AUTOTRAINER,
                ratio=ratio,
                first_grad_norm=first_norm,
                thresholds={
                    "ratio": limits.vanishing_ratio,
                    "first_grad_norm": limits.vanishing_first_grad_norm,
                },
            )
        )
        exploding = ratio > limits.exploding_ratio
        verdicts.append(
            _verdict(
                "exploding",
                exploding,
                f"ratio {ratio:.3g} {'>' if exploding else '<='} {limits.exploding_ratio:g}",
                AUTOTRAINER,
                ratio=ratio,
                thresholds={"ratio": limits.exploding_ratio},
            )
        )
    verdicts.append(
        _activation_verdict(
            measured,
            "dying",
            "dying-relu",
            limits.dying_relu_fraction,
            AUTOTRAINER,
            "of outputs are zero",
            at_least=True,
        )
    )
    verdicts.append(
        _activation_verdict(
            measured,
            "saturating",
            "saturation",
            limits.saturation_fraction,
            DEEPDIAGNOSIS,
            f"of inputs beyond +-{limits.saturation_input:g}",
            at_least=False,
        )
    )
    nonfinite = [w["name"] for w in measured["weights"] if w["nonfinite"]]
    loss = measured.get("loss")
    if loss is None or not math.isfinite(loss):  # the child writes a NaN or infinite loss as null
        nonfinite.insert(0, "loss")
    verdicts.append(
        _verdict(
            "non-finite",
            bool(nonfinite),
            f"NaN or infinite in: {', '.join(nonfinite)}"
            if nonfinite
            else "loss and every gradient finite",
            "gradlint",
            names=nonfinite,
        )
    )
    dead = measured["dead_params"]
    detail = (
        f"{len(dead)} trainable parameter(s) got no gradient: {_names(dead)}"
        if dead
        else "every trainable parameter got a gradient"
    )
    # Only the first output enters the loss: parameters feeding only the others are dead by
    # construction, not by a bug, so a model with several outputs gets a note, not a verdict.
    several_outputs = measured.get("output_tensors", 1) > 1
    if dead and several_outputs:
        detail += f" (the model returns {measured['output_tensors']} tensors and only the first enters the loss; not judged)"
    verdicts.append(
        _verdict(
            "dead-params",
            dead_params_fail and bool(dead) and not several_outputs,
            detail,
            "gradlint (shared definition of dead_params)",
            names=dead,
        )
    )
    verdicts.append(_unregistered_verdict(measured))
    if "float16" in measured:
        verdicts.append(_half_verdict(measured["float16"]))
    return verdicts


def _half_verdict(half: dict[str, Any]) -> dict[str, Any]:
    """Parameters whose every nonzero gradient entry is zero in a float16 pass without scaling."""
    if half.get("error"):
        return _verdict(
            "fp16-underflow", False, f"the float16 pass could not run: {half['error']}", "gradlint", names=[]
        )
    gone = [p["name"] for p in half["params"] if p["lost"] >= 1.0]
    partly = [p for p in half["params"] if p["lost"] < 1.0]
    if gone:
        detail = (
            f"{len(gone)} parameter(s) whose gradient underflows to zero in float16 without loss "
            f"scaling: {_names(gone)}; use torch.amp.GradScaler"
        )
    elif partly:
        worst = max(partly, key=lambda p: p["lost"])
        detail = f"no gradient lost entirely; worst {worst['name']} loses {worst['lost']:.0%} of its entries"
    else:
        detail = "no gradient entry underflows in float16"
    return _verdict("fp16-underflow", bool(gone), detail, "gradlint", names=gone)


def _unregistered_verdict(measured: dict[str, Any]) -> dict[str, Any]:
    """Leaves with requires_grad that the loss reached but model.parameters() lacks: a
    gradient is computed, the optimiser never applies it (GL701-GL703 seen at run time)."""
    found = measured.get("unregistered_params") or []
    names = [u["name"] for u in found]
    unheld = [u for u in found if u.get("outside") == "optimizer"]
    loose = [u for u in found if u.get("outside") != "optimizer"]
    parts = []
    if loose:
        count = sum(u["numel"] for u in loose)
        parts.append(
            f"{len(loose)} tensor(s), {count:,} values, get a gradient but are not in "
            "model.parameters(), so no optimiser built from it updates them: "
            f"{_names([u['name'] for u in loose])}"
        )
    if unheld:
        count = sum(u["numel"] for u in unheld)
        parts.append(
            f"{len(unheld)} parameter(s), {count:,} values, get a nonzero gradient but are in "
            "none of the optimiser's param groups, so step() never updates them: "
            f"{_names([u['name'] for u in unheld])}"
        )
    detail = "; ".join(parts) or "every leaf the loss reaches is in model.parameters()"
    return _verdict("unregistered-params", bool(found), detail, "gradlint", names=names)


def _activation_verdict(measured, kind, name, limit, source, what, at_least):
    modules = [
        a for a in measured["activations"] if a["kind"] == kind and a["fraction"] is not None
    ]
    if not modules:
        family = "ReLU" if kind == "dying" else "sigmoid/tanh"
        return _verdict(
            name, False, f"no {family} activation to measure", source, threshold=limit, names=[]
        )
    bad = [a for a in modules if (a["fraction"] >= limit if at_least else a["fraction"] > limit)]
    worst = max(modules, key=lambda a: a["fraction"])
    sign = ">=" if at_least else ">"
    if bad:
        listed = ", ".join(f"{a['name']} {a['fraction']:.0%}" for a in bad[:6]) + (
            " ..." if len(bad) > 6 else ""
        )
        detail = f"{len(bad)} of {len(modules)} module(s) with {sign} {limit:.0%} {what}: {listed}"
    else:
        detail = (
            f"worst {worst['name']} {worst['fraction']:.0%}; a problem at {sign} {limit:.0%} {what}"
        )
    return _verdict(
        name, bool(bad), detail, source, threshold=limit, names=[a["name"] for a in bad]
    )


def _g(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.3g}"


def _names(names: list[str], limit: int = 8) -> str:
    return ", ".join(names[:limit]) + (
        f" and {len(names) - limit} more" if len(names) > limit else ""
    )
