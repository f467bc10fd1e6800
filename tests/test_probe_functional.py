"""The probe counts activations called as functions (F.relu, torch.relu, x.relu(), torch.tanh),
names them by call site, and its dying-ReLU and saturation verdicts cover them."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")
nn = torch.nn
F = torch.nn.functional


class FunctionalReLU(nn.Module):
    """Only F.relu, torch.relu and x.relu(): no activation module at all."""

    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(16, 32)
        self.fc2 = nn.Linear(32, 32)
        self.fc3 = nn.Linear(32, 1)
        nn.init.constant_(self.fc1.bias, -10.0)

    def forward(self, x):
        x = F.relu(self.fc1(x))
        x = torch.relu(self.fc2(x))
        return self.fc3(x).relu()


class FunctionalTanh(nn.Module):
    def __init__(self, width=1024):
        super().__init__()
        self.fc1 = nn.Linear(width, width)
        self.fc2 = nn.Linear(width, 1)
        nn.init.normal_(self.fc1.weight, std=1.0)

    def forward(self, x):
        return self.fc2(torch.tanh(self.fc1(x)))


def _rows(model, example):
    from gradlint.probe.measure import measure

    return {a["name"]: a for a in measure(model, example)["activations"]}, measure(model, example)


def test_functional_relus_are_counted_at_their_call_sites():
    torch.manual_seed(0)
    rows, stats = _rows(FunctionalReLU(), torch.randn(64, 16))
    names = sorted(rows)
    assert names == [
        "relu at test_probe_functional.py:24",
        "relu at test_probe_functional.py:25",
        "relu at test_probe_functional.py:26",
    ]
    first = rows["relu at test_probe_functional.py:24"]
    assert first["kind"] == "dying" and first["fraction"] == 1.0 and first["dead_units"] == 1.0
    # fc1's units are all dead: fc1 gets no gradient, nor fc2's weight, which reads zeros
    assert {"fc1.weight", "fc1.bias", "fc2.weight"} <= set(stats["dead_params"])


def test_dying_verdict_covers_functional_relu():
    from gradlint.probe.settings import Thresholds
    from gradlint.probe.verdicts import judge

    torch.manual_seed(0)
    _, stats = _rows(FunctionalReLU(), torch.randn(64, 16))
    verdict = next(v for v in judge(stats, Thresholds()) if v["name"] == "dying-relu")
    assert verdict["problem"]
    assert "relu at test_probe_functional.py:24" in verdict["names"]


def test_saturation_verdict_covers_torch_tanh():
    from gradlint.probe.settings import Thresholds
    from gradlint.probe.verdicts import judge

    torch.manual_seed(0)
    rows, stats = _rows(FunctionalTanh(), torch.randn(32, 1024))
    [row] = rows.values()
    assert row["kind"] == "saturating" and row["fraction"] > 0.8
    verdict = next(v for v in judge(stats, Thresholds()) if v["name"] == "saturation")
    assert verdict["problem"] and verdict["names"] == [next(iter(rows))]


def test_module_activations_are_counted_once_by_their_hooks():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(8, 8), nn.ReLU(), nn.Linear(8, 8), nn.Tanh())
    rows, _ = _rows(model, torch.randn(16, 8))
    assert sorted(rows) == ["1", "3"]
    assert rows["1"]["kind"] == "dying" and 0.0 <= rows["1"]["dead_units"] <= 1.0


def test_plot_title_names_the_ratio_weights_when_the_first_are_dead():
    from gradlint.probe.plot import title_of

    row = {"kind": "weight", "flags": []}
    doc = {
        "model_class": "Net",
        "device": "cpu",
        "log10_grad_ratio": -0.5,
        "static_log10_grad_ratio": -3.0,
        "layers": [
            {**row, "name": "fc1.weight", "grad_rms": 0.0},
            {**row, "name": "fc2.weight", "grad_rms": 0.0},
            {**row, "name": "fc3.weight", "grad_rms": 0.1},
            {**row, "name": "head.weight", "grad_rms": 0.3},
        ],
    }
    title = title_of(doc)
    assert "fc3.weight / head.weight = -0.50" in title
    assert "2 dead weight(s) before it" in title and "static estimate -3.00" in title


class TinyGradients(nn.Module):
    """A deep default-init stack: the first layers' gradients are below float16's range."""

    def __init__(self):
        super().__init__()
        layers = []
        for _ in range(12):
            layers += [nn.Linear(64, 64), nn.Sigmoid()]
        self.body = nn.Sequential(*layers)
        self.head = nn.Linear(64, 1)

    def forward(self, x):
        return self.head(self.body(x))


def _half_report(device):
    from gradlint.probe.half import underflow
    from gradlint.probe.settings import Thresholds
    from gradlint.probe.verdicts import judge

    torch.manual_seed(0)
    model = TinyGradients().to(device)
    result = underflow(model, torch.randn(32, 64, device=device))
    if result["error"]:
        pytest.skip(f"no float16 kernels here: {result['error']}")
    from gradlint.probe.measure import measure

    stats = measure(model, torch.randn(32, 64, device=device))
    stats["float16"] = result
    return result, next(v for v in judge(stats, Thresholds()) if v["name"] == "fp16-underflow")


def test_float16_pass_names_the_parameters_whose_gradient_underflows():
    result, verdict = _half_report("cpu")
    lost = {p["name"]: p["lost"] for p in result["params"]}
    assert lost.get("body.0.weight") == 1.0 and "head.weight" not in lost
    assert verdict["problem"] and "body.0.weight" in verdict["names"]


@pytest.mark.cuda
def test_float16_pass_on_cuda():
    if not torch.cuda.is_available():
        pytest.skip("no CUDA device")
    _result, verdict = _half_report("cuda")
    assert verdict["problem"] and "body.0.weight" in verdict["names"]
