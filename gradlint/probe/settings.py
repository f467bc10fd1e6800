"""What `[tool.gradlint.probe]` may say: targets, run defaults and verdict thresholds."""

from __future__ import annotations

import math
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from gradlint.config import ConfigError


@dataclass
class Thresholds:
    """Verdict thresholds; the defaults are the published ones, cited in every report.

    AUTOTRAINER (Zhang et al., ICSE 2021): vanishing when the first/last gradient
    ratio is below 1e-3 and the first layer's gradient norm below 1e-4; exploding
    when the ratio exceeds 70; dying ReLU when at least 70% of a ReLU's outputs are
    zero. DeepDiagnosis (Wardat et al., ICSE 2022): saturation when more than 50% of
    a sigmoid/tanh's inputs lie beyond +-5.
    """

    vanishing_ratio: float = 1e-3
    vanishing_first_grad_norm: float = 1e-4
    exploding_ratio: float = 70.0
    dying_relu_fraction: float = 0.7
    saturation_fraction: float = 0.5
    saturation_input: float = 5.0

    def to_json(self) -> dict[str, float]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


@dataclass
class TargetEntry:
    spec: str
    input_shape: tuple[int, ...] | None = None
    loss: str | None = None


@dataclass
class ProbeSettings:
    targets: list[TargetEntry] = field(default_factory=list)
    device: str = "auto"
    seed: int = 0
    loss: str = "mse"
    timeout: float = 120.0
    dead_params_fail: bool = True  # a parameter that gets no gradient is a problem verdict
    thresholds: Thresholds = field(default_factory=Thresholds)
    root: Path = field(default_factory=Path.cwd)  # target paths are relative to the config file


DEVICES = ("auto", "cpu", "cuda")
LOSSES = ("mse", "cross-entropy")
_THRESHOLD_KEYS = {f.name.replace("_", "-"): f.name for f in fields(Thresholds)}
_KEYS = {"targets", "device", "seed", "loss", "timeout", "dead-params-fail", *_THRESHOLD_KEYS}


def parse_shape(text: str) -> tuple[int, ...]:
    """``"32,784"`` to a shape; ValueError with a message a user can act on."""
    parts = [p.strip() for p in text.split(",")]
    try:
        shape = tuple(int(p) for p in parts)
    except ValueError:
        raise ValueError(
            f"input shape {text!r} is not a comma-separated list of integers"
        ) from None
    if not shape or any(d <= 0 for d in shape):
        raise ValueError(f"input shape {text!r} needs one or more positive sizes")
    return shape


def settings_from_table(table: dict[str, Any], where: str, root: Path) -> ProbeSettings:
    unknown = set(table) - _KEYS
    if unknown:
        raise ConfigError(
            f"{where}: unknown key(s) in [tool.gradlint.probe]: {', '.join(sorted(unknown))} "
            f"(known: {', '.join(sorted(_KEYS))})"
        )
    settings = ProbeSettings(root=root)
    for key, attr in _THRESHOLD_KEYS.items():
        if key in table:
            value = table[key]
            if (
                isinstance(value, bool)
                or not isinstance(value, (int, float))
                or not math.isfinite(value)
                or value < 0
            ):
                raise ConfigError(f"{where}: probe.{key} must be a non-negative number")
            setattr(settings.thresholds, attr, float(value))
    if "device" in table:
        settings.device = _choice(table["device"], DEVICES, "device", where)
    if "loss" in table:
        settings.loss = _choice(table["loss"], LOSSES, "loss", where)
    if "seed" in table:
        if isinstance(table["seed"], bool) or not isinstance(table["seed"], int):
            raise ConfigError(f"{where}: probe.seed must be an integer")
        settings.seed = table["seed"]
    if "timeout" in table:
        value = table["timeout"]
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
            raise ConfigError(f"{where}: probe.timeout must be a positive number of seconds")
        settings.timeout = float(value)
    if "dead-params-fail" in table:
        if not isinstance(table["dead-params-fail"], bool):
            raise ConfigError(f"{where}: probe.dead-params-fail must be true or false")
        settings.dead_params_fail = table["dead-params-fail"]
    targets = table.get("targets", [])
    if not isinstance(targets, list):
        raise ConfigError(f"{where}: probe.targets must be a list")
    settings.targets = [_target_entry(t, where) for t in targets]
    return settings


def _choice(value: Any, allowed: tuple[str, ...], key: str, where: str) -> str:
    if value not in allowed:
        raise ConfigError(f"{where}: probe.{key} must be one of {', '.join(allowed)}")
    return value


def _target_entry(item: Any, where: str) -> TargetEntry:
    """A target is ``"models/net.py:build"`` or ``{target = "...", input-shape = [32, 784], loss = "mse"}``."""
    if isinstance(item, str):
        return TargetEntry(item)
    if not isinstance(item, dict) or not isinstance(item.get("target"), str):
        raise ConfigError(
            f"{where}: each probe target is a string or a table with a 'target' string"
        )
    extra = set(item) - {"target", "input-shape", "loss"}
    if extra:
        raise ConfigError(
            f"{where}: probe target {item['target']!r} has unknown key(s) {', '.join(sorted(extra))}"
        )
    entry = TargetEntry(item["target"])
    shape = item.get("input-shape")
    if shape is not None:
        try:
            entry.input_shape = parse_shape(
                shape if isinstance(shape, str) else ",".join(map(str, shape))
            )
        except ValueError as exc:
            raise ConfigError(f"{where}: probe target {item['target']!r}: {exc}") from None
    if "loss" in item:
        entry.loss = _choice(item["loss"], LOSSES, "loss", where)
    return entry
