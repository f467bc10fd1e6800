"""The measurement against an independent computation of the shared definition."""

from __future__ import annotations

import importlib.util
import json
import math

import pytest
from test_probe_cli import FIXTURES, probed

torch = pytest.importorskip("torch")
pytestmark = pytest.mark.slow
F = torch.nn.functional


def load_fixture(name: str):
    spec = importlib.util.spec_from_file_location(
        f"fixture_{name.replace('.', '_')}", FIXTURES / name
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def reference_log10_ratio(model, example, loss="mse") -> float | None:
    """The shared definition, written out independently of gradlint.probe."""
    model.train()
    out = model(example)
    while isinstance(out, (tuple, list)):
        out = out[0]
    out = out.float()
    if loss == "mse":
        value = (out**2).mean()
    else:
        labels = torch.randint(out.shape[-1], out.shape[:-1])
        value = F.cross_entropy(out.reshape(-1, out.shape[-1]), labels.reshape(-1))
    value.backward()
    rms = []
    for _, param in model.named_parameters():
        if param.dim() >= 2:
            grad = param.grad
            rms.append(0.0 if grad is None else grad.double().pow(2).mean().sqrt().item())
    first = next((r for r in rms if r > 0), None)
    if not rms or rms[-1] == 0 or first is None:
        return None
    return math.log10(first / rms[-1])


def seeded(seed, make):
    torch.manual_seed(seed)
    return make()


@pytest.mark.parametrize("seed", [0, 7])
def test_deep_sigmoid_ratio_matches_an_independent_computation(seed):
    module = load_fixture("deep_sigmoid.py")
    model = seeded(seed, module.build)
    expected = reference_log10_ratio(model, torch.randn(32, 784))
    _, doc = probed("deep_sigmoid.py:build", "--seed", str(seed), "--input-shape", "32,784")
    assert doc["log10_grad_ratio"] == pytest.approx(expected, abs=0.05)
    assert expected < -3


def test_resnet_class_ratio_matches_with_batch_norm_in_train_mode():
    module = load_fixture("resnet_block.py")
    model = seeded(0, module.TinyResNet)
    expected = reference_log10_ratio(model, torch.randn(4, 3, 32, 32))
    _, doc = probed("resnet_block.py:TinyResNet", "--input-shape", "4,3,32,32")
    assert doc["log10_grad_ratio"] == pytest.approx(expected, abs=0.05)


def test_factory_example_input_and_cross_entropy_match():
    module = load_fixture("factory_example.py")
    model, example = seeded(0, module.build)
    expected = reference_log10_ratio(model, example, loss="cross-entropy")
    _, doc = probed("factory_example.py:build", "--loss", "cross-entropy")
    assert doc["log10_grad_ratio"] == pytest.approx(expected, abs=0.05)


def test_in_process_measurement_reports_dead_frozen_and_activation_fractions():
    from gradlint.probe.measure import measure

    class Cut(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.a = torch.nn.Linear(8, 8)
            self.relu = torch.nn.ReLU()
            self.b = torch.nn.Linear(8, 8)
            self.b.weight.requires_grad_(False)
            self.c = torch.nn.Linear(8, 2)
            self.sig = torch.nn.Sigmoid()

        def forward(self, x):
            h = self.relu(self.a(x)).detach()
            return self.sig(self.c(self.b(h)) * 100)

    torch.manual_seed(0)
    model = Cut()
    stats = measure(model, torch.randn(64, 8))
    assert stats["dead_params"] == ["a.weight", "a.bias"]
    assert stats["frozen_params"] == ["b.weight"]
    fractions = {a["name"]: a for a in stats["activations"]}
    assert 0.0 < fractions["relu"]["fraction"] < 1.0 and fractions["relu"]["kind"] == "dying"
    assert fractions["sig"]["kind"] == "saturating" and fractions["sig"]["fraction"] > 0.5
    assert json.dumps(stats)  # plain data, ready for the parent


def test_nonfinite_gradients_are_flagged_not_crashed_on():
    from gradlint.probe.measure import measure
    from gradlint.probe.settings import Thresholds
    from gradlint.probe.verdicts import judge

    model = torch.nn.Sequential(torch.nn.Linear(4, 4), torch.nn.Linear(4, 1))
    with torch.no_grad():
        model[1].weight.fill_(float("inf"))
    stats = measure(model, torch.randn(3, 4))
    assert any(w["nonfinite"] for w in stats["weights"])
    problems = {v["name"] for v in judge(stats, Thresholds()) if v["problem"]}
    assert "non-finite" in problems


def test_constant_init_leaves_symmetric_weights_and_random_init_none():
    from gradlint.probe.measure import measure

    torch.manual_seed(0)
    model = torch.nn.Sequential(
        torch.nn.Linear(10, 16),
        torch.nn.ReLU(),
        torch.nn.Linear(16, 16),
        torch.nn.ReLU(),
        torch.nn.Linear(16, 3),
    )
    assert measure(model, torch.randn(32, 10))["symmetric_weights"] == []
    for layer in (model[0], model[2]):
        torch.nn.init.constant_(layer.weight, 0.05)
        torch.nn.init.constant_(layer.bias, 0.01)
    # 2.weight has equal rows but its gradient rows follow the random 4.weight: they differ
    assert measure(model, torch.randn(32, 10))["symmetric_weights"] == ["0.weight"]


class _Shrink(torch.autograd.Function):
    """Identity forward; the gradient comes back 1e-21 times smaller."""

    @staticmethod
    def forward(ctx, x):
        return x

    @staticmethod
    def backward(ctx, grad):
        return grad * 1e-21


class _TinyGradients(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.a = torch.nn.Linear(8, 8)
        self.b = torch.nn.Linear(8, 1)

    def forward(self, x):
        return self.b(_Shrink.apply(self.a(x)))


def test_tiny_gradients_keep_their_ratio():
    """Gradients near 1e-21 square to float32 denormals or zero: the RMS must stay exact."""
    from gradlint.probe.measure import measure

    torch.manual_seed(0)
    model = _TinyGradients()
    stats = measure(model, torch.randn(64, 8))

    def rms(param):
        return param.grad.double().pow(2).mean().sqrt().item()

    expected = math.log10(rms(model.a.weight) / rms(model.b.weight))
    assert expected < -20
    assert stats["log10_grad_ratio"] == pytest.approx(expected, abs=1e-6)


def test_input_shape_precedence_cli_then_file_then_inferred():
    import types

    from gradlint.probe.loading import make_input

    model = torch.nn.Sequential(torch.nn.Linear(50, 4))
    declares = types.SimpleNamespace(INPUT_SHAPE=(64, 50))
    assert make_input(model, None, declares)[0].shape == (64, 50)
    assert "INPUT_SHAPE" in make_input(model, None, declares)[1]
    assert make_input(model, (8, 50), declares)[0].shape == (8, 50)
    bogus = types.SimpleNamespace(INPUT_SHAPE="64x50")
    assert make_input(model, None, bogus)[0].shape == (16, 50)
