"""The python frontend reads the example input a file builds for its model."""

from __future__ import annotations

from pathlib import Path

from gradlint.frontends.python import Project, build_graphs
from gradlint.source import SourceFile

FIXTURES = Path(__file__).parent / "fixtures" / "shapes"


def graphs_of(name: str) -> dict:
    path = FIXTURES / name
    source = SourceFile.parse(str(path), path.read_text(encoding="utf-8"))
    return {g.name: g for g in build_graphs(source, Project.for_files([path]))}


def test_factory_returning_model_and_randn_records_the_shape():
    graphs = graphs_of("factories.py")
    assert graphs["ConvClassifier"].attrs["input_shape"] == (8, 3, 32, 32)


def test_randint_shape_is_its_size_argument():
    assert graphs_of("factories.py")["TokenClassifier"].attrs["input_shape"] == (8, 16)


def test_a_shape_the_factory_cannot_know_stays_absent():
    assert "input_shape" not in graphs_of("factories.py")["NoisyMLP"].attrs


def test_module_level_input_shape_constant():
    assert graphs_of("declared.py")["Encoder"].attrs["input_shape"] == (64, 784)


def test_input_shape_belongs_to_the_built_model_not_its_blocks():
    graphs = graphs_of("script.py")
    assert graphs["Tower"].attrs["input_shape"] == (16, 32)
    assert "input_shape" not in graphs["Block"].attrs


def test_conv_and_pool_sizes_reach_the_graph():
    graph = graphs_of("factories.py")["ConvClassifier"]
    stem = next(n for n in graph.nodes if n.name == "stem")
    pool = next(n for n in graph.nodes if n.name == "pool")
    assert (stem.attrs["stride"], stem.attrs["padding"], stem.attrs["kernel_size"]) == (2, 1, 3)
    assert pool.attrs["output_size"] == 1


def test_a_script_tensor_the_model_is_called_with():
    assert graphs_of("train_script.py")["Classifier"].attrs["input_shape"] == (64, 784)


def test_a_script_tensor_moved_to_the_gpu_keeps_its_shape():
    # vit-pytorch's __main__ blocks: ``img = torch.randn(2, 3, 256, 256).cuda()``
    graph = graphs_of("cuda_script.py")["PatchNet"]
    assert graph.attrs["input_shape"] == (2, 3, 64, 64)
