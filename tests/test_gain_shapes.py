"""The gain model with the example input's shape: batch size, spatial sizes, average pools."""

from __future__ import annotations

import importlib.util
import math
from pathlib import Path

import pytest

from gradlint.diagnostics import Location
from gradlint.frontends.python import Project, build_graphs
from gradlint.gain import estimate
from gradlint.gain.spatial import averaging_area, spatial_sizes
from gradlint.ir import Init, LayerGraph
from gradlint.source import SourceFile

FIXTURES = Path(__file__).parent / "fixtures" / "shapes"
HERE = Location("model.py", 1, 1)


def conv_net(shape=None, pool="AdaptiveAvgPool2d", activation="tanh") -> LayerGraph:
    """conv 3→16 (3×3, pad 1) → act → pool → linear 16→10, as the python frontend records it."""
    graph = LayerGraph("Net", HERE)
    x = graph.add("input", "x", HERE)
    conv = graph.add("linear", "conv", HERE, [x.id], fan_in=27, fan_out=144, weight_init=Init("default"),
                     has_bias=True, module_type="Conv2d", param_index=0,
                     attrs={"kernel_size": 3, "stride": 1, "padding": 1, "dilation": 1, "groups": 1})
    act = graph.add("activation", "act", HERE, [conv.id], activation=activation)
    attrs = {"output_size": 1} if pool.startswith("Adaptive") else {"kernel_size": 2}
    pooled = graph.add("pool", "pool", HERE, [act.id], module_type=pool, attrs=attrs)
    width = 16 if pool.startswith("Adaptive") else 16 * 16 * 16 // 4
    head = graph.add("linear", "fc", HERE, [pooled.id], fan_in=width, fan_out=10, weight_init=Init("default"),
                     has_bias=True, module_type="Linear", param_index=1)
    graph.add("output", "out", HERE, [head.id])
    if shape is not None:
        graph.attrs["input_shape"] = shape
    return graph


def test_spatial_sizes_follow_convolution_arithmetic():
    graph = LayerGraph("Net", HERE)
    x = graph.add("input", "x", HERE)
    a = graph.add("linear", "a", HERE, [x.id], module_type="Conv2d",
                  attrs={"kernel_size": 7, "stride": 2, "padding": 3})
    p = graph.add("pool", "p", HERE, [a.id], module_type="MaxPool2d",
                  attrs={"kernel_size": 3, "stride": 2, "padding": 1})
    up = graph.add("linear", "up", HERE, [p.id], module_type="ConvTranspose2d",
                   attrs={"kernel_size": 2, "stride": 2, "padding": 0})
    d = graph.add("linear", "d", HERE, [up.id], module_type="Conv2d",
                  attrs={"kernel_size": 3, "stride": 1, "padding": 2, "dilation": 2})
    m = graph.add("pool", "m", HERE, [d.id], attrs={"function": "mean", "dim": (-2, -1)})
    sizes = spatial_sizes(graph, (4, 3, 224, 224))
    assert [sizes[n] for n in (a.id, p.id, up.id, d.id, m.id)] == [(112, 112), (56, 56), (112, 112), (112, 112), ()]
    assert averaging_area(graph.nodes[m.id], sizes) == 112 * 112
    assert averaging_area(graph.nodes[p.id], sizes) is None  # max pooling routes, it does not average


def test_an_unread_resize_stops_the_sizes():
    graph = LayerGraph("Net", HERE)
    x = graph.add("input", "x", HERE)
    up = graph.add("identity", "up", HERE, [x.id], module_type="Upsample")
    gap = graph.add("pool", "gap", HERE, [up.id], module_type="AdaptiveAvgPool2d", attrs={"output_size": 1})
    sizes = spatial_sizes(graph, (2, 3, 8, 8))
    assert sizes[up.id] is None and averaging_area(graph.nodes[gap.id], sizes) is None


def test_without_a_shape_the_estimate_is_unchanged_by_the_spatial_attributes():
    plain = estimate(conv_net())
    bare = conv_net()
    for node in bare.nodes:
        node.attrs = {k: v for k, v in node.attrs.items() if k not in ("stride", "padding", "output_size")}
    assert plain.log10_grad_ratio == pytest.approx(estimate(bare).log10_grad_ratio)


def test_a_global_average_divides_the_convolution_gradient_by_its_positions():
    small = estimate(conv_net((8, 3, 8, 8)))
    large = estimate(conv_net((8, 3, 32, 32)))
    # relative to the gradient at the head's output, which the pooled signal sets
    first_small = small.nodes[1].grad2 / small.nodes[4].delta2
    first_large = large.nodes[1].grad2 / large.nodes[4].delta2
    # per-sample noise: 16 times the positions, a sixteenth of the gradient each
    assert float(first_small / first_large) == pytest.approx(16.0, rel=0.05)
    assert large.log10_grad_ratio < small.log10_grad_ratio


def test_max_pool_keeps_the_one_position_estimate():
    shaped = estimate(conv_net((256, 3, 32, 32), pool="MaxPool2d", activation="relu"))
    plain = estimate(conv_net(None, pool="MaxPool2d", activation="relu"))
    assert float(shaped.nodes[1].grad2 / plain.nodes[1].grad2) == pytest.approx(1.0, rel=1e-6)


def test_batch_size_comes_from_the_shape():
    graph = conv_net((256, 3, 16, 16), pool="MaxPool2d")
    smaller = conv_net((16, 3, 16, 16), pool="MaxPool2d")
    assert estimate(graph).log10_grad_ratio != pytest.approx(estimate(smaller).log10_grad_ratio, abs=1e-3)


def _graph_at(size: int, tmp_path: Path):
    text = (FIXTURES / "tanh_convnet.py").read_text(encoding="utf-8").replace("SIZE = 8", f"SIZE = {size}")
    path = tmp_path / f"tanh_convnet_{size}.py"
    path.write_text(text, encoding="utf-8")
    graph = build_graphs(SourceFile.parse(str(path), text), Project.for_files([path]))[0]
    return graph, path


def _measured(path: Path, seeds=(0, 1, 2, 3, 4)) -> float:
    torch = pytest.importorskip("torch")
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    values = []
    for seed in seeds:
        torch.manual_seed(seed)
        model, x = module.build()
        model.train()
        model(x).pow(2).mean().backward()
        rms = [float(p.grad.pow(2).mean().sqrt()) for p in model.parameters() if p.dim() >= 2]
        values.append(math.log10(rms[0] / rms[-1]))
    return sorted(values)[len(values) // 2]


def test_estimate_follows_the_measured_change_with_input_size(tmp_path):
    pytest.importorskip("torch")
    (small, small_path), (large, large_path) = _graph_at(4, tmp_path), _graph_at(32, tmp_path)
    assert small.attrs["input_shape"] == (16, 3, 4, 4)
    est_small, est_large = estimate(small).log10_grad_ratio, estimate(large).log10_grad_ratio
    meas_small, meas_large = _measured(small_path), _measured(large_path)
    assert meas_large < meas_small and est_large < est_small
    assert abs(est_small - meas_small) <= 1.0 and abs(est_large - meas_large) <= 1.0


def test_a_sequence_model_counts_every_token_as_a_sample():
    from gradlint.gain import batch_size

    graph = LayerGraph("Tokens", HERE)
    x = graph.add("input", "x", HERE)
    emb = graph.add("embedding", "embed", HERE, [x.id], fan_in=100, fan_out=16, weight_init=Init("default"),
                    has_bias=False, module_type="Embedding", attrs={"num_embeddings": 100})
    head = graph.add("linear", "fc", HERE, [emb.id], fan_in=16, fan_out=2, weight_init=Init("default"),
                     has_bias=True, module_type="Linear")
    graph.add("output", "out", HERE, [head.id])
    graph.attrs["input_shape"] = (8, 24)
    assert batch_size(graph) == 8 * 24
    image = conv_net((8, 3, 32, 32))
    assert batch_size(image) == 8  # positions are followed apart, through the spatial sizes
    graph.attrs.pop("input_shape")
    assert batch_size(graph) == 256


def test_a_convolution_at_the_output_is_as_wide_as_its_channels():
    """The coherent part of the first layer's batch gradient comes from E[y²] itself (Stein's
    lemma), the per-sample gradients from the loss's mean: both in the units of a mean over
    the output's 32 channels. Taken over the fan-out (32·9), the estimate was +0.21; measured
    (five seeds) -0.54."""
    path = FIXTURES / "conv_head.py"
    graph = build_graphs(SourceFile.parse(str(path), path.read_text(encoding="utf-8")), Project.for_files([path]))[0]
    static = estimate(graph).log10_grad_ratio
    assert static == pytest.approx(-0.689, abs=0.001)
    pytest.importorskip("torch")
    assert abs(static - _measured(path)) <= 0.3
