"""What the gain model says about each activation's units at initialisation: the mean carried
into the activation, dead ReLU units, whole layers dead in narrow stacks, saturation by scale."""

from __future__ import annotations

import itertools
import math

import pytest
from graph_builder import build

from gradlint.gain import estimate, moments
from gradlint.gain.activations import below, saturated_fraction
from gradlint.gain.units import dead_unit_fraction, model_dead, unit_stats
from gradlint.ir import Init


def test_a_shifted_relu_has_the_closed_form_moments():
    # h ~ N(-2, 1): E[relu'²] = Φ(-2), E[relu] = -2Φ(-2) + φ(-2)
    m = moments("relu", 5.0, mean=-2.0)
    phi = 0.5 * (1 + math.erf(-2 / math.sqrt(2)))
    density = math.exp(-2.0) / math.sqrt(2 * math.pi)
    assert m.d2 == pytest.approx(phi, rel=1e-9)
    assert m.mean == pytest.approx(-2 * phi + density, rel=1e-9)
    # a centred input keeps the old closed form exactly
    assert moments("relu", 4.0, mean=0.0) == moments("relu", 4.0)


def test_the_shifted_quadrature_agrees_with_the_closed_form_through_tanh_symmetry():
    up, down = moments("tanh", 10.0, mean=3.0), moments("tanh", 10.0, mean=-3.0)
    assert up.mean == pytest.approx(-down.mean, rel=1e-6)
    assert up.m2 == pytest.approx(down.m2, rel=1e-6) and up.d2 == pytest.approx(down.d2, rel=1e-6)


def test_saturated_fraction_and_tails():
    assert saturated_fraction(32.0**2) == pytest.approx(1 - math.erf(5 / 32 / math.sqrt(2)), rel=1e-9)
    assert below(0.0, 1.0) == pytest.approx(0.5)
    assert dead_unit_fraction(101.0, -10.0, 100.9, 256) == pytest.approx(1.0)


def _with_bias(graph, constant):
    for node in graph.weighted()[:-1]:
        node.bias_init = Init("constant", 0.0, constant, constant, detail=f"nn.init.constant_({constant})")
    graph.attrs.clear()
    return graph


def test_a_bias_of_minus_ten_before_relu_kills_the_layer_and_minus_a_tenth_does_not():
    spec = [("linear", 64, 128, ("default",)), ("act", "relu"), ("linear", 128, 1, ("default",))]
    dead = unit_stats(_with_bias(build(spec), -10.0))
    assert dead[0].dead_units == pytest.approx(1.0) and dead[0].mean == -10.0
    alive = unit_stats(_with_bias(build(spec), -0.1))
    assert alive[0].dead_units < 0.01
    # the ratio sees it too: the dead layer's weight gets no gradient
    assert estimate(_with_bias(build(spec), -10.0)).nodes[build(spec).weighted()[0].id].grad2 < 1e-30


def test_a_stack_tapering_to_two_units_is_born_dead_in_most_initialisations():
    widths = [784, 512, 256, 128, 64, 32, 16, 8, 4, 2, 2, 2, 2, 2]
    spec = []
    for a, b in itertools.pairwise(widths):
        spec += [("linear", a, b, ("default",)), ("act", "relu")]
    spec.append(("linear", 2, 1, ("default",)))
    stats = unit_stats(build(spec))
    assert stats[-1].dead_units == pytest.approx(0.5, abs=0.05)
    assert stats[-1].layer_dead == pytest.approx(0.25, abs=0.05)
    assert model_dead(stats) > 0.5
    wide = unit_stats(build([("linear", 784, 256, ("default",)), ("act", "relu"), ("linear", 256, 1, ("default",))]))
    assert model_dead(wide) < 1e-6


def test_unit_normal_init_on_a_wide_tanh_layer_saturates_it():
    spec = [("linear", 1024, 1024, ("normal", 1.0)), ("act", "tanh"), ("linear", 1024, 10, ("default",))]
    [site] = unit_stats(build(spec))
    assert site.saturated == pytest.approx(0.876, abs=0.01)
    xavier = [("linear", 1024, 1024, ("xavier",)), ("act", "tanh"), ("linear", 1024, 10, ("default",))]
    assert unit_stats(build(xavier))[0].saturated < 1e-3


def test_an_in_place_rescale_of_a_parameter_forgets_its_draw(tmp_path):
    from gradlint.frontends.python import Project, build_graphs
    from gradlint.source import SourceFile

    path = tmp_path / "model.py"
    path.write_text(
        "import torch\nimport torch.nn as nn\n\n\n"
        "class Net(nn.Module):\n"
        "    def __init__(self):\n"
        "        super().__init__()\n"
        "        self.a = nn.Linear(8, 8)\n"
        "        self.b = nn.Linear(8, 8)\n"
        "        with torch.no_grad():\n"
        "            w = self.a.weight\n"
        "            w.normal_(0, 1)\n"
        "            w *= 1 / torch.sqrt(w.pow(2).sum(1, keepdim=True))\n"
        "            v = self.b.weight\n"
        "            v.normal_(0, 1)\n"
        "            v *= 0.5\n\n"
        "    def forward(self, x):\n"
        "        return self.b(torch.tanh(self.a(x)))\n",
        encoding="utf-8",
    )
    [graph] = build_graphs(SourceFile.parse(str(path), path.read_text()), Project.for_files([path]))
    a, b = graph.weighted()
    assert a.weight_init.kind == "unknown"
    assert b.weight_init.variance == pytest.approx(0.25)
