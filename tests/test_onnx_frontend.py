"""Exported models -> layer graph: structure, fans, fused decompositions, measured init."""

from __future__ import annotations

import math

import pytest

pytest.importorskip("onnx")
torch = pytest.importorskip("torch")

import _onnx_models as models

from gradlint.frontends.onnx import build_graph

# the legacy exporter decomposes LayerNorm below opset 17: the fused form is tested there
OPSET = {"layernorm_block": 14}


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    cache: dict = {}

    def get(name: str, exporter: str):
        if (name, exporter) not in cache:
            torch.manual_seed(0)
            model, example = models.MODELS[name]()
            path = tmp_path_factory.mktemp(exporter) / f"{name}.onnx"
            models.export(model, example, path, exporter, OPSET.get(name, 17))
            cache[name, exporter] = model, build_graph(path, path.name)
        return cache[name, exporter]

    return get


def ops(graph):
    return [n.op for n in graph.nodes]


def weights_of(model):
    return [p for _, p in model.named_parameters() if p.dim() >= 2]


# the dynamo exporter takes seconds a model (tracing, then its own passes): the slow set
exporters = pytest.mark.parametrize(
    "exporter",
    [pytest.param(e, marks=pytest.mark.slow) if e == "dynamo" else e for e in models.EXPORTERS],
)


@exporters
def test_deep_sigmoid_mlp_is_a_chain_of_linears_and_sigmoids(exported, exporter):
    model, graph = exported("deep_sigmoid_mlp", exporter)
    assert graph.source == "onnx" and graph.complete
    assert graph.name == "deep_sigmoid_mlp"
    assert ops(graph) == ["input"] + ["linear", "activation"] * 8 + ["linear", "output"]
    assert [n.activation for n in graph.nodes if n.op == "activation"] == ["sigmoid"] * 8
    linears = [m for m in model if isinstance(m, torch.nn.Linear)]
    assert [(n.fan_in, n.fan_out) for n in graph.weighted()] == [
        (m.in_features, m.out_features) for m in linears
    ]
    assert [n.param_index for n in graph.weighted()] == list(range(9))
    assert [n.param_name for n in graph.weighted()] == [f"{2 * i}.weight" for i in range(9)]
    for node in graph.nodes[1:]:
        assert node.inputs == [node.id - 1]  # a chain, in order
        assert node.location.path == "deep_sigmoid_mlp.onnx"
    first = graph.weighted()[0]
    assert first.location.op_type == "Gemm" and first.location.node_index is not None
    assert first.has_bias is True


@exporters
@pytest.mark.parametrize("name", sorted(models.MODELS))
def test_measured_init_is_the_real_weights_variance(exported, exporter, name):
    model, graph = exported(name, exporter)
    real = weights_of(model)
    weighted = [n for n in graph.weighted() if n.param_index is not None]
    assert weighted, "every model here has weights"
    assert graph.attrs["weight_count"] == len(real)
    for node in weighted:
        if node.op == "recurrent":  # weight_hh follows weight_ih
            hh = real[node.param_index + 1].detach().double()
            assert node.attrs["recurrent_init"].variance == pytest.approx(
                float(hh.var(unbiased=False)), rel=1e-5
            )
        weight = real[node.param_index].detach().double()
        init = node.weight_init
        if bool((weight == weight.reshape(-1)[0]).all()):
            assert init.kind in ("zeros", "constant")
            assert init.constant == pytest.approx(float(weight.reshape(-1)[0]))
        else:
            assert init.kind in ("measured", "default")
            assert init.variance == pytest.approx(float(weight.var(unbiased=False)), rel=1e-5)
            assert init.mean == pytest.approx(float(weight.mean()), abs=1e-6)
            if init.kind == "default":
                assert float(weight.abs().max()) <= (1 + 1e-5) / math.sqrt(node.fan_in)
            elif node.fan_in:
                assert f"He std {math.sqrt(2 / node.fan_in):.3g}" in init.detail


def test_weights_that_fill_torchs_default_range_read_as_default_init():
    np = pytest.importorskip("numpy")
    from onnx import numpy_helper

    from gradlint.diagnostics import Location
    from gradlint.frontends.onnx.weights import measure

    rng = np.random.default_rng(0)
    fan_in, here = 256, Location("m.onnx", 1, 1)
    bound = 1 / math.sqrt(fan_in)

    def kind(values):
        tensor = numpy_helper.from_array(values.astype(np.float32).reshape(64, fan_in), "w")
        return measure(tensor, ".", fan_in, 64, here).kind

    assert kind(rng.uniform(-bound, bound, 64 * fan_in)) == "default"
    # the same variance drawn from a normal spills past the bound: an explicit init
    assert kind(rng.normal(0, bound / math.sqrt(3), 64 * fan_in)) == "measured"
    assert kind(rng.uniform(-bound / 2, bound / 2, 64 * fan_in)) == "measured"


@exporters
def test_residual_adds_join_the_block_input_and_its_branch(exported, exporter):
    _, graph = exported("residual_mlp", exporter)
    adds = [n for n in graph.nodes if n.op == "add"]
    assert len(adds) == 3
    for add in adds:
        skip, branch = sorted(add.inputs)
        assert graph.node(branch).op == "linear"
        # the branch starts from the same tensor the skip carries
        walk = branch
        while graph.node(walk).inputs and walk != skip:
            walk = graph.node(walk).inputs[0]
        assert walk == skip
        assert add.attrs["residual"] is True
    # an Add of a bias initialiser is folded into its layer, never a residual
    assert all(n.has_bias for n in graph.weighted())


@exporters
def test_batchnorm_mlp_keeps_its_norms(exported, exporter):
    _, graph = exported("bn_mlp", exporter)
    assert ops(graph)[1:-1] == ["linear", "norm", "activation"] * 3 + ["linear"]
    assert {n.module_type for n in graph.nodes if n.op == "norm"} == {"BatchNormalization"}


@exporters
def test_zero_and_constant_init_are_recognised(exported, exporter):
    _, graph = exported("zero_init_mlp", exporter)
    kinds = [
        (n.weight_init.kind, n.weight_init.constant, n.bias_init.kind) for n in graph.weighted()
    ]
    assert kinds == [
        ("zeros", 0.0, "zeros"),
        ("zeros", 0.0, "zeros"),
        ("constant", 0.5, "measured"),
    ]


@exporters
def test_silu_is_a_gate_not_a_sigmoid_in_series(exported, exporter):
    _, graph = exported("silu_mlp", exporter)
    assert not [n for n in graph.nodes if n.activation == "sigmoid"]
    gates = [n for n in graph.nodes if n.op == "gate"]
    assert [g.activation for g in gates] == ["silu"] * 3
    assert all(len(g.inputs) == 1 and graph.node(g.inputs[0]).op == "linear" for g in gates)


@exporters
@pytest.mark.parametrize("name,form", [("gelu_mlp", "erf"), ("gelu_tanh_mlp", "tanh")])
def test_decomposed_gelu_is_one_activation(exported, exporter, name, form):
    _, graph = exported(name, exporter)
    assert graph.complete
    assert ops(graph)[1:-1] == ["linear", "activation"] * 3 + ["linear"]
    acts = [n for n in graph.nodes if n.op == "activation"]
    assert [a.activation for a in acts] == ["gelu"] * 3
    assert {a.attrs.get("decomposed") for a in acts} == {form}
    assert all(len(a.attrs["onnx_nodes"]) >= 5 for a in acts)


@exporters
def test_lstm_is_one_recurrent_unit(exported, exporter):
    _, graph = exported("lstm_classifier", exporter)
    assert ops(graph) == ["input", "recurrent", "linear", "output"]
    lstm = graph.nodes[1]
    assert (lstm.fan_in, lstm.fan_out, lstm.attrs["cell"]) == (12, 24, "lstm")
    assert lstm.param_index == 0 and graph.nodes[2].param_index == 2  # weight_ih, weight_hh, head
    assert lstm.attrs["recurrent_init"].kind in ("measured", "default")


@exporters
def test_conv_net_fans_pools_and_norm(exported, exporter):
    _, graph = exported("conv_net", exporter)
    assert ops(graph)[1:-1] == [
        "linear",
        "norm",
        "activation",
        "pool",
        "linear",
        "activation",
        "pool",
        "linear",
    ]
    convs = graph.weighted()
    assert [(n.fan_in, n.fan_out) for n in convs] == [
        (3 * 9, 8 * 9),
        (4 * 9, 16 * 9 // 2),
        (16, 10),
    ]
    assert convs[1].attrs["groups"] == 2
    assert convs[0].location.op_type == "Conv"


@exporters
def test_layernorm_rmsnorm_and_attention_are_folded(exported, exporter):
    _, graph = exported("layernorm_block", exporter)
    assert graph.complete
    assert ops(graph) == [
        "input",
        "norm",
        "linear",
        "attention",
        "linear",
        "add",
        "norm",
        "linear",
        "add",
        "output",
    ]
    ln, rms = [n for n in graph.nodes if n.op == "norm"]
    if exporter == "legacy":  # opset 14 has no LayerNormalization op
        assert ln.attrs["decomposed"] == "layer_norm" and ln.module_type == "LayerNormalization"
    assert rms.attrs["decomposed"] == "rms_norm"
    assert not [n for n in graph.nodes if n.activation == "softmax"]
    first_add, second_add = [n for n in graph.nodes if n.op == "add"]
    assert 0 in first_add.inputs and first_add.id in second_add.inputs
    # as the source frontend records nn.MultiheadAttention: three pieces of the packed projection
    attention = next(n for n in graph.nodes if n.op == "attention")
    proj = graph.nodes[attention.inputs[0]]
    assert proj.op == "linear" and attention.attrs["roles"] == [[proj.id, [i, 3]] for i in range(3)]


def test_init_checks_off_leaves_variances_unknown(tmp_path):
    torch.manual_seed(0)
    model, example = models.deep_sigmoid_mlp(depth=3)
    path = models.export(model, example, tmp_path / "m.onnx")
    graph = build_graph(path, "m.onnx", init_checks=False)
    assert graph.attrs["init_checks"] is False
    assert graph.weighted()
    for node in graph.weighted():
        assert node.weight_init.kind == "unknown" and node.weight_init.variance is None
        assert node.fan_in is not None  # structure is still read


def test_a_tied_output_layer_folded_into_a_copy_keeps_the_embedding_place(tmp_path):
    import warnings

    class TinyLM(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.wte = torch.nn.Embedding(40, 16)
            self.mix = torch.nn.Linear(16, 16)
            self.lm_head = torch.nn.Linear(16, 40, bias=False)
            self.lm_head.weight = self.wte.weight

        def forward(self, ids):
            return self.lm_head(torch.tanh(self.mix(self.wte(ids))))

    torch.manual_seed(0)
    model = TinyLM().eval()
    path = tmp_path / "lm.onnx"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        # the default export: constant folding stores wte.weight transposed under a new name
        torch.onnx.export(model, (torch.randint(0, 40, (2, 5)),), str(path), dynamo=False)
    graph = build_graph(path, "lm.onnx")
    embed, mix, head = graph.weighted()
    assert embed.op == "embedding" and head.fan_out == 40
    assert head.param_index == embed.param_index == 0 and head.param_name == "wte.weight"
    assert mix.param_index == 1 and graph.attrs["weight_count"] == 2
