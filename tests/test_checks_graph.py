"""GL101/GL201/GL202/GL203/GL301 on hand-built layer graphs: what fires, what stays silent."""

from __future__ import annotations

import pytest
from graph_builder import Builder, build, mlp

from gradlint.checks.initialisation import (
    DefaultInitDeepPlainStack,
    MisScaledInit,
    ZeroOrConstantInit,
)
from gradlint.checks.plain_stack import DeepPlainStack
from gradlint.checks.saturation import SaturatingActivationChain
from gradlint.diagnostics import Location
from gradlint.ir import Init

CHAIN_RULES = (SaturatingActivationChain, MisScaledInit, DefaultInitDeepPlainStack, DeepPlainStack)
ALL_RULES = (*CHAIN_RULES, ZeroOrConstantInit)


def findings(graph, rules=ALL_RULES, options=None):
    out = []
    for cls in rules:
        out.extend(cls(options if options and cls in CHAIN_RULES else None).check_graph(graph))
    return out


def codes(graph, **kw) -> list[str]:
    return sorted(f.code for f in findings(graph, **kw))


# --------------------------------------------------------------------------- positives


def test_deep_sigmoid_mlp_is_gl101_at_its_first_layer_with_the_arithmetic():
    graph = build(mlp("sigmoid", 10, fan_in=784, width=256))
    [found] = findings(graph)
    assert found.code == "GL101"
    first = graph.weighted()[0]
    assert found.location == first.location
    assert "9 sigmoid layers in series (body.0 → body.18)" in found.message
    assert "sigmoid' ≤ 0.25" in found.message
    assert "of the gradient at `body.18` reaches body.0" in found.message
    assert found.extra["log10_grad_ratio"] < -6


def test_deep_tanh_mlp_with_small_normal_init_is_gl101_not_an_init_rule():
    assert codes(build(mlp("tanh", 20, ("normal", 0.05)))) == ["GL101"]


def test_deep_relu_on_default_init_is_gl203_and_quotes_the_041_gain():
    [found] = findings(build(mlp("relu", 14, width=256)))
    assert found.code == "GL203"
    assert "gain of about 0.41 under relu" in found.message
    assert "kaiming_normal_" in found.message


def test_deep_relu_with_tiny_normal_init_is_gl202_with_the_factor_against_he():
    [found] = findings(build(mlp("relu", 12, ("normal", 0.01), width=256, fan_in=784)))
    assert found.code == "GL202"
    assert found.extra["reference"] == "He"
    # He std for fan-in 256 is √(2/256) ≈ 0.088: 0.01 is about 0.11 of it
    assert found.extra["factor"] == pytest.approx(0.01 / (2 / 256) ** 0.5, rel=1e-2)
    assert "nn.init.normal_(std=0.01)" in found.message


def test_deep_softplus_stack_is_gl301_when_init_cannot_fix_it():
    [found] = findings(build(mlp("softplus", 32, ("he",), width=256, fan_in=784)))
    assert found.code == "GL301"
    assert "without normalisation or residual connection" in found.message
    assert "with He/Xavier init: about" in found.message


def test_chaotic_tanh_stack_explodes_and_is_an_init_finding():
    # σ_w² = 128 · 0.5² = 32: tanh saturates, yet each layer multiplies E[δ²] by about 3
    [found] = findings(build(mlp("tanh", 20, ("normal", 0.5))))
    assert found.code == "GL202"
    assert found.extra["log10_grad_ratio"] > 3
    assert found.extra["reference"] == "Xavier"


def test_exactly_one_code_per_offending_chain():
    for spec in (mlp("sigmoid", 12), mlp("relu", 16), mlp("relu", 16, ("normal", 0.02))):
        assert len(codes(build(spec))) == 1


# --------------------------------------------------------------------------- thresholds and options


def test_thresholds_are_options():
    graph = build(mlp("relu", 14, width=256))
    assert codes(graph, options={"min-gradient-ratio": 1e-12, "max-gradient-ratio": 1e12}) == []
    shallow = build(mlp("tanh", 6))
    assert codes(shallow) == []
    assert codes(shallow, options={"min-gradient-ratio": 0.9, "max-gradient-ratio": 10.0}) != []


def test_unknown_option_is_refused():
    with pytest.raises(ValueError):
        SaturatingActivationChain({"min-ratio": 1e-3})


def test_unknown_init_keeps_every_chain_rule_silent():
    graph = build(mlp("sigmoid", 12))
    graph.weighted()[3].weight_init = Init("unknown")
    assert codes(graph) == []


def test_incomplete_graph_keeps_every_chain_rule_silent():
    graph = build(mlp("sigmoid", 12))
    graph.complete = False
    assert codes(graph) == []


# --------------------------------------------------------------------------- not flagged


def test_shallow_tanh_mlp_is_clean():
    assert codes(build(mlp("tanh", 2))) == []


def test_sigmoid_on_the_output_alone_is_clean():
    assert codes(build(mlp("relu", 6, ("he",), out_activation="sigmoid"))) == []


def test_resnet_style_residual_chain_is_clean():
    blocks = [("res", [("linear", 128, 128), ("bn", 128), ("act", "relu"), ("linear", 128, 128), ("bn", 128)])]
    spec = [("linear", 64, 128), ("bn", 128), ("act", "relu")]
    for _ in range(16):
        spec += [*blocks, ("act", "relu")]
    spec.append(("linear", 128, 10))
    assert codes(build(spec)) == []


def test_residual_mlp_without_norm_on_default_init_is_clean():
    spec = [("linear", 64, 128)] + [("res", [("act", "relu"), ("linear", 128, 128)])] * 30 + [("linear", 128, 10)]
    assert codes(build(spec)) == []


def _transformer(layers: int) -> list:
    std = ("normal", 0.02)
    spec: list = [("embedding", 50257, 768)]
    for _ in range(layers):
        attention = [("ln", 768), ("linear", 768, 2304, std), ("linear", 768, 768, std)]
        ffn = [("ln", 768), ("linear", 768, 3072, std), ("act", "gelu"), ("linear", 3072, 768, std), ("dropout",)]
        spec += [("res", attention), ("res", ffn)]
    return [*spec, ("ln", 768), ("linear", 768, 50257, std)]


def test_transformer_with_layernorm_residuals_and_gpt2_init_is_clean():
    assert codes(build(_transformer(12))) == []


def test_unet_with_concat_skips_is_clean():
    def block(n, m):
        return [("linear", n, m, ("he",)), ("bn", m), ("act", "relu"), ("linear", m, m, ("he",)), ("bn", m), ("act", "relu")]

    inner = block(256, 256)
    level2 = [*block(128, 256), ("cat", inner, [("dropout",)])]
    spec = [*block(64, 128), ("cat", [*level2, *block(512, 128)], [("dropout",)]), *block(256, 64), ("linear", 64, 1)]
    assert codes(build(spec)) == []


def test_lstm_language_model_is_clean():
    assert codes(build([("embedding", 10000, 256), ("lstm", 256, 512), ("dropout",), ("linear", 2048, 10000)])) == []


def test_squeeze_excite_gates_are_clean():
    spec = [("linear", 64, 128, ("he",)), ("bn", 128), ("act", "relu")]
    for _ in range(8):
        spec += [
            ("linear", 128, 128, ("he",)),
            ("bn", 128),
            ("act", "relu"),
            ("se", [("linear", 128, 16), ("act", "relu"), ("linear", 16, 128)]),
        ]
    spec.append(("linear", 128, 10))
    assert codes(build(spec)) == []


def test_swish_mlp_with_he_init_is_clean():
    assert codes(build(mlp("silu", 8, ("he",)))) == []


def test_deep_relu_with_batchnorm_and_kaiming_is_clean():
    spec = []
    n = 64
    for _ in range(30):
        spec += [("linear", n, 256, ("he",)), ("bn", 256), ("act", "relu")]
        n = 256
    spec.append(("linear", 256, 10))
    assert codes(build(spec)) == []


def test_dcgan_generator_with_batchnorm_is_clean():
    spec = []
    n = 100
    for width in (1024, 512, 256, 128):
        spec += [("linear", n, width, ("normal", 0.02)), ("bn", width), ("act", "relu")]
        n = width
    spec += [("linear", 128, 3 * 64, ("normal", 0.02)), ("act", "tanh")]
    assert codes(build(spec)) == []


# --------------------------------------------------------------------------- GL201


def test_two_consecutive_zero_layers_are_gl201_at_the_init_call():
    spec = mlp("relu", 4, ("he",))
    spec[2] = ("linear", 128, 128, ("zeros",))
    spec[4] = ("linear", 128, 128, ("constant", 0.5))
    graph = build(spec)
    init_site = Location("model.py", 42, 9)
    graph.weighted()[1].weight_init.location = init_site
    found = [f for f in findings(graph) if f.code == "GL201"]
    assert [f.location for f in found] == [init_site]
    assert "symmetry is never broken" in found[0].message


def test_zero_hidden_layer_with_zero_bias_before_relu_is_gl201():
    b = Builder()
    x = b.act(b.linear(b.input(), 64, 128, ("he",)), "relu")
    hidden = b.linear(x, 128, 128, ("zeros",), bias=("zeros",))
    b.output(b.linear(b.act(hidden, "relu"), 128, 10, ("he",)))
    [found] = findings(b.graph, rules=(ZeroOrConstantInit,))
    assert "relu'(0) = 0" in found.message
    assert found.location == b.graph.nodes[hidden].location


def test_zero_hidden_layer_with_a_random_bias_is_not_dead():
    b = Builder()
    x = b.act(b.linear(b.input(), 64, 128, ("he",)), "relu")
    hidden = b.linear(x, 128, 128, ("zeros",))
    b.output(b.linear(b.act(hidden, "relu"), 128, 10, ("he",)))
    assert findings(b.graph, rules=(ZeroOrConstantInit,)) == []


def test_zero_output_layer_and_zero_last_layer_of_residual_branch_are_clean():
    spec = [("linear", 64, 128, ("he",))]
    for _ in range(4):
        spec.append(("res", [("ln", 128), ("linear", 128, 512, ("he",)), ("act", "gelu"), ("linear", 512, 128, ("zeros",))]))
    spec.append(("linear", 128, 10, ("zeros",)))
    assert findings(build(spec), rules=(ZeroOrConstantInit,)) == []


def test_adaln_zero_modulation_into_a_gate_is_clean():
    b = Builder()
    x = b.act(b.linear(b.input(), 64, 128, ("he",)), "relu")
    modulation = b.linear(x, 128, 128, ("zeros",), bias=("zeros",))
    b.output(b.linear(b.add("gate", [x, modulation]), 128, 10))
    assert findings(b.graph, rules=(ZeroOrConstantInit,)) == []


def test_norm_weight_ones_and_bias_zeros_are_clean():
    spec = [("linear", 64, 128, ("he",), ), ("bn", 128), ("act", "relu"), ("linear", 128, 10)]
    graph = build(spec)
    for node in graph.weighted():
        node.bias_init = Init("zeros", variance=0.0, constant=0.0)
    assert findings(graph) == []


# --------------------------------------------------------------------------- ONNX graphs


def test_onnx_graph_findings_point_at_nodes():
    graph = build(mlp("sigmoid", 10), source="onnx")
    [found] = findings(graph)
    assert found.code == "GL101"
    assert found.location.line is None and found.location.node == "body.0"


def test_trained_onnx_checkpoint_skips_init_rules_only():
    zeroed = mlp("relu", 4, ("he",))
    zeroed[2] = ("linear", 128, 128, ("zeros",))
    zeroed[4] = ("linear", 128, 128, ("zeros",))
    for spec, code in ((mlp("relu", 14, width=256), "GL203"), (zeroed, "GL201")):
        graph = build(spec, source="onnx")
        assert code in codes(graph)
        graph = build(spec, source="onnx")
        graph.attrs["init_checks"] = False
        assert code not in codes(graph)
    saturated = build(mlp("sigmoid", 10), source="onnx")
    saturated.attrs["init_checks"] = False
    assert codes(saturated) == ["GL101"]


def test_a_head_registered_before_the_body_is_still_a_vanishing_chain():
    graph = build(mlp("sigmoid", 10))
    layers = graph.weighted()
    # self.head = ... written first in __init__: it comes first in named_parameters()
    for position, node in enumerate([layers[-1], *layers[:-1]]):
        node.param_index = position
    assert codes(graph) == ["GL101"]
