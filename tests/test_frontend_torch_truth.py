"""The static graph against the real model: torch builds the fixture classes, and the weight
order, fan-in and parameter names of the graph must match named_parameters()."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

from gradlint.frontends.python import Project, build_graphs
from gradlint.source import SourceFile

torch = pytest.importorskip("torch")

FIXTURES = Path(__file__).parent / "fixtures" / "frontend"

CASES = [
    ("resnet.py", "ResNet", "resnet_tiny"),
    ("gpt.py", "GPT", None),
    ("unet.py", "UNet", None),
    ("recurrent.py", "LSTMClassifier", None),
    ("recurrent.py", "GRUTagger", None),
    ("gates.py", "SqueezeExcite", None),
    ("dcgan.py", "Generator", "make_generator"),
    ("config_mlp.py", "ConfigMLP", None),
    ("config_mlp.py", "PlainConfigNet", None),
    ("idioms.py", "NamedLayers", None),
    ("idioms.py", "Stack", None),
    ("idioms.py", "Indexed", None),
    ("idioms.py", "Inits", None),
    ("idioms.py", "OwnParams", None),
    ("idioms.py", "ScratchRNN", None),
    ("idioms.py", "Grown", None),
    ("pkg/model.py", "Tower", None),
    ("pkg/model.py", "DeepTower", None),
]


def load(name: str):
    if "/" in name:  # a module of a package, with relative imports
        if str(FIXTURES) not in sys.path:
            sys.path.insert(0, str(FIXTURES))
        return importlib.import_module(name[:-3].replace("/", "."))
    path = FIXTURES / name
    spec = importlib.util.spec_from_file_location(f"frontend_fixture_{path.stem}", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("fixture, cls, factory", CASES, ids=[f"{c[0]}:{c[1]}" for c in CASES])
def test_weight_order_matches_named_parameters(fixture, cls, factory):
    module = load(fixture)
    model = getattr(module, factory)() if factory else getattr(module, cls)()
    weights = [(name, p) for name, p in model.named_parameters() if p.dim() >= 2]
    path = FIXTURES / fixture
    source = SourceFile.parse(str(path), path.read_text(encoding="utf-8"))
    graph = {g.name: g for g in build_graphs(source, Project.for_files(sorted(FIXTURES.rglob("*.py"))))}[cls]
    assert graph.attrs["weights"] == len(weights)
    for node in graph.nodes:
        if node.param_index is None:
            continue
        name, param = weights[node.param_index]
        assert name == node.param_name, (node.name, node.param_index)
        if node.op == "linear" and node.fan_in is not None and node.module_type != "Parameter":
            receptive = 1
            for k in param.shape[2:]:
                receptive *= k
            torch_fan_in = param.shape[1] * receptive
            if "Transpose" not in (node.module_type or ""):
                assert node.fan_in == torch_fan_in, node.name
        if node.weight_init is not None and node.weight_init.variance and param.numel() > 2000:
            measured = param.detach().var(unbiased=False).item()
            assert node.weight_init.variance == pytest.approx(measured, rel=0.15), node.name
