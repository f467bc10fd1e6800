"""The probe and the static rules together: the measured pass confirms what `gradlint check` says,
on findings of the real python frontend, gain model and GL1/GL5 rules."""

from __future__ import annotations

import json

import pytest
from test_probe_cli import FIXTURES, probed

from tests.conftest import invoke_cli, requires_torch

pytestmark = [pytest.mark.slow, requires_torch]


def test_check_and_probe_agree_on_the_deep_sigmoid_mlp():
    checked = invoke_cli("check", "--format", "json", str(FIXTURES / "deep_sigmoid.py"))
    static = json.loads(checked.stdout)
    assert any(f["code"].startswith("GL1") for f in static["findings"]), static["findings"]
    code, doc = probed("deep_sigmoid.py:build")
    assert code == 1
    saturating = [f for f in doc["findings"] if f["code"].startswith("GL1")]
    assert saturating and all(f["confirmed"] for f in saturating), doc["findings"]
    # the static estimate and the measurement are the same quantity, one decade apart at most
    assert doc["static_log10_grad_ratio"] is not None
    assert abs(doc["static_log10_grad_ratio"] - doc["log10_grad_ratio"]) <= 1.0


def test_detach_in_forward_is_found_statically_and_confirmed_by_dead_params():
    code, doc = probed("detach_model.py:build")
    assert code == 1
    cuts = [f for f in doc["findings"] if f["code"].startswith("GL5")]
    assert cuts, doc["findings"]
    assert all(f["confirmed"] for f in cuts)
    assert all(
        set(f["measured"]["dead_params"]) >= {"encoder.0.weight", "encoder.2.weight"} for f in cuts
    )


def test_healthy_model_has_no_unconfirmed_depth_finding():
    _, doc = probed("resnet_block.py:TinyResNet")
    assert not [f for f in doc["findings"] if f["code"].startswith(("GL1", "GL3"))]
    assert (
        doc["static_log10_grad_ratio"] is None
        or abs(doc["static_log10_grad_ratio"] - doc["log10_grad_ratio"]) <= 1.0
    )
