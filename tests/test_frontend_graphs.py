"""The python frontend turns real model code into the layer graphs the rules read."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from gradlint.frontends.python import Project, build_graphs
from gradlint.gain import estimate
from gradlint.ir import LayerGraph, Node
from gradlint.source import SourceFile

FIXTURES = Path(__file__).parent / "fixtures" / "frontend"


def graphs_of(name: str) -> dict[str, LayerGraph]:
    project = Project.for_files(sorted(FIXTURES.rglob("*.py")))
    path = FIXTURES / name
    source = SourceFile.parse(str(path), path.read_text(encoding="utf-8"))
    return {g.name: g for g in build_graphs(source, project)}


def by_name(graph: LayerGraph, name: str) -> Node:
    matches = [n for n in graph.nodes if n.name == name]
    assert len(matches) == 1, [n.name for n in graph.nodes]
    return matches[0]


def ops(graph: LayerGraph) -> list[str]:
    return [n.op for n in graph.nodes]


def chain_from_output(graph: LayerGraph) -> list[Node]:
    """The first-input path from output back to input, output first."""
    node = next(n for n in graph.nodes if n.op == "output")
    path = [node]
    while node.inputs:
        node = graph.node(node.inputs[0])
        path.append(node)
    return path


def test_resnet_blocks_are_inlined_with_residual_adds_and_downsample():
    graph = graphs_of("resnet.py")["ResNet"]  # built by the factory resnet_tiny()
    assert graph.complete
    assert graph.location.line == 76
    conv = by_name(graph, "layer1.0.conv1")
    assert (conv.op, conv.module_type, conv.fan_in, conv.has_bias) == ("linear", "Conv2d", 64 * 9, False)
    adds = [n for n in graph.nodes if n.op == "add"]
    assert [a.name for a in adds] == ["layer1.0.add", "layer1.1.add", "layer2.0.add", "layer2.1.add"]
    # the first block of layer2 adds its downsample branch, the others the identity
    down_bn = by_name(graph, "layer2.0.downsample.1")
    assert down_bn.id in adds[2].inputs
    # the block input feeds both the downsample conv and conv1 of the same block
    down_conv = by_name(graph, "layer2.0.downsample.0")
    assert down_conv.inputs == by_name(graph, "layer2.0.conv1").inputs
    assert graph.node(down_conv.inputs[0]).activation == "relu"
    # the identity of layer1.1 is the output of layer1.0 (its final relu after the add)
    assert graph.node(adds[1].inputs[1]).inputs == [adds[0].id]
    # kaiming_normal_(mode="fan_out", nonlinearity="relu") from the loop over self.modules()
    init = conv.weight_init
    assert init.kind == "kaiming_normal"
    assert init.variance == pytest.approx(2.0 / (64 * 9))
    assert init.location is not None and init.location.line == 91
    fc = by_name(graph, "fc")
    assert fc.weight_init.kind == "default" and fc.weight_init.variance == pytest.approx(1 / (3 * 128))
    # registration order: conv1, layer1 (4 convs), layer2 (conv1, conv2, downsample conv per block 0), fc
    weighted = sorted((n for n in graph.nodes if n.param_index is not None), key=lambda n: n.param_index)
    assert [n.name for n in weighted][:3] == ["conv1", "layer1.0.conv1", "layer1.0.conv2"]
    assert by_name(graph, "layer2.0.downsample.0").param_index == 7
    assert fc.param_index == 10 and fc.param_name == "fc.weight"
    assert graph.attrs["weights"] == 11


def test_blocks_that_need_sizes_are_built_twice_with_stand_ins():
    graphs = graphs_of("resnet.py")
    assert set(graphs) == {"ResNet", "BasicBlock", "Bottleneck"}
    assert "stand_ins" not in graphs["ResNet"].attrs
    block = graphs["BasicBlock"]
    assert block.attrs["stand_ins"] == ["inplanes", "planes"]
    assert block.attrs["built_with"] == "stand-ins for inplanes, planes"
    conv1, twin_conv1 = by_name(block, "conv1"), by_name(block.attrs["stand_in_twin"], "conv1")
    assert (conv1.fan_in, conv1.fan_out) == (512 * 9, 256 * 9)
    assert (twin_conv1.fan_in, twin_conv1.fan_out) == (256 * 9, 1024 * 9)


def test_transformer_pre_ln_blocks_with_gpt2_init():
    graph = graphs_of("gpt.py")["GPT"]
    assert graph.complete
    blocks = {n.name.split(".")[2] for n in graph.nodes if n.name.startswith("transformer.h.")}
    assert blocks == {"0", "1", "2"}
    c_fc = by_name(graph, "transformer.h.1.mlp.c_fc")
    assert (c_fc.fan_in, c_fc.fan_out) == (128, 512)
    # _init_weights through self.apply: normal(0, 0.02); c_proj scaled by 1/sqrt(2 n_layer)
    assert c_fc.weight_init.kind == "normal" and c_fc.weight_init.variance == pytest.approx(0.02**2)
    assert c_fc.bias_init.kind == "zeros"
    proj = by_name(graph, "transformer.h.1.mlp.c_proj")
    assert proj.weight_init.variance == pytest.approx((0.02 / math.sqrt(6)) ** 2)
    wte = by_name(graph, "transformer.wte")
    assert wte.op == "embedding" and wte.weight_init.variance == pytest.approx(0.02**2)
    # pre-LN residuals: x + attn(ln_1(x)), x + mlp(ln_2(x))
    adds = [n for n in graph.nodes if n.op == "add" and n.name.startswith("transformer.h.0")]
    assert len(adds) == 2
    ln_1 = by_name(graph, "transformer.h.0.ln_1")
    assert ln_1.inputs[0] in adds[0].inputs
    assert adds[0].id in adds[1].inputs
    assert any(n.op == "attention" for n in graph.nodes)  # q @ k^T and att @ v
    softmax = [n for n in graph.nodes if n.activation == "softmax"]
    assert len(softmax) == 3
    # named_parameters order: wte, wpe, then per block c_attn, c_proj, c_fc, c_proj; lm_head last
    assert by_name(graph, "transformer.wpe").param_index == 1
    assert by_name(graph, "transformer.h.0.attn.c_attn").param_index == 2
    assert by_name(graph, "lm_head").param_index == 14
    assert chain_from_output(graph)[1].name == "lm_head"


def test_unet_skips_are_concat_nodes():
    graph = graphs_of("unet.py")["UNet"]
    assert graph.complete
    cats = [n for n in graph.nodes if n.op == "concat"]
    assert [c.name for c in cats] == ["up1.cat", "up2.cat"]
    skip = graph.node(cats[0].inputs[0])
    assert skip.name == "down1.maxpool_conv.1.double_conv.5"  # x2 comes from the encoder
    up = by_name(graph, "up1.up")
    assert up.module_type == "ConvTranspose2d" and up.id in cats[0].inputs
    assert up.weight_init.variance == pytest.approx(1 / (3 * 32 * 4))  # torch's fan_in of a transposed weight
    assert by_name(graph, "outc").fan_in == 16


def test_lstm_classifier_and_unused_layer():
    graphs = graphs_of("recurrent.py")
    graph = graphs["LSTMClassifier"]
    lstm = by_name(graph, "lstm")
    assert (lstm.op, lstm.fan_in, lstm.fan_out) == ("recurrent", 64, 256)
    assert lstm.attrs["weights"] == 8  # 2 layers x 2 directions x (ih, hh)
    assert lstm.weight_init.variance == pytest.approx(1 / (3 * 128))
    assert by_name(graph, "fc").param_index == 9
    unused = by_name(graph, "unused_proj")
    assert unused.attrs["unused"] is True and unused.inputs == []
    assert [n.name for n in chain_from_output(graph)[1:5]] == ["fc", "dropout", "cat", "lstm"]
    gru = graphs["GRUTagger"]
    assert chain_from_output(gru)[1].activation == "log_softmax"
    assert by_name(gru, "out").param_index == 2


def test_squeeze_excite_and_swish_are_gates_not_layers_in_series():
    graphs = graphs_of("gates.py")
    se = graphs["SqueezeExcite"]
    gate = next(n for n in se.nodes if n.op == "gate")
    assert set(gate.inputs) == {0, by_name(se, "se.4").id}
    assert by_name(se, "se.4").activation == "sigmoid"
    swish = graphs["SwishMLP"]
    assert [n.op for n in swish.nodes if n.op == "gate"] == ["gate", "gate"]  # F.glu, h * sigmoid(h)
    glu, mul = [n for n in swish.nodes if n.op == "gate"]
    assert mul.inputs == [glu.id] and mul.activation == "sigmoid"  # h * sigmoid(h) is SiLU of h
    assert mul.attrs["folded"] == "self-gated by sigmoid"
    assert chain_from_output(swish)[1].activation == "tanh"  # the tensor method .tanh()


def test_dcgan_generator_with_weights_init_from_factory():
    graph = graphs_of("dcgan.py")["Generator"]
    assert graph.complete
    convs = [n for n in graph.nodes if n.module_type == "ConvTranspose2d"]
    assert len(convs) == 3
    assert all(c.weight_init.kind == "normal" and c.weight_init.variance == pytest.approx(0.0004) for c in convs)
    assert convs[0].fan_in == 100 * 16  # nz * 4 * 4, module-level constants
    assert chain_from_output(graph)[1].activation == "tanh"


def test_config_dataclass_drives_the_mlp():
    graph = graphs_of("config_mlp.py")["ConfigMLP"]
    assert graph.complete
    linears = [n for n in graph.nodes if n.op == "linear"]
    assert [(n.fan_in, n.fan_out) for n in linears] == [(20, 64), (64, 64), (64, 32), (32, 3)]
    assert [n.activation for n in graph.nodes if n.op == "activation"] == ["tanh"] * 3  # ACTIVATIONS["tanh"]
    assert [n.name for n in linears] == ["blocks.0.0", "blocks.1.0", "blocks.2.0", "head"]


def test_unresolvable_code_is_incomplete_or_absent():
    graphs = graphs_of("unresolved.py")
    assert set(graphs) == {"Backbone", "NeedsArgs"}  # NotAModel is no nn.Module
    assert graphs["NeedsArgs"].attrs["stand_ins"] == ["width"]  # a width nothing passes: stand-ins
    backbone = graphs["Backbone"]
    assert not backbone.complete
    assert any(n.op == "opaque" for n in backbone.nodes)
    assert by_name(backbone, "head").param_index is None  # the library model's weights come first
    assert by_name(backbone, "stem").param_index == 0  # registered before it: still known
    assert any("cannot be resolved" in reason and "unresolved.py:13" in reason for reason in backbone.attrs["unknown"])


def test_blocks_from_other_files_of_a_package():
    graphs = graphs_of("pkg/model.py")
    tower = graphs["Tower"]
    assert tower.complete
    assert [n.name for n in tower.nodes if n.op == "add"] == [
        "blocks.0.add", "blocks.1.add", "blocks.2.add", "extra.add"]
    assert by_name(tower, "extra.act").activation == "gelu"  # act="gelu" through ACT_FN in layers.py
    assert by_name(tower, "blocks.1.act").activation == "tanh"
    assert by_name(tower, "blocks.0.norm").location.path.endswith("layers.py")
    assert by_name(tower, "out").param_index == 5
    deep = graphs["DeepTower"]  # subclasses the imported block, calls super().forward
    assert [n.name for n in chain_from_output(deep)[1:4]] == ["head", "add", "input"]
    assert by_name(deep, "act").id in by_name(deep, "add").inputs
    assert Path(by_name(deep, "fc").location.path).name == "blocks.py"


def test_registration_idioms():
    graphs = graphs_of("idioms.py")
    named = graphs["NamedLayers"]
    assert [n.name for n in named.nodes if n.op == "linear"] == ["fc0", "fc1", "fc2", "final"]
    assert [n.activation for n in named.nodes if n.op == "activation"] == ["tanh"] * 3
    ordered = graphs["OrderedStack"]
    assert by_name(ordered, "net.act1").attrs["negative_slope"] == 0.2
    stack = graphs["Stack"]
    assert [n.name for n in stack.nodes if n.op != "input" and n.op != "output"][:3] == ["linear0", "act0", "linear1"]
    indexed = graphs["Indexed"]
    assert [n.name for n in indexed.nodes if n.op == "linear"] == [
        "layers.0", "layers.1", "layers.2", "heads.a", "heads.b"]
    assert by_name(indexed, "heads.b").attrs.get("unused") is True
    assert by_name(indexed, "heads.b").param_index == 4


def test_explicit_inits_are_evaluated_as_torch_computes_them():
    graph = graphs_of("idioms.py")["Inits"]
    a, b, c, d, e = (by_name(graph, k) for k in "abcde")
    assert a.weight_init.kind == "xavier_uniform"
    assert a.weight_init.variance == pytest.approx((5 / 3) ** 2 * 2 / 150)
    assert a.bias_init.kind == "zeros"
    assert b.weight_init.variance == pytest.approx(2 / 50)
    assert b.bias_init.kind == "constant" and b.bias_init.constant == pytest.approx(0.1)
    assert c.weight_init.kind == "uniform" and c.weight_init.variance == pytest.approx(0.2**2 / 12)
    assert (c.fan_in, c.fan_out) == (4 * 15, 16 * 15 // 2)
    assert d.weight_init.kind == "trunc_normal" and d.weight_init.variance == pytest.approx(0.0004, rel=1e-6)
    assert d.bias_init.kind == "unknown"  # copy_ under no_grad
    assert e.weight_init.kind == "orthogonal" and e.weight_init.variance == pytest.approx(1 / 50)
    assert by_name(graph, "emb").weight_init.variance == 1.0
    assert by_name(graph, "emb").param_index == 5


def test_own_parameters_count_in_the_weight_order():
    graph = graphs_of("idioms.py")["OwnParams"]
    assert by_name(graph, "fc").param_index == 1  # self.proj, a 2-D nn.Parameter, comes first


def test_hostile_code_ends_without_hanging():
    graphs = graphs_of("hostile.py")
    assert "Forever" not in graphs and "Spin" not in graphs
    assert not graphs["Recursive"].complete
    assert graphs["Squares"].complete  # numbers and strings too large to hold stay unknown


def test_torch_transformer_layers_are_residual_norm_units():
    graphs = graphs_of("encoder.py")
    graph = graphs["TextEncoder"]
    assert graph.complete
    # each layer is its four 2-D weights (in_proj, out_proj, linear1, linear2), the attention
    # and two residual adds, each after a LayerNorm (norm_first)
    first = [n for n in graph.nodes if n.name.startswith("encoder.layers.0.")]
    assert [(n.op, n.name.rsplit(".", 1)[-1] if n.op != "linear" else n.name[len("encoder.layers.0."):])
            for n in first] == [
        ("norm", "norm1"), ("linear", "self_attn.in_proj"), ("attention", "attention"),
        ("linear", "self_attn.out_proj"), ("dropout", "dropout1"), ("add", "add"), ("norm", "norm2"),
        ("linear", "linear1"), ("dropout", "dropout"), ("linear", "linear2"), ("dropout", "dropout2"), ("add", "add"),
    ]
    linear1 = by_name(graph, "encoder.layers.0.linear1")
    assert linear1.activation == "gelu" and (linear1.fan_in, linear1.fan_out) == (64, 256)
    weighted = [n.param_index for n in graph.nodes if n.has_weight]
    assert weighted == list(range(14))  # the embedding, four per layer, the classifier
    # a real backward pass (batch 16, 16 tokens, seeds 0-2): -2.57/-2.55/-2.55
    assert estimate(graph).log10_grad_ratio == pytest.approx(-2.56, abs=0.35)
    assert [n.name for n in chain_from_output(graph)[1:5]] == ["classifier", "rearrange", "pool", "to_tokens"]
    mha = graphs["Attention"]
    # nn.MultiheadAttention on one tensor: its packed projection, the attention over its three
    # pieces, the output projection
    proj = by_name(mha, "attn.in_proj")
    assert proj.op == "linear" and proj.inputs == [by_name(mha, "norm").id] and (proj.fan_in, proj.fan_out) == (32, 96)
    assert proj.weight_init.variance == pytest.approx(2 / (32 + 96))  # xavier_uniform on in_proj_weight
    assert by_name(mha, "attn.attention").attrs["roles"] == [[proj.id, [i, 3]] for i in range(3)]
    assert [by_name(mha, n).param_index for n in ("attn.in_proj", "attn.out_proj")] == [0, 1]
    mha.attrs["input_shape"] = (4, 32, 32)  # a real backward pass on it, seeds 0-2: -0.57/-0.63/-0.69
    assert estimate(mha).log10_grad_ratio == pytest.approx(-0.63, abs=0.15)
    adds = [n for n in mha.nodes if n.op == "add"]
    assert len(adds) == 2 and by_name(mha, "ff.2").id in adds[1].inputs  # through checkpoint()
    # d_model has no default: the block is built as TextEncoder builds it, not from stand-ins
    assert graphs["PositionalEncoding"].attrs["built_with"] == "the sizes TextEncoder gives its pos"
    assert "stand_ins" not in graphs["PositionalEncoding"].attrs


def test_layers_on_own_parameters_and_inits_lost_to_unknown_calls():
    graphs = graphs_of("idioms.py")
    rnn = graphs["ScratchRNN"]
    linears = [n for n in rnn.nodes if n.op == "linear"]
    assert len(linears) == 6 and {n.param_name for n in linears} == {"W_xh", "W_hh"}
    assert linears[0].weight_init.variance == pytest.approx(0.01**2)  # torch.randn(...) * 0.01
    assert linears[1].weight_init.kind == "orthogonal" and linears[1].weight_init.variance == pytest.approx(1 / 20)
    assert (linears[0].fan_in, linears[0].fan_out) == (10, 20)
    assert [n.activation for n in rnn.nodes if n.op == "activation"] == ["tanh"] * 6
    lib = graphs["LibraryInit"]
    assert by_name(lib, "fc").weight_init.kind == "unknown"  # timm's trunc_normal_ is not seen
    assert by_name(lib, "out").weight_init.kind == "default"


def test_subclass_of_a_torch_layer_and_grown_module_lists():
    graphs = graphs_of("idioms.py")
    scaled = graphs["ScaledLinear"]
    linear = next(n for n in scaled.nodes if n.op == "linear")
    assert (linear.fan_in, linear.fan_out, linear.has_bias, linear.param_index) == (12, 6, False, 0)
    grown = graphs["Grown"]
    assert [n.name for n in grown.nodes if n.op == "linear"] == ["layers.0", "layers.1", "layers.2"]
    assert [n.activation for n in grown.nodes if n.op == "activation"] == ["elu", "elu"]
    assert grown.complete


def test_reset_parameters_override_runs_in_the_torch_constructor():
    graphs = graphs_of("idioms.py")
    body = by_name(graphs["HasZeroInit"], "body")
    assert body.weight_init.kind == "zeros" and body.bias_init.kind == "zeros"
    assert "AbstractBase" not in graphs  # no forward: a base class, not a model


def test_weights_loaded_in_a_factory_have_unknown_init():
    graph = graphs_of("dcgan.py")["Discriminator"]
    convs = [n for n in graph.nodes if n.module_type == "Conv2d"]
    assert [c.weight_init.kind for c in convs] == ["unknown", "unknown"]
    assert convs[0].fan_in == 3 * 16 and convs[1].fan_in == 64 * 16
    assert chain_from_output(graph)[1].activation == "sigmoid"


def test_model_built_by_the_script_at_top_level():
    graph = graphs_of("script.py")["DeepTanh"]
    linears = [n for n in graph.nodes if n.op == "linear"]
    assert len(linears) == 12
    assert all(n.weight_init.kind == "normal" and n.weight_init.variance == 1.0 for n in linears)
    assert all(n.bias_init.kind == "zeros" for n in linears)
    assert graph.complete


def test_unknown_conditions_in_forward():
    graphs = graphs_of("gates.py")
    assert graphs["ShapeChecks"].complete  # a reshape-only branch loses nothing
    assert by_name(graphs["ShapeChecks"], "gate").attrs["unused"] is True
    assert not graphs["TrainOnlyBranch"].complete  # a layer only on one side: the path is unknown


def test_plain_config_object_with_class_defaults():
    graph = graphs_of("config_mlp.py")["PlainConfigNet"]
    assert graph.complete
    assert [(n.name, n.fan_in) for n in graph.nodes if n.op == "linear"] == [
        ("body.0.0", 24), ("body.1.0", 24), ("body.2.0", 24)]
    assert {n.activation for n in graph.nodes if n.op == "activation"} == {"sigmoid"}
