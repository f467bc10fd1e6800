"""Which static findings concern the probed model, and whether the measurement confirms them.

Works on the JSON contract of `gradlint check --format json` (findings and models), so
it reads the same records any consumer reads. A finding concerns the model when its line
falls inside one of the model's classes (or the factory that built it), or, outside any
other class of the file, when its message or extra names one of the model's layers.

- GL1xx, GL3xx and GL2xx other than GL201 predict a gradient ratio: confirmed when the
  measured log10 ratio lies beyond the rule's threshold in the predicted direction (the
  rule's ``min-gradient-ratio`` when vanishing, ``max-gradient-ratio`` when exploding).
- GL5xx, and GL201 on a single zeroed layer, predict parameters that get no gradient:
  confirmed when the measured dead parameters include the ones the finding names (any,
  when it names none). GL5xx findings concern the model only when they sit in one of its
  forward methods.
- GL201 on a run of constant layers predicts units that stay identical: confirmed when the
  measured weights of every layer of the run but the last keep equal rows and equal
  gradient rows.
- GL102-GL105 predict what the activations do: GL102 a sigmoid/tanh activation with more than
  half of its inputs beyond the saturation bound; GL103 a ReLU with at least half of its units
  zero for the whole batch; GL104 at least a quarter of the model's output at zero; GL105 the
  ReLU at the finding's line (or, for a module, any ReLU) zero for at least a quarter of its
  outputs.
"""

from __future__ import annotations

import ast
import math
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from gradlint.probe.settings import Thresholds

DEAD_CODES = ("GL201", "GL5")
RATIO_PREFIXES = ("GL1", "GL2", "GL3")
# Where a finding may carry its own threshold or direction.
THRESHOLD_KEY = re.compile(r"threshold|log10|ratio", re.IGNORECASE)
# A threshold option bounds one side: `min-gradient-ratio` the vanishing one.
SIDE_KEY = {
    "vanishing": re.compile(r"min|low|vanish", re.IGNORECASE),
    "exploding": re.compile(r"max|high|explod", re.IGNORECASE),
}
NAME_KEYS = (
    "dead_params",
    "parameters",
    "params",
    "param",
    "param_names",
    "layers",
    "layer",
    "modules",
    "module",
    "names",
)
QUOTED = re.compile(
    r"`([^`]+)`|'([A-Za-z_][\w.]*)'|\"([A-Za-z_][\w.]*)\"|\bself\.([A-Za-z_][\w.]*)"
)


def _resolve(path: str | None) -> str | None:
    return str(Path(path).resolve()) if path else None


class ModelScope:
    """The probed model as the join sees it: its code's spans, its layer and parameter names."""

    def __init__(self, measured: dict[str, Any]) -> None:
        self.spans = measured.get("spans", [])
        self.classes = {s["class"] for s in self.spans if "class" in s}
        self.params = measured["param_names"]
        self.modules = set(measured.get("module_names", []))
        self.files = {s["path"] for s in self.spans}

    def contains(self, path: str, line: int | None, forward_only: bool = False) -> bool:
        if line is None:
            return False
        for span in self.spans:
            region = span.get("forward") if forward_only else span
            if region and region["path"] == path and region["start"] <= line <= region["end"]:
                return True
        return False

    def params_named(self, names: list[str]) -> list[str]:
        """The model's parameters the names point at: ``fc2`` or ``self.fc2`` covers ``fc2.weight``;
        a name no top-level parameter matches covers that attribute in every block
        (``self.fc2`` in a block class is ``blocks.0.fc2.weight`` in the model)."""
        hits = []
        for raw in names:
            name = raw.removeprefix("self.").split(" ")[0].strip()
            if not name:
                continue
            own = [p for p in self.params if p == name or p.startswith(name + ".")]
            nested = [p for p in self.params if f".{name}." in f".{p}" and p not in own]
            hits.extend(own or nested)
        return list(dict.fromkeys(hits))

    def names_a_layer(self, names: list[str]) -> bool:
        return any(
            n.removeprefix("self.") in self.modules or n.removeprefix("self.") in self.params
            for n in names
        )


def names_in(finding: dict[str, Any]) -> list[str]:
    """Layer names a finding mentions: string values of known extra keys, then quoted,
    backticked or ``self.``-prefixed names in its message."""
    extra = finding.get("extra") or {}
    names: list[str] = []
    for key in NAME_KEYS:
        value = extra.get(key)
        if isinstance(value, str):
            names.append(value)
        elif isinstance(value, (list, tuple)):
            names.extend(v for v in value if isinstance(v, str))
    for match in QUOTED.finditer(finding.get("message", "")):
        names.append(next(g for g in match.groups() if g))
    return names


def _other_class_lines(path: str, own: set[str]) -> list[tuple[int, int]]:
    """Line spans of the file's classes that are not the model's: a finding there is about another model."""
    try:
        tree = ast.parse(Path(path).read_text(encoding="utf-8"))
    except (OSError, SyntaxError, ValueError, UnicodeDecodeError):
        return []
    return [
        (node.lineno, node.end_lineno or node.lineno)
        for node in ast.walk(tree)
        if isinstance(node, ast.ClassDef) and node.name not in own
    ]


def concerns(
    finding: dict[str, Any], scope: ModelScope, other_classes: Callable[[str], list]
) -> bool:
    code = finding["code"]
    path = _resolve(finding.get("path"))
    line = finding.get("line")
    if code.startswith("GL5"):
        return scope.contains(path, line, forward_only=True)
    if not code.startswith(RATIO_PREFIXES):
        return False
    if scope.contains(path, line):
        return True
    if path not in scope.files or not scope.names_a_layer(names_in(finding)):
        return False
    return line is None or not any(a <= line <= b for a, b in other_classes(path))


def _rule_settings(code: str, options: dict[str, dict[str, Any]]) -> dict[str, Any]:
    from gradlint.rule import rule_by_code_or_name

    cls = rule_by_code_or_name(code)
    merged = dict(cls.options) if cls is not None else {}
    merged.update(options.get(code, {}))
    return merged


def _direction(finding: dict[str, Any]) -> str:
    extra = finding.get("extra") or {}
    if extra.get("direction") in ("vanishing", "exploding"):
        return extra["direction"]
    estimate = extra.get("log10_grad_ratio")
    if isinstance(estimate, (int, float)) and not isinstance(estimate, bool):
        return "exploding" if estimate > 0 else "vanishing"
    return "exploding" if "explod" in finding.get("message", "").lower() else "vanishing"


def _threshold_from(values: dict[str, Any], direction: str) -> float | None:
    other_side = SIDE_KEY["exploding" if direction == "vanishing" else "vanishing"]
    for key, value in values.items():
        if (
            isinstance(value, bool)
            or not isinstance(value, (int, float))
            or not THRESHOLD_KEY.search(key)
            or other_side.search(key)
        ):
            continue
        if "log10" in key.lower():
            return float(value)
        if value > 0:
            return math.log10(value)
    return None


def ratio_threshold(
    finding: dict[str, Any], direction: str, options, limits: Thresholds
) -> tuple[float, str]:
    """The log10 threshold a ratio finding is judged by, and where it came from."""
    extra = {k: v for k, v in (finding.get("extra") or {}).items() if k != "log10_grad_ratio"}
    found = _threshold_from(extra, direction)
    if found is not None:
        return found, "finding"
    found = _threshold_from(_rule_settings(finding["code"], options), direction)
    if found is not None:
        return found, f"{finding['code']} option"
    if direction == "exploding":
        return math.log10(limits.exploding_ratio), "probe exploding-ratio"
    return math.log10(limits.vanishing_ratio), "probe vanishing-ratio"


def predicts_symmetry(finding: dict[str, Any]) -> bool:
    """GL201 on a run of constant layers: identical units, not missing gradients."""
    extra = finding.get("extra") or {}
    return finding["code"] == "GL201" and isinstance(extra.get("layers"), list)


def confirm_symmetry(record, finding, measured, scope: ModelScope) -> dict[str, Any]:
    layers = finding["extra"]["layers"]
    symmetric = measured.get("symmetric_weights", [])
    dead = measured["dead_params"]
    # A weight with no gradient keeps its constant rows too: all-zero runs end up here.
    stuck = set(symmetric) | set(dead)
    # The last layer of the run has varied gradient rows (one per output), so it may differ.
    named = [p for p in scope.params_named(layers[:-1]) if p.endswith("weight")]
    confirmed = all(p in stuck for p in named) if named else bool(stuck)
    record.update(
        confirmed=confirmed,
        measured={"symmetric_weights": symmetric, "dead_params": dead, "named_params": named},
    )
    return record


def confirm(finding, measured, scope: ModelScope, options, limits: Thresholds) -> dict[str, Any]:
    code = finding["code"]
    record = {k: finding.get(k) for k in ("path", "line", "column", "code", "name", "message")}
    if predicts_symmetry(finding):
        return confirm_symmetry(record, finding, measured, scope)
    if code in ACTIVATION_CODES:
        return confirm_activation(record, finding, measured)
    if code.startswith(DEAD_CODES):
        extra = finding.get("extra") or {}
        named = (
            scope.params_named(extra["dead_params"])
            if isinstance(extra.get("dead_params"), list)
            else []
        )
        named = named or scope.params_named(names_in(finding))
        dead = measured["dead_params"]
        # A frozen parameter gets no gradient either: naming it is no error of the finding.
        no_gradient = set(dead) | set(measured.get("frozen_params", []))
        confirmed = bool(dead) and all(p in no_gradient for p in named)
        record.update(confirmed=confirmed, measured={"dead_params": dead, "named_params": named})
        return record
    direction = _direction(finding)
    threshold, source = ratio_threshold(finding, direction, options, limits)
    log10 = measured["log10_grad_ratio"]
    if log10 is None:
        confirmed = False
    else:
        confirmed = log10 < threshold if direction == "vanishing" else log10 > threshold
    record.update(
        confirmed=confirmed,
        measured={
            "log10_grad_ratio": log10,
            "direction": direction,
            "log10_threshold": threshold,
            "threshold_source": source,
        },
    )
    return record


ACTIVATION_CODES = ("GL102", "GL103", "GL104", "GL105")


def confirm_activation(record: dict[str, Any], finding: dict[str, Any], measured: dict[str, Any]) -> dict[str, Any]:
    """GL102-GL105 against the measured activations (module and functional alike)."""
    code = finding["code"]
    rows = measured.get("activations", [])
    dying = [a for a in rows if a["kind"] == "dying" and a["fraction"] is not None]
    if code == "GL102":
        worst = max((a["fraction"] for a in rows if a["kind"] == "saturating" and a["fraction"] is not None), default=None)
        confirmed, figures = worst is not None and worst > 0.5, {"saturated_fraction": worst}
    elif code == "GL103":
        worst = max((a.get("dead_units") or 0.0 for a in dying), default=None)
        confirmed, figures = worst is not None and worst >= 0.5, {"dead_units": worst}
    elif code == "GL104":
        share = measured.get("output_zero_share")
        confirmed, figures = share is not None and share >= 0.25, {"output_zero_share": share}
    else:
        site = f" at {Path(finding.get('path') or '').name}:{finding.get('line')}"
        here = [a for a in dying if a["name"].endswith(site)] or [a for a in dying if " at " not in a["name"]]
        worst = max((a["fraction"] for a in here), default=None)
        confirmed, figures = worst is not None and worst >= 0.25, {"clamped_scores": worst}
    record.update(confirmed=confirmed, measured=figures)
    return record


def join(
    findings, models, measured, options, limits: Thresholds
) -> tuple[list[dict], float | None]:
    """Confirmation records for the findings that concern the model, and its static estimate."""
    scope = ModelScope(measured)
    cache: dict[str, list] = {}

    def other_classes(path: str) -> list:
        if path not in cache:
            cache[path] = _other_class_lines(path, scope.classes)
        return cache[path]

    records = [
        confirm(f, measured, scope, options, limits)
        for f in findings
        if concerns(f, scope, other_classes)
    ]
    return records, static_estimate(models, measured)


def static_estimate(models: list[dict[str, Any]], measured: dict[str, Any]) -> float | None:
    wanted = measured.get("model_class")
    files = {s["path"] for s in measured.get("spans", []) if s.get("class") == wanted}
    for model in models:
        if model.get("class") == wanted and (not files or _resolve(model.get("path")) in files):
            return model.get("log10_grad_ratio")
    return None
