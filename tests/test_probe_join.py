"""The join of measured gradients with static findings, on findings made by the engine itself."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from gradlint.config import Config
from gradlint.diagnostics import Location
from gradlint.engine import Checker, check_python
from gradlint.probe.join import join
from gradlint.probe.settings import Thresholds
from gradlint.rule import SourceRule
from gradlint.textmatch import ALWAYS
from tests.test_probe_cli import FIXTURES

pytest.importorskip("torch")


class PlantedRule(SourceRule):
    """Reports what a test plants, through the engine like any rule. Its code is set per
    instance, so rule discovery (which reads class attributes) never lists it."""

    summary = "planted finding"
    needs = ALWAYS

    def __init__(self, code: str, plants: list[tuple[int, str, dict]]) -> None:
        self.code = code
        self.name = f"planted-{code.lower()}"
        self.plants = plants
        super().__init__()

    def check_source(self, source):
        for line, message, extra in self.plants:
            yield self.finding(message, Location(source.path, line, 1), **extra)


def line_of(fixture: str, text: str) -> int:
    lines = (FIXTURES / fixture).read_text().splitlines()
    return next(i for i, line in enumerate(lines, 1) if text in line)


def engine_findings(fixture: str, rules: list[PlantedRule]) -> list[dict]:
    path = FIXTURES / fixture
    result = check_python(path, str(path), Checker(Config(), rules))
    assert not result.errors
    return [f.to_json() for f in result.findings]


def measured_for(fixture: str, name: str) -> dict:
    from gradlint.probe.child import _clean, run

    request = {
        "file": str(FIXTURES / fixture),
        "name": name,
        "device": "cpu",
        "seed": 0,
        "loss": "mse",
        "input_shape": None,
        "saturation_input": 5.0,
    }
    result = _clean(run(request))
    assert result["ok"], result
    return result


@pytest.fixture(scope="module")
def sigmoid_measured():
    return measured_for("deep_sigmoid.py", "build")


@pytest.fixture(scope="module")
def detach_measured():
    return measured_for("detach_model.py", "build")


def by_message(records):
    return {r["message"]: r for r in records}


def test_ratio_findings_inside_the_model_are_confirmed_by_the_measured_ratio(sigmoid_measured):
    loop = line_of("deep_sigmoid.py", "nn.Sigmoid()]")
    main = line_of("deep_sigmoid.py", "for step in range")
    findings = engine_findings(
        "deep_sigmoid.py",
        [
            PlantedRule(
                "GL101",
                [
                    (loop, "ten sigmoid layers in series", {}),
                    (loop, "strict threshold", {"log10_threshold": -12.0}),
                    (main, "outside the model, names nothing", {}),
                ],
            ),
            PlantedRule("GL601", [(main, "training loop finding", {})]),
        ],
    )
    records, _ = join(findings, [], sigmoid_measured, {}, Thresholds())
    got = by_message(records)
    assert set(got) == {"ten sigmoid layers in series", "strict threshold"}
    plain = got["ten sigmoid layers in series"]
    assert plain["confirmed"] is True
    assert plain["measured"]["log10_threshold"] == pytest.approx(-3.0)
    assert plain["measured"]["threshold_source"] == "GL101 option"
    assert plain["measured"]["log10_grad_ratio"] == sigmoid_measured["log10_grad_ratio"]
    strict = got["strict threshold"]
    assert strict["confirmed"] is False and strict["measured"]["threshold_source"] == "finding"


def test_rule_option_threshold_by_direction(sigmoid_measured):
    head = line_of("deep_sigmoid.py", "self.head = ")
    findings = engine_findings(
        "deep_sigmoid.py",
        [
            PlantedRule("GL101", [(head, "by option", {"log10_grad_ratio": -9.0})]),
            PlantedRule("GL301", [(head, "predicts explosion", {"log10_grad_ratio": 4.2})]),
            PlantedRule("GL199", [(head, "rule without options", {"direction": "exploding"})]),
        ],
    )
    # the user's [tool.gradlint.options.GL101] arrives merged over the rule's defaults
    options = {"GL101": {"min-gradient-ratio": 1e-20}}
    records, _ = join(findings, [], sigmoid_measured, options, Thresholds())
    got = by_message(records)
    assert got["by option"]["measured"]["threshold_source"] == "GL101 option"
    assert got["by option"]["measured"]["log10_threshold"] == pytest.approx(-20.0)
    assert got["by option"]["confirmed"] is False
    # exploding is judged by max-gradient-ratio, never by the min one listed before it
    exploding = got["predicts explosion"]
    assert exploding["measured"]["direction"] == "exploding"
    assert exploding["measured"]["threshold_source"] == "GL301 option"
    assert exploding["measured"]["log10_threshold"] == pytest.approx(3.0)
    assert exploding["confirmed"] is False
    fallback = got["rule without options"]["measured"]
    assert fallback["threshold_source"] == "probe exploding-ratio"
    assert fallback["log10_threshold"] == pytest.approx(math.log10(70))


def test_graph_cut_in_forward_is_confirmed_by_dead_params(detach_measured):
    cut = line_of("detach_model.py", "h.detach()")
    init = line_of("detach_model.py", "self.decoder = ")
    findings = engine_findings(
        "detach_model.py",
        [
            PlantedRule(
                "GL501",
                [
                    (cut, "tensor detached in forward", {}),
                    (cut, "claims the decoder is cut", {"layers": ["self.decoder"]}),
                    (init, "not in forward", {}),
                ],
            ),
            PlantedRule("GL201", [(init, "zero init upstream", {"params": ["encoder"]})]),
        ],
    )
    records, _ = join(findings, [], detach_measured, {}, Thresholds())
    got = by_message(records)
    assert set(got) == {
        "tensor detached in forward",
        "claims the decoder is cut",
        "zero init upstream",
    }
    assert got["tensor detached in forward"]["confirmed"] is True
    assert (
        got["tensor detached in forward"]["measured"]["dead_params"]
        == detach_measured["dead_params"]
    )
    assert got["claims the decoder is cut"]["confirmed"] is False
    assert got["claims the decoder is cut"]["measured"]["named_params"] == [
        "decoder.weight",
        "decoder.bias",
    ]
    assert got["zero init upstream"]["confirmed"] is True
    assert got["zero init upstream"]["measured"]["named_params"] == [
        "encoder.0.weight",
        "encoder.0.bias",
        "encoder.2.weight",
        "encoder.2.bias",
    ]


def test_findings_on_another_class_of_the_file_are_left_out():
    measured = measured_for("dying_relu.py", "DeadReLUNet")
    mine = line_of("dying_relu.py", "self.fc2 = nn.Linear(64, 64)")
    theirs = line_of("dying_relu.py", "nn.init.normal_(layer.weight, std=2.0)")
    module_level = line_of("dying_relu.py", "from torch import nn")
    findings = engine_findings(
        "dying_relu.py",
        [
            PlantedRule(
                "GL202",
                [
                    (mine, "in the probed class", {}),
                    (theirs, "in the other class, naming `fc1`", {}),
                    (module_level, "outside any class, naming `fc2`", {}),
                    (module_level, "outside any class, naming `encoder`", {}),
                ],
            ),
        ],
    )
    records, _ = join(findings, [], measured, {}, Thresholds())
    assert sorted(r["message"] for r in records) == [
        "in the probed class",
        "outside any class, naming `fc2`",
    ]


def test_static_estimate_is_the_model_record_of_the_probed_class(sigmoid_measured):
    path = str(FIXTURES / "deep_sigmoid.py")
    models = [
        {"path": path, "line": 30, "class": "SomethingElse", "depth": 3, "log10_grad_ratio": -1.0},
        {"path": path, "line": 6, "class": "DeepSigmoidMLP", "depth": 11, "log10_grad_ratio": -8.7},
    ]
    _, estimate = join([], models, sigmoid_measured, {}, Thresholds())
    assert estimate == -8.7
    elsewhere = [dict(models[1], path=str(Path("/elsewhere/deep_sigmoid.py")))]
    assert join([], elsewhere, sigmoid_measured, {}, Thresholds())[1] is None


def test_names_reach_parameters_of_blocks_and_top_level_first():
    from gradlint.probe.join import ModelScope

    scope = ModelScope(
        {
            "param_names": [
                "fc1.weight",
                "blocks.0.fc1.weight",
                "blocks.1.fc1.weight",
                "head.weight",
            ],
            "module_names": ["fc1", "blocks", "blocks.0", "blocks.0.fc1", "blocks.1.fc1", "head"],
        }
    )
    # GL5xx names attributes as the class sees them: `self.fc1 (Linear)`
    assert scope.params_named(["self.fc1 (Linear)"]) == ["fc1.weight"]
    assert scope.params_named(["self.head"]) == ["head.weight"]
    scope.params = scope.params[1:]
    assert scope.params_named(["self.fc1"]) == ["blocks.0.fc1.weight", "blocks.1.fc1.weight"]
    assert scope.params_named(["self.f"]) == []
