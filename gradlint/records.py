"""The record of one model in a report: what the gain model says about it."""

from __future__ import annotations

from gradlint.diagnostics import ModelRecord
from gradlint.gain import attention, estimate
from gradlint.ir import LayerGraph

# How far apart (in decades) the estimates of one model built with two sets of stand-in
# values may lie for the estimate to be reported as independent of them.
STAND_IN_TOLERANCE = 0.05
# Builds on stand-ins whose width ratios differ eightfold (``arguments._WIDTHS``) that lie at
# most this far apart: the estimate is their midpoint, reported with both and what it depends
# on. The widths a real model picks (a 4x hidden layer, heads x head size = dim) lie within
# such a span, so the midpoint misses theirs by about half this.
BOUNDED_SPREAD = 0.5


def model_record(graph: LayerGraph) -> ModelRecord:
    found = estimate(graph)
    ratio = found.log10_grad_ratio
    extra: dict = {
        "weights": len(graph.weighted()),
        "complete": graph.complete and found.known,
        "source": graph.source,
    }
    built_with = graph.attrs.get("built_with")
    if built_with:
        extra["built_with"] = built_with
    if ratio is not None and attention.mixes_unknown_positions(graph):
        # no input gives the sequence length attention mixes over: gradlint probe's is taken
        extra["assumed_positions"] = attention.PROBE_SEQUENCE
    if ratio is not None and graph.attrs.get("assume_input"):
        # no input gives the samples a table sums over: the input the probe would make is taken
        extra["assumed_input"] = list(graph.attrs["stated_input"])
        extra["assumed_input_from"] = graph.attrs["stated_by"]
    withheld = ratio is not None  # known for the first build: withheld only if it follows a stand-in
    ratio = _independent_of_stand_ins(graph, ratio, extra)
    if ratio is None:
        extra["blocked"] = blocked(graph, found.unknown or found.ratio_unknown, withheld)
    return ModelRecord(
        path=graph.location.path,
        line=graph.location.line,
        name=graph.name,
        depth=depth(graph),
        log10_grad_ratio=round(ratio, 3) if ratio is not None else None,
        extra=extra,
    )


def _independent_of_stand_ins(graph: LayerGraph, ratio: float | None, extra: dict) -> float | None:
    """A model built from stand-in values for constructor arguments nothing passes (widths,
    head counts) keeps its estimate when a second build, with other stand-ins, gives the same
    one: then the unknowns cancel out of the ratio. Otherwise the record names them, and the
    estimate is the builds' midpoint where they lie within ``BOUNDED_SPREAD``. A layer count
    among the unknowns adds a third build ``arguments.DEEP_COUNT`` layers deep, and all three
    must lie so: the ratio of a plain stack grows with depth without bound."""
    stand_ins = graph.attrs.get("stand_ins")
    if not stand_ins or ratio is None:
        return ratio
    extra["stand_ins"] = sorted(stand_ins)
    counts = graph.attrs.get("counts")
    others = [graph.attrs.get("stand_in_twin")] + ([graph.attrs.get("deep_twin")] if counts else [])
    found = [estimate(other).log10_grad_ratio if other is not None else None for other in others]
    if not counts and found[0] is not None and abs(found[0] - ratio) <= STAND_IN_TOLERANCE:
        return ratio
    extra["depends_on"] = sorted(counts) if counts else sorted(stand_ins)
    if None in found:
        return None
    low, high = min(ratio, *found), max(ratio, *found)
    extra["stand_in_estimates"] = [round(low, 3), round(high, 3)]  # what the unknowns move it by
    if high - low > BOUNDED_SPREAD:
        return None
    extra["depends_on"] = sorted(stand_ins)
    return (low + high) / 2


def within_spread(graph: LayerGraph, twin: LayerGraph) -> bool:
    """Whether two builds of a model on stand-ins give estimates ``BOUNDED_SPREAD`` apart at most."""
    ratios = estimate(graph).log10_grad_ratio, estimate(twin).log10_grad_ratio
    return None not in ratios and abs(ratios[0] - ratios[1]) <= BOUNDED_SPREAD


def blocked(graph: LayerGraph, why: str | None, withheld: bool = True) -> str:
    """The first construct that kept the model's estimate unknown, with its line where known;
    ``withheld``: the first build has an estimate, so stand-ins are what keep it unknown."""
    reasons = graph.attrs.get("unknown") or []
    if graph.attrs.get("stand_ins") and graph.complete and why is None and withheld:
        names = ", ".join(sorted(graph.attrs.get("counts") or graph.attrs["stand_ins"]))
        return f"the estimate depends on constructor arguments nothing passes: {names}"
    if reasons:
        return str(reasons[0])
    if why is None and graph.complete and graph.weighted():
        return "the last weight gets no gradient from the loss on the first output"
    return why or "something on the path could not be resolved"


def depth(graph: LayerGraph) -> int | None:
    """Weighted layers on the longest input→output path."""
    order = list(graph.topological())
    if len(order) != len(graph.nodes):
        return None
    best: dict[int, int] = {}
    for node in order:
        here = 1 if node.has_weight and node.op != "shift" else 0
        best[node.id] = here + max((best[i] for i in node.inputs), default=0)
    outputs = [n.id for n in graph.nodes if n.op == "output"]
    return max((best[o] for o in outputs), default=None)


def onnx_record(graph: LayerGraph, init_checks: bool) -> ModelRecord:
    """The record of an exported graph: what ``model_record`` says, and how far it was checked."""
    record = model_record(graph)
    record.extra.setdefault("source", "onnx")
    record.extra.setdefault("complete", graph.complete)
    if not init_checks:
        record.extra["init_checks"] = False
    absent = graph.attrs.get("weights_absent")
    if absent:
        record.extra["weight_data"] = "absent"
        record.extra["note"] = (
            f"external weight data not found ({', '.join(absent)}): structure checked, "
            "initialisation checks and the estimate skipped"
        )
    return record
