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


def _graphs(tmp_path, text: str):
    from gradlint.frontends.python import Project, build_graphs
    from gradlint.source import SourceFile

    path = tmp_path / "model.py"
    path.write_text(text, encoding="utf-8")
    return build_graphs(SourceFile.parse(str(path), text), Project.for_files([path]))


def test_a_padded_convolution_groups_its_positions_by_the_taps_inside_the_input():
    from gradlint.gain.spatial import tap_classes
    from gradlint.ir import Node

    conv = Node(0, "linear", "c", None, module_type="Conv2d", attrs={"kernel_size": 3, "padding": 1})
    kernel, classes = tap_classes(conv, (8, 8))
    assert kernel == (3, 3)
    by_span = {spans: count for count, spans in classes}
    assert sum(by_span.values()) == 64 and len(by_span) == 9
    assert by_span[((0, 3), (0, 3))] == 36  # the interior reads all nine taps
    assert by_span[((1, 3), (1, 3))] == 1  # the top-left corner four
    assert by_span[((1, 3), (0, 3))] == 6  # the top edge six
    # stride 2 on an even size: the bottom row reads all three rows of taps
    strided = Node(1, "linear", "s", None, module_type="Conv2d", attrs={"kernel_size": 3, "padding": 1, "stride": 2})
    assert sorted(c for c, _ in tap_classes(strided, (8, 8))[1]) == [1, 3, 3, 9]
    unpadded = Node(2, "linear", "u", None, module_type="Conv2d", attrs={"kernel_size": 3})
    assert tap_classes(unpadded, (8, 8)) is None


PLAIN_CONVS = """
import torch
import torch.nn as nn


class Plain(nn.Module):
    def __init__(self, n=10):
        super().__init__()
        layers = [nn.Conv2d(3, 16, 3, padding=1), nn.ReLU()]
        for _ in range(n - 1):
            layers += [nn.Conv2d(16, 16, 3, padding=PAD), nn.ReLU()]
        self.body = nn.Sequential(*layers)
        self.fc = nn.Linear(16, 10)

    def forward(self, x):
        return self.fc(self.body(x).mean(dim=(2, 3)))


def build():
    return Plain(), torch.randn(8, 3, 32, 32)
"""


def test_the_zero_padded_border_keeps_channels_of_a_deep_default_init_stack_alive(tmp_path):
    # PyTorch's default init under a plain 3x3 ReLU stack: the signal fades, the biases and the
    # shared input mean set each channel's sign, half the channels die in the interior, but a
    # channel reads fewer taps at the border and some live there. Measured at 32x32, batch 8,
    # 40 seeds (scripts/verify_dead_corpus.py): 0.40 of the last ReLU's channels dead with
    # padding 1, 0.50 without; the estimate was 0.50 for both before it read the border
    [padded] = _graphs(tmp_path, PLAIN_CONVS.replace("PAD", "1"))
    [valid] = _graphs(tmp_path, PLAIN_CONVS.replace("PAD", "0"))
    border = unit_stats(padded)[-1].dead_units
    interior = unit_stats(valid)[-1].dead_units
    assert border == pytest.approx(0.40, abs=0.05)
    assert interior == pytest.approx(0.50, abs=0.02)


HIGHWAY = """
import torch
import torch.nn as nn


class Highway(nn.Module):
    def __init__(self, size=128):
        super().__init__()
        self.H = nn.Linear(size, size)
        self.T = nn.Linear(size, size)
        self.T.bias.data.fill_(-2.0)

    def forward(self, x):
        t = torch.sigmoid(self.T(x))
        return torch.relu(self.H(x)) * t + x * (1 - t)


def build():
    return Highway(), torch.randn(64, 128)
"""


def test_the_carry_of_a_highway_layer_is_the_complement_of_its_gate(tmp_path):
    [graph] = _graphs(tmp_path, HIGHWAY)
    complement = next(n for n in graph.nodes if n.op == "identity" and "affine" in n.attrs)
    assert complement.attrs["affine"] == (-1.0, 1.0)
    found = estimate(graph)
    gate = found.nodes[complement.inputs[0]]
    carry = found.nodes[complement.id]
    # σ(g) with g ~ N(-2, ·) has mean about 0.12, so 1 - σ(g) about 0.88 and E[(1-σ)²] about 0.77
    assert carry.mean == pytest.approx(1.0 - gate.mean)
    assert carry.m2 == pytest.approx(1.0 - 2.0 * gate.mean + gate.m2)
    assert 0.7 < carry.m2 < 0.8


SQUEEZE_EXCITE = """
import torch
import torch.nn as nn


class SE(nn.Module):
    def __init__(self, c, r=4):
        super().__init__()
        self.fc1 = nn.Conv2d(c, c // r, 1)
        self.fc2 = nn.Conv2d(c // r, c, 1)

    def forward(self, x):
        s = torch.sigmoid(self.fc2(torch.relu(self.fc1(x.mean((2, 3), keepdim=True)))))
        return x * s


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 32, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(32)
        self.se1 = SE(32)
        self.conv2 = nn.Conv2d(32, 64, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(64)
        self.se2 = SE(64)
        self.head = nn.Linear(64, 10)

    def forward(self, x):
        x = self.se1(torch.relu(self.bn1(self.conv1(x))))
        x = self.se2(torch.relu(self.bn2(self.conv2(x))))
        return self.head(x.mean((2, 3)))


def build():
    return Net(), torch.randn(8, 3, 32, 32)
"""


def test_a_squeeze_and_excite_scale_keeps_the_mean_and_the_positions_of_what_it_scales(tmp_path):
    from gradlint.gain.spatial import input_shape, spatial_sizes

    [graph] = [g for g in _graphs(tmp_path, SQUEEZE_EXCITE) if g.name == "Net"]
    found = estimate(graph)
    first = next(n for n in graph.nodes if n.op == "gate")
    relu_out = found.nodes[first.inputs[0]]
    # E[relu(BN x) · σ(s)] = E[relu]·E[σ]: about 0.4 · 0.5
    assert found.nodes[first.id].mean == pytest.approx(relu_out.mean * 0.5, rel=0.05)
    assert spatial_sizes(graph, input_shape(graph))[first.id] == (32, 32)
    # each excitation's ReLU reads a pooled map whose samples share their offsets. Measured
    # over 20 seeds (scripts/verify_dead_corpus.py; one row for the line both blocks run):
    # 0.50 of the units dead for the batch; estimated 0.27 while the gate lost the mean and
    # the positions of the map it scales (0.48 for the first block, 0.06 for the second)
    squeeze = {s.width: s.dead_units for s in unit_stats(graph) if s.width in (8, 16)}
    assert squeeze[8] == pytest.approx(0.50, abs=0.1)
    assert squeeze[16] == pytest.approx(0.50, abs=0.1)


def test_no_dead_unit_share_is_claimed_after_a_recurrent_layer(tmp_path):
    text = """
import torch
import torch.nn as nn
import torch.nn.functional as F


class GRUNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.gru = nn.GRU(12, 64, batch_first=True)
        self.fc1 = nn.Linear(64, 64)
        self.fc2 = nn.Linear(64, 6)

    def forward(self, x):
        out, _ = self.gru(x)
        return self.fc2(F.relu(self.fc1(out.mean(dim=1))))


def build():
    return GRUNet(), torch.randn(32, 20, 12)
"""
    [graph] = _graphs(tmp_path, text)
    [site] = unit_stats(graph)
    assert site.kind == "relu" and site.dead_units is None and site.layer_dead is None


def test_sin_and_cos_have_closed_form_gaussian_moments():
    # against a plain Riemann sum of the Gaussian integral
    def integral(f, mean, var, n=20001):
        sd = math.sqrt(var)
        lo, step = mean - 10 * sd, 20 * sd / (n - 1)
        total = 0.0
        for i in range(n):
            h = lo + i * step
            total += f(h) * math.exp(-0.5 * (h - mean) ** 2 / var)
        return total * step / (sd * math.sqrt(2 * math.pi))

    for mean, var in ((0.0, 1.0), (0.7, 0.3), (-2.0, 4.0)):
        q = var + mean * mean
        s, c = moments("sin", q, mean=mean), moments("cos", q, mean=mean)
        assert s.mean == pytest.approx(integral(math.sin, mean, var), abs=1e-6)
        assert s.m2 == pytest.approx(integral(lambda h: math.sin(h) ** 2, mean, var), abs=1e-6)
        assert s.d2 == pytest.approx(c.m2) and c.d2 == pytest.approx(s.m2)
        assert c.mean == pytest.approx(integral(math.cos, mean, var), abs=1e-6)
    # a wide input spreads the phase: both squares average one half
    wide = moments("sin", 900.0)
    assert wide.m2 == pytest.approx(0.5) and wide.d2 == pytest.approx(0.5)


def test_a_sinusoidal_time_embedding_no_longer_stops_the_walk(tmp_path):
    # denoising-diffusion-pytorch's SinusoidalPosEmb before the time MLP: `emb.sin()`, `emb.cos()`
    # were maths the walk could not follow; the probe measures log10 ratio -0.15 on this model
    text = """
import math
import torch
import torch.nn as nn


class SinusoidalPosEmb(nn.Module):
    def __init__(self, dim):
        super().__init__()
        self.dim = dim

    def forward(self, x):
        half_dim = self.dim // 2
        emb = math.log(10000) / (half_dim - 1)
        emb = torch.exp(torch.arange(half_dim, device=x.device) * -emb)
        emb = x[:, None] * emb[None, :]
        emb = torch.cat((emb.sin(), emb.cos()), dim=-1)
        return emb


class TimeMLP(nn.Module):
    def __init__(self, dim=64):
        super().__init__()
        self.net = nn.Sequential(SinusoidalPosEmb(dim), nn.Linear(dim, dim * 4), nn.GELU(), nn.Linear(dim * 4, dim))

    def forward(self, t):
        return self.net(t)


def build():
    return TimeMLP(), torch.randn(16)
"""
    graphs = {g.name: g for g in _graphs(tmp_path, text)}
    found = estimate(graphs["TimeMLP"])
    assert found.known and found.log10_grad_ratio == pytest.approx(-0.3, abs=0.1)
    kinds = {n.activation for n in graphs["TimeMLP"].nodes if n.op == "activation"}
    assert {"sin", "cos"} <= kinds
