"""Hand-built ONNX graphs: the op table, fused patterns and what must stay silent."""

from __future__ import annotations

import warnings

import pytest

onnx = pytest.importorskip("onnx")
np = pytest.importorskip("numpy")
from onnx import TensorProto, helper, numpy_helper

from gradlint.frontends.onnx import build_graph
from gradlint.frontends.onnx.loading import LoadError


def make(nodes, inits=(), name="g", inputs=(("x", [2, 8]),), outputs=("y",), opset=17, domains=()):
    graph = helper.make_graph(
        nodes,
        name,
        [helper.make_tensor_value_info(n, TensorProto.FLOAT, s) for n, s in inputs],
        [helper.make_tensor_value_info(n, TensorProto.FLOAT, ["n", "d"]) for n in outputs],
        initializer=[numpy_helper.from_array(np.asarray(v, dtype=np.float32), k) for k, v in inits],
    )
    imports = [helper.make_opsetid("", opset)] + [helper.make_opsetid(d, 1) for d in domains]
    return helper.make_model(graph, opset_imports=imports)


def build(model, tmp_path, **kw):
    path = tmp_path / "model.onnx"
    onnx.save(model, path)
    return build_graph(path, "model.onnx", **kw)


def rng(*shape, std=1.0, seed=0):
    return np.random.default_rng(seed).normal(0, std, shape)


def test_gemm_trans_b_decides_the_fan_in(tmp_path):
    model = make(
        [
            helper.make_node("Gemm", ["x", "w1"], ["h"], name="fc1", transB=1),
            helper.make_node("Gemm", ["h", "w2", "b2"], ["y"], name="fc2"),
        ],
        [("w1", rng(16, 8)), ("w2", rng(16, 4)), ("b2", np.zeros(4))],
    )
    graph = build(model, tmp_path)
    fc1, fc2 = graph.weighted()
    assert (fc1.fan_in, fc1.fan_out, fc1.has_bias) == (8, 16, False)
    assert (fc2.fan_in, fc2.fan_out, fc2.has_bias) == (16, 4, True)
    assert fc2.bias_init.kind == "zeros"
    # names that are not parameter paths: numbered in graph order
    assert [(n.param_index, n.param_name) for n in (fc1, fc2)] == [(0, "w1"), (1, "w2")]
    assert graph.name == "g"


def test_matmul_then_bias_add_is_one_layer_and_an_add_of_two_tensors_a_residual(tmp_path):
    model = make(
        [
            helper.make_node("MatMul", ["x", "w"], ["m"], name="proj"),
            helper.make_node("Add", ["b", "m"], ["h"], name="bias"),
            helper.make_node("Relu", ["h"], ["r"], name="act"),
            helper.make_node("Add", ["x", "r"], ["y"], name="skip"),
        ],
        [("w", rng(8, 8)), ("b", np.ones(8))],
    )
    graph = build(model, tmp_path)
    assert [n.op for n in graph.nodes] == ["input", "linear", "activation", "add", "output"]
    assert graph.nodes[1].has_bias and graph.nodes[1].bias_init.kind == "constant"
    assert graph.nodes[3].inputs == [0, 2] and graph.nodes[3].name == "skip"


def test_activation_attributes_and_clip_forms(tmp_path):
    model = make(
        [
            helper.make_node("LeakyRelu", ["x"], ["a"], name="leaky", alpha=0.2),
            helper.make_node("Clip", ["a", "lo", "hi"], ["b"], name="relu6"),
            helper.make_node("HardSigmoid", ["b"], ["c"], name="hs", alpha=0.25),
            helper.make_node("Clip", ["c", "m1", "p1"], ["d"], name="hardtanh"),
            helper.make_node("Softsign", ["d"], ["e"], name="ss"),
            helper.make_node("Selu", ["e"], ["y"], name="selu"),
        ],
        [("lo", 0.0), ("hi", 6.0), ("m1", -1.0), ("p1", 1.0)],
    )
    graph = build(model, tmp_path)
    acts = [(n.name, n.activation) for n in graph.nodes if n.op == "activation"]
    assert acts == [
        ("leaky", "leaky_relu"),
        ("relu6", "relu6"),
        ("hs", "hardsigmoid"),
        ("hardtanh", "hardtanh"),
        ("ss", "softsign"),
        ("selu", "selu"),
    ]
    assert graph.nodes[1].attrs["negative_slope"] == pytest.approx(0.2)
    assert graph.nodes[3].attrs["alpha"] == pytest.approx(0.25)


def test_sigmoid_of_another_branch_is_a_two_input_gate(tmp_path):
    model = make(
        [
            helper.make_node("Gemm", ["x", "wg"], ["g"], name="gate_proj", transB=1),
            helper.make_node("Sigmoid", ["g"], ["s"], name="squash"),
            helper.make_node("Mul", ["x", "s"], ["y"], name="glu"),
        ],
        [("wg", rng(8, 8))],
    )
    graph = build(model, tmp_path)
    gate = graph.nodes[-2]
    assert (gate.op, gate.activation, gate.attrs["gate"]) == ("gate", None, "sigmoid")
    assert gate.inputs == [0, 1] and gate.location.node == "glu"
    assert not [n for n in graph.nodes if n.activation == "sigmoid"]


def test_highway_carry_and_transform_are_gates_around_one_sigmoid(tmp_path):
    model = make(
        [
            helper.make_node("Gemm", ["x", "wh"], ["h0"], name="transform", transB=1),
            helper.make_node("Relu", ["h0"], ["h"], name="act"),
            helper.make_node("Gemm", ["x", "wt"], ["t0"], name="gate_proj", transB=1),
            helper.make_node("Sigmoid", ["t0"], ["t"]),
            helper.make_node("Mul", ["t", "h"], ["th"], name="through"),
            helper.make_node("Sub", ["one", "t"], ["carry"]),
            helper.make_node("Mul", ["carry", "x"], ["cx"], name="carried"),
            helper.make_node("Add", ["th", "cx"], ["y"], name="mix"),
        ],
        [("wh", rng(8, 8)), ("wt", rng(8, 8, seed=1)), ("one", 1.0)],
    )
    graph = build(model, tmp_path)
    assert [(n.name, n.op) for n in graph.nodes if n.op in ("gate", "add", "activation")] == [
        ("act", "activation"),
        ("through", "gate"),
        ("carried", "gate"),
        ("mix", "add"),
    ]
    through, carried = [n for n in graph.nodes if n.op == "gate"]
    # the gated tensor, then the gate's pre-activation: last, where x * sigmoid(g) puts it
    assert through.inputs == [2, 3] and carried.inputs == [0, 3]
    assert {through.attrs["gate"], carried.attrs["gate"]} == {"sigmoid"}
    assert [n.activation for n in graph.nodes if n.op == "activation"] == ["relu"]


def test_a_sigmoid_used_elsewhere_is_not_folded_into_a_gate(tmp_path):
    model = make(
        [
            helper.make_node("Sigmoid", ["x"], ["s"], name="squash"),
            helper.make_node("Mul", ["x", "s"], ["m"], name="swish"),
            helper.make_node("Add", ["m", "s"], ["y"], name="sum"),
        ],
    )
    graph = build(model, tmp_path)
    assert [n.op for n in graph.nodes] == ["input", "activation", "gate", "add", "output"]
    assert graph.nodes[2].attrs == {"bilinear": True}


def test_mish_and_quick_gelu_decompositions(tmp_path):
    model = make(
        [
            helper.make_node("Softplus", ["x"], ["sp"]),
            helper.make_node("Tanh", ["sp"], ["t"]),
            helper.make_node("Mul", ["x", "t"], ["mish"], name="mish"),
            helper.make_node("Mul", ["mish", "k"], ["scaled"]),
            helper.make_node("Sigmoid", ["scaled"], ["s"]),
            helper.make_node("Mul", ["mish", "s"], ["y"], name="quick_gelu"),
        ],
        [("k", 1.702)],
    )
    graph = build(model, tmp_path)
    assert [(n.op, n.activation) for n in graph.nodes[1:-1]] == [
        ("activation", "mish"),
        ("gate", "silu"),
    ]
    assert graph.nodes[2].attrs["beta"] == pytest.approx(1.702)
    assert not [n for n in graph.nodes if n.activation in ("tanh", "sigmoid")]


def test_shape_subgraphs_constants_and_reshapes_vanish(tmp_path):
    model = make(
        [
            helper.make_node("Shape", ["x"], ["shape"]),
            helper.make_node("Gather", ["shape", "zero"], ["batch"], axis=0),
            helper.make_node(
                "Constant",
                [],
                ["minus_one"],
                value=numpy_helper.from_array(np.array([-1], np.int64)),
            ),
            helper.make_node("Unsqueeze", ["batch", "axes"], ["b1"]),
            helper.make_node("Concat", ["b1", "minus_one"], ["new_shape"], axis=0),
            helper.make_node("Reshape", ["x", "new_shape"], ["r"]),
            helper.make_node("Dropout", ["r"], ["d"]),
            helper.make_node("Tanh", ["d"], ["y"], name="tanh"),
        ],
    )
    model.graph.initializer.extend(
        [
            numpy_helper.from_array(np.array(0, np.int64), "zero"),
            numpy_helper.from_array(np.array([0], np.int64), "axes"),
        ]
    )
    graph = build(model, tmp_path)
    assert [(n.op, n.activation) for n in graph.nodes] == [
        ("input", None),
        ("activation", "tanh"),
        ("output", None),
    ]
    assert graph.nodes[1].inputs == [0]


def test_unknown_custom_op_on_the_path_is_opaque(tmp_path):
    model = make(
        [
            helper.make_node("Relu", ["x"], ["r"]),
            helper.make_node("FancyOp", ["r"], ["y"], name="fancy", domain="com.example"),
        ],
        domains=["com.example"],
    )
    graph = build(model, tmp_path)
    assert graph.nodes[2].op == "opaque" and graph.nodes[2].module_type == "FancyOp"
    assert graph.complete is False


def test_elementwise_nonlinearities_we_do_not_model_make_the_graph_incomplete(tmp_path):
    model = make([helper.make_node("Log", ["x"], ["y"], name="log")])
    graph = build(model, tmp_path)
    assert graph.nodes[1].op == "opaque" and not graph.complete


def test_exp_is_an_activation_of_its_own_slope(tmp_path):
    model = make([helper.make_node("Exp", ["x"], ["y"], name="exp")])
    graph = build(model, tmp_path)
    assert (graph.nodes[1].op, graph.nodes[1].activation) == ("activation", "exp") and graph.complete


def test_an_opaque_op_no_output_depends_on_leaves_the_graph_complete(tmp_path):
    model = make(
        [
            helper.make_node("Log", ["x"], ["unused"], name="log"),
            helper.make_node("Tanh", ["x"], ["y"]),
        ]
    )
    graph = build(model, tmp_path)
    assert [n.op for n in graph.nodes] == ["input", "opaque", "activation", "output"]
    assert graph.complete


def test_tied_embedding_and_output_share_one_parameter(tmp_path):
    model = make(
        [
            helper.make_node("Gather", ["wte", "ids"], ["h"], name="embed"),
            helper.make_node("Transpose", ["wte"], ["wte_t"], perm=[1, 0]),
            helper.make_node("MatMul", ["h", "wte_t"], ["y"], name="lm_head"),
        ],
        [("wte", rng(50, 8))],
        inputs=(),
    )
    model.graph.input.append(helper.make_tensor_value_info("ids", TensorProto.INT64, [2, 3]))
    graph = build(model, tmp_path)
    embed, head = graph.weighted()
    assert embed.op == "embedding" and embed.attrs == {"num_embeddings": 50, "embedding_dim": 8}
    assert (head.fan_in, head.fan_out) == (8, 50)
    assert embed.param_index == head.param_index == 0 and graph.attrs["weight_count"] == 1


def test_external_weights_are_read_and_their_absence_is_tolerated(tmp_path):
    model = make(
        [
            helper.make_node("Gemm", ["x", "w"], ["h"], name="fc", transB=1),
            helper.make_node("Sigmoid", ["h"], ["y"]),
        ],
        [("w", rng(16, 8, std=0.3))],
    )
    path = tmp_path / "big.onnx"
    onnx.save_model(
        model,
        path,
        save_as_external_data=True,
        all_tensors_to_one_file=True,
        location="big.weights",
        size_threshold=0,
    )
    graph = build_graph(path, "big.onnx")
    expected = float(np.var(rng(16, 8, std=0.3).astype(np.float32).astype(np.float64)))
    assert graph.weighted()[0].weight_init.variance == pytest.approx(expected, rel=1e-6)
    (tmp_path / "big.weights").unlink()
    graph = build_graph(path, "big.onnx")
    assert graph.attrs["weights_absent"] == ["big.weights"]
    assert graph.weighted()[0].weight_init.variance is None
    assert graph.weighted()[0].fan_in == 8


def test_non_finite_weights_leave_the_init_unknown(tmp_path):
    weights = rng(8, 8)
    weights[0, 0] = np.nan
    model = make([helper.make_node("Gemm", ["x", "w"], ["y"], transB=1)], [("w", weights)])
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # nothing may leak onto the user's terminal
        graph = build(model, tmp_path)
    init = graph.weighted()[0].weight_init
    assert init.kind == "unknown" and init.variance is None


@pytest.mark.parametrize(
    "model,message",
    [
        (lambda: make([helper.make_node("NoSuchOp", ["x"], ["y"])]), "invalid ONNX model: "),
        (lambda: make([helper.make_node("Relu", ["missing"], ["y"])]), "invalid ONNX model: "),
        (
            lambda: make([helper.make_node("Relu", ["x"], ["y"])], opset=999),
            "unsupported opset: ai.onnx version 999",
        ),
    ],
    ids=["unknown-op", "dangling-input", "unknown-opset"],
)
def test_models_the_checker_rejects_raise_one_line(tmp_path, model, message):
    with pytest.raises(LoadError) as caught:
        build(model(), tmp_path)
    text = str(caught.value)
    assert text.startswith(message) and "\n" not in text
