"""The mean-field estimate on hand-built graphs: moments, init, unknowns, records."""

from __future__ import annotations

import math

import pytest
from graph_builder import Builder, build, mlp

from gradlint.gain import CACHE_KEY, estimate, gaussian_mean, moments
from gradlint.ir import Init
from gradlint.records import model_record


def test_relu_and_identity_moments_are_closed_forms():
    assert moments("relu", 4.0).m2 == pytest.approx(2.0)
    assert moments("relu", 4.0).d2 == pytest.approx(0.5)
    assert moments("leaky_relu", 1.0, 0.2).d2 == pytest.approx((1 + 0.04) / 2)
    assert moments("identity", 3.0).m2 == pytest.approx(3.0)


def test_quadrature_agrees_with_closed_forms_of_smooth_activations():
    # E[tanh'(h)²] for a saturated tanh: the derivative peak is narrow next to
    # the Gaussian, ∫ sech⁴ = 4/3 so the value tends to (4/3) / √(2π q)
    for q in (1e2, 1e4, 1e6):
        assert moments("tanh", q).d2 == pytest.approx(4.0 / 3.0 / math.sqrt(2 * math.pi * q), rel=0.02)
    # E[sigmoid'(h)²] near q = 0 is 1/16
    assert moments("sigmoid", 1e-6).d2 == pytest.approx(1 / 16, rel=1e-3)
    # E[h²] of N(0, q) itself
    assert gaussian_mean(lambda h: h * h, 7.0) == pytest.approx(7.0, rel=1e-6)


def test_gelu_tends_to_relu_for_wide_inputs():
    assert moments("gelu", 1e4).m2 == pytest.approx(moments("relu", 1e4).m2, rel=0.01)


def test_default_init_relu_stack_loses_a_third_of_its_variance_per_layer():
    spec = [("linear", 100, 100, ("default",), ), ("act", "relu")] * 3 + [("linear", 100, 100)]
    graph = build(spec)
    found = estimate(graph)
    layers = graph.weighted()
    # a default Linear draws Var(w) = 1/(3·fan_in): the pre-activation of layer 0 is 1/3 + bias
    assert found.nodes[layers[0].id].pre_m2 == pytest.approx(1 / 3 + 1 / 300, rel=1e-6)
    # backward per layer: m·v·E[relu'²] = 100 · 1/300 · 1/2 = 1/6
    d = [float(found.nodes[n.id].delta2) for n in layers]
    assert d[1] / d[2] == pytest.approx(1 / 6, rel=1e-6)


def test_he_init_relu_stack_keeps_the_gradient():
    deep = estimate(build(mlp("relu", 30, ("he",), width=256))).log10_grad_ratio
    shallow = estimate(build(mlp("relu", 3, ("he",), width=256))).log10_grad_ratio
    assert deep == pytest.approx(shallow, abs=0.1)


def test_sigmoid_depth_vanishes_geometrically():
    ratios = [estimate(build(mlp("sigmoid", d))).log10_grad_ratio for d in (4, 8, 12)]
    assert ratios[0] > ratios[1] > ratios[2]
    assert ratios[2] - ratios[1] == pytest.approx(ratios[1] - ratios[0], abs=0.3)


def test_residual_and_norm_keep_deep_stacks_flat():
    res = [("linear", 64, 128)] + [("res", [("act", "relu"), ("linear", 128, 128)])] * 30 + [("linear", 128, 10)]
    bn = []
    for _ in range(30):
        bn += [("linear", 128 if bn else 64, 128, ("he",)), ("bn", 128), ("act", "relu")]
    bn.append(("linear", 128, 10))
    assert abs(estimate(build(res)).log10_grad_ratio) < 2
    assert abs(estimate(build(bn)).log10_grad_ratio) < 2


@pytest.mark.parametrize(
    "spoil",
    [
        lambda g: setattr(g, "complete", False),
        lambda g: setattr(g.weighted()[1], "weight_init", Init("unknown")),
        lambda g: setattr(g.weighted()[1], "fan_in", None),
        lambda g: setattr(g.weighted()[1], "weight_init", Init("normal")),  # variance unknown
    ],
    ids=["incomplete", "unknown-init", "unknown-fan-in", "unknown-variance"],
)
def test_unknowns_make_the_estimate_null(spoil):
    graph = build(mlp("sigmoid", 6))
    spoil(graph)
    found = estimate(graph)
    assert found.log10_grad_ratio is None and not found.known
    assert model_record(graph).log10_grad_ratio is None


def test_an_opaque_node_on_the_path_makes_the_estimate_null_but_not_one_off_it():
    b = Builder()
    x = b.input()
    h = b.act(b.linear(x, 10, 10), "relu")
    on_path = b.add("opaque", [h])
    b.output(b.linear(on_path, 10, 10))
    assert estimate(b.graph).log10_grad_ratio is None

    b = Builder()
    x = b.input()
    h = b.act(b.linear(x, 10, 10), "relu")
    b.add("opaque", [h])  # a side computation that never reaches the output
    b.output(b.linear(h, 10, 10))
    assert estimate(b.graph).log10_grad_ratio is not None


def test_ratio_uses_parameter_order_not_forward_order():
    graph = build(mlp("sigmoid", 6))
    forward = estimate(graph).log10_grad_ratio
    layers = graph.weighted()
    layers[0].param_index, layers[-1].param_index = layers[-1].param_index, layers[0].param_index
    graph.attrs.pop(CACHE_KEY)
    swapped = estimate(graph).log10_grad_ratio
    assert forward < -2 and swapped > 2


def test_zero_output_layer_leaves_only_itself_with_a_gradient():
    spec = mlp("relu", 4)
    spec[-1] = ("linear", 128, 10, ("zeros",))
    graph = build(spec)
    found = estimate(graph)
    # nothing reaches the hidden layers through zero weights: the first weight with a
    # nonzero gradient is the output layer itself
    assert found.first == graph.weighted()[-1].id
    assert found.log10_grad_ratio == pytest.approx(0.0)


def test_estimate_is_cached_on_the_graph():
    graph = build(mlp("tanh", 4))
    assert estimate(graph) is estimate(graph)
    assert CACHE_KEY in graph.attrs


def test_model_record_reports_depth_and_weights():
    b = Builder("Net", path="net.py")
    x = b.input()
    trunk = b.act(b.linear(x, 8, 8), "relu")
    branch = b.linear(b.act(b.linear(trunk, 8, 8), "relu"), 8, 8)
    joined = b.add("add", [trunk, branch])
    b.output(b.linear(joined, 8, 2))
    record = model_record(b.graph)
    assert (record.path, record.name) == ("net.py", "Net")
    assert record.depth == 4  # the branch path: linear, linear, linear, head
    assert record.extra == {"weights": 4, "complete": True, "source": "python"}
    assert record.log10_grad_ratio is not None
    assert record.to_json()["log10_grad_ratio"] == record.log10_grad_ratio


def test_lstm_and_embedding_are_units_with_a_finite_estimate():
    spec = [("embedding", 1000, 64), ("lstm", 64, 128), ("linear", 512, 10)]
    assert estimate(build(spec)).log10_grad_ratio is not None


def test_a_flatten_head_needs_the_convolution_channels():
    spec = [("conv", 3, 32, 3), ("act", "relu"), ("conv", 32, 32, 3), ("act", "relu"), ("flatten",),
            ("linear", 32 * 8 * 8, 10)]
    graph = build(spec)
    known = estimate(graph).log10_grad_ratio
    # each conv weight sums its gradient over the 64 positions the head flattens:
    # √64 more gradient than one position gives
    graph.nodes[-2].attrs["positions"] = 1
    graph.attrs.clear()
    assert known - estimate(graph).log10_grad_ratio == pytest.approx(0.5 * math.log10(64), abs=1e-6)
    graph = build(spec)
    for node in graph.nodes:
        node.attrs.pop("out_channels", None)
    assert estimate(graph).log10_grad_ratio is None


def test_two_hundred_sigmoid_layers_vanish_without_underflow():
    # E[δ²] at the first layer is far below the smallest float
    ratio = estimate(build(mlp("sigmoid", 200))).log10_grad_ratio
    assert ratio is not None and ratio < -150


def test_a_signal_that_overflows_makes_the_estimate_null():
    found = estimate(build(mlp("relu", 300, ("normal", 0.5))))
    assert found.log10_grad_ratio is None and "overflows" in found.unknown


def test_one_input_gates_are_swish_or_glu():
    def gated(module_type, activation):
        b = Builder()
        x = b.linear(b.input(), 64, 128, ("he",))
        gate = b.add("gate", [x], activation=activation, module_type=module_type)
        b.output(b.linear(gate, 128, 10))
        return estimate(b.graph)

    swish = gated("SiLU", None)
    assert gated("SiLU", "sigmoid").nodes[2].m2 == pytest.approx(swish.nodes[2].m2)
    assert swish.nodes[2].m2 == pytest.approx(moments("silu", swish.nodes[1].m2).m2)
    glu = gated("GLU", None)
    q = glu.nodes[1].m2
    assert glu.nodes[2].m2 == pytest.approx(q * moments("sigmoid", q).m2)


def test_one_constant_for_every_weight_has_no_estimate():
    """Identical units are one unit repeated: the mean field of independent units does not
    describe them, so the ratio is unknown rather than a number off by decades."""
    from gradlint.diagnostics import Location
    from gradlint.gain import estimate
    from gradlint.ir import Init, LayerGraph

    here = Location("m.py", 1, 1)
    graph = LayerGraph("M", here)
    x = graph.add("input", "input", here)
    a = graph.add("linear", "a", here, [x.id], fan_in=8, fan_out=8, param_index=0,
                  weight_init=Init("constant", constant=0.05))
    b = graph.add("linear", "b", here, [a.id], fan_in=8, fan_out=2, param_index=1)
    graph.add("output", "output", here, [b.id])
    found = estimate(graph)
    assert found.log10_grad_ratio is None and "constant" in found.unknown

    a.weight_init = Init("zeros")
    graph.attrs.clear()
    assert estimate(graph).known


def test_an_embedding_row_takes_its_share_of_the_tokens():
    """A one-hot input over V rows: each row's gradient comes from 1/V of the tokens, so a
    tenfold vocabulary lowers the embedding's RMS gradient by half a decade."""
    small = estimate(build([("embedding", 100, 64), ("act", "tanh"), ("linear", 64, 10)]))
    large = estimate(build([("embedding", 1000, 64), ("act", "tanh"), ("linear", 64, 10)]))
    assert small.log10_grad_ratio - large.log10_grad_ratio == pytest.approx(0.5, abs=1e-6)


def test_a_frozen_first_weight_stands_apart_from_the_ratio():
    spec = [("embedding", 1000, 64), ("lstm", 64, 128), ("linear", 512, 10)]
    graph = build(spec)
    with_embedding = estimate(graph)
    graph.weighted()[0].attrs["frozen"] = True
    graph.attrs.clear()
    without = estimate(graph)
    assert without.first == graph.weighted()[1].id
    assert without.log10_grad_ratio != pytest.approx(with_embedding.log10_grad_ratio)


FROZEN_SOURCE = '''import torch.nn as nn


class Classifier(nn.Module):
    def __init__(self):
        super().__init__()
        self.embedding = nn.Embedding(300, 50)
        self.embedding.weight.requires_grad = False
        self.encoder = nn.GRU(50, 64, batch_first=True)
        self.head = nn.Linear(64, 4)

    def forward(self, tokens):
        _, h = self.encoder(self.embedding(tokens))
        return self.head(h.squeeze(0))
'''


def test_requires_grad_false_in_source_keeps_the_weight_out_of_the_ratio():
    from gradlint.frontends.python import build_graphs
    from gradlint.source import SourceFile

    (graph,) = build_graphs(SourceFile.parse("frozen.py", FROZEN_SOURCE), None)
    embedding = next(n for n in graph.nodes if n.op == "embedding")
    assert embedding.attrs.get("frozen") is True
    found = estimate(graph)
    assert found.log10_grad_ratio is not None
    assert found.first == next(n.id for n in graph.nodes if n.op == "recurrent")


def _squeeze_excite(folded: bool):
    from gradlint.diagnostics import Location
    from gradlint.ir import LayerGraph

    here = Location("m.py", 1, 1)
    graph = LayerGraph("M", here)
    x = graph.add("input", "input", here)
    body = graph.add("linear", "body", here, [x.id], fan_in=16, fan_out=16, param_index=0)
    proj = graph.add("linear", "proj", here, [body.id], fan_in=16, fan_out=16, param_index=1)
    if folded:  # ONNX: the Sigmoid is folded into the gate, which names it
        gate = graph.add("gate", "mul", here, [body.id, proj.id], attrs={"gate": "sigmoid"})
    else:
        squash = graph.add("activation", "sigmoid", here, [proj.id], activation="sigmoid")
        gate = graph.add("gate", "mul", here, [body.id, squash.id])
    head = graph.add("linear", "head", here, [gate.id], fan_in=16, fan_out=4, param_index=2)
    graph.add("output", "output", here, [head.id])
    return graph


def test_a_gate_with_its_sigmoid_folded_in_estimates_like_the_spelled_out_one():
    spelled, folded = estimate(_squeeze_excite(False)), estimate(_squeeze_excite(True))
    assert folded.log10_grad_ratio == pytest.approx(spelled.log10_grad_ratio, abs=1e-9)


def test_the_head_keeps_its_coherent_batch_gradient_through_dropout_and_an_output_activation():
    """Deep softplus units carry fixed offsets, so the head's batch gradient adds up across
    samples; a dropout or an elementwise activation after the head does not change that."""
    body = [("linear", 12, 64), ("act", "softplus")] + [("linear", 64, 64), ("act", "softplus")] * 6
    plain = estimate(build(body + [("linear", 64, 1)])).log10_grad_ratio
    wrapped = estimate(build(body + [("linear", 64, 1), ("dropout",)])).log10_grad_ratio
    squashed = estimate(build(body + [("linear", 64, 1), ("act", "softplus")])).log10_grad_ratio
    assert wrapped == pytest.approx(plain, abs=1e-9)
    assert squashed == pytest.approx(plain, abs=0.3)


@pytest.mark.parametrize("recorded", [{"kernel_size": 3, "groups": 1}, {"kernel": [3, 3], "groups": 1}])
def test_flattened_positions_follow_from_a_convolutions_fans_and_kernel(recorded):
    """The python frontend records kernel_size and groups, ONNX the kernel dims: either gives
    the output channels, and so the positions a Linear flattens, as out_channels does."""
    spec = [("conv", 3, 8, 3), ("act", "relu"), ("conv", 8, 8, 3), ("act", "relu"),
            ("flatten",), ("linear", 8 * 16, 10)]
    reference = estimate(build(spec)).log10_grad_ratio
    graph = build(spec)
    for node in graph.weighted()[:2]:
        del node.attrs["out_channels"]
        node.attrs.update(recorded)
    assert estimate(graph).log10_grad_ratio == pytest.approx(reference, abs=1e-12)
    for node in graph.weighted()[:2]:
        node.attrs.clear()
    graph.attrs.clear()
    assert estimate(graph).log10_grad_ratio is None  # nothing says how many positions


def test_a_parameter_the_graph_does_not_hold_first_leaves_the_ratio_unknown():
    """A class token or position table registered before the first layer is the ratio's
    input-side weight; the graph has no node for it, so the ratio is not claimed."""
    graph = build([("linear", 16, 16), ("act", "relu"), ("linear", 16, 4)])
    for offset, node in enumerate(graph.weighted(), start=1):
        node.param_index = offset
    found = estimate(graph)
    assert found.log10_grad_ratio is None and found.forward_log10 is not None
