"""[tool.gradlint.probe]: targets, run defaults and thresholds, and the errors a user can act on."""

from __future__ import annotations

from pathlib import Path

import pytest

from gradlint.config import ConfigError
from gradlint.probe.session import split_target
from gradlint.probe.settings import parse_shape, settings_from_table

ROOT = Path("/project")


def test_defaults_are_the_published_thresholds():
    settings = settings_from_table({}, "pyproject.toml", ROOT)
    limits = settings.thresholds
    assert (limits.vanishing_ratio, limits.vanishing_first_grad_norm, limits.exploding_ratio) == (
        1e-3,
        1e-4,
        70.0,
    )
    assert (limits.dying_relu_fraction, limits.saturation_fraction, limits.saturation_input) == (
        0.7,
        0.5,
        5.0,
    )
    assert (settings.device, settings.seed, settings.loss, settings.timeout) == (
        "auto",
        0,
        "mse",
        120.0,
    )


def test_targets_as_strings_and_tables():
    settings = settings_from_table(
        {
            "targets": [
                "models/a.py:build",
                {
                    "target": "models/b.py:Net",
                    "input-shape": [8, 3, 32, 32],
                    "loss": "cross-entropy",
                },
            ],
            "exploding-ratio": 100,
            "timeout": 30,
            "device": "cpu",
        },
        "pyproject.toml",
        ROOT,
    )
    assert [t.spec for t in settings.targets] == ["models/a.py:build", "models/b.py:Net"]
    assert (
        settings.targets[1].input_shape == (8, 3, 32, 32)
        and settings.targets[1].loss == "cross-entropy"
    )
    assert settings.thresholds.exploding_ratio == 100.0
    assert settings.timeout == 30.0 and settings.device == "cpu"


@pytest.mark.parametrize(
    "table, message",
    [
        ({"exploding_ratio": 70}, "unknown key(s) in [tool.gradlint.probe]: exploding_ratio"),
        ({"exploding-ratio": "seventy"}, "probe.exploding-ratio must be a non-negative number"),
        ({"device": "tpu"}, "probe.device must be one of auto, cpu, cuda"),
        ({"seed": 1.5}, "probe.seed must be an integer"),
        ({"timeout": 0}, "probe.timeout must be a positive number"),
        ({"targets": "models/a.py:build"}, "probe.targets must be a list"),
        (
            {"targets": [{"target": "a.py:b", "input-shape": "3,x"}]},
            "is not a comma-separated list",
        ),
        ({"targets": [{"target": "a.py:b", "shape": [1]}]}, "unknown key(s) shape"),
    ],
)
def test_bad_settings_say_what_to_fix(table, message):
    with pytest.raises(ConfigError) as caught:
        settings_from_table(table, "pyproject.toml", ROOT)
    assert message in str(caught.value)


def test_shapes():
    assert parse_shape("32,784") == (32, 784)
    assert parse_shape(" 8, 3 ,32,32") == (8, 3, 32, 32)
    for bad in ("", "32,,784", "0,5", "-1,4", "32x784"):
        with pytest.raises(ValueError):
            parse_shape(bad)


def test_split_target_keeps_everything_before_the_last_colon(tmp_path):
    model = tmp_path / "net.py"
    model.write_text("")
    assert split_target(f"{model}:build", Path("/")) == (model, "build")
    assert split_target("net.py:Net.make", tmp_path) == (model, "Net.make")
    for bad in ("net.py", "net.py:", ":build", "net.py:not a name"):
        with pytest.raises(ValueError):
            split_target(bad, tmp_path)
