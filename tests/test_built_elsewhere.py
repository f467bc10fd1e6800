"""Models whose sizes only another file gives: a training script of the tree, or the Python
blocks of its README. Their records say which file built them; findings never use them."""

from __future__ import annotations

import ast
import json
import shutil
from pathlib import Path

import pytest

from gradlint.files import display_path
from gradlint.markdown_code import python_of_markdown
from gradlint.reading import python_lines
from gradlint.yaml_code import python_of_yaml

TREE = Path(__file__).parent / "fixtures" / "frontend" / "elsewhere"


def records(cli, *args: str) -> dict[tuple[str, str], dict]:
    result = cli("check", "--isolated", "--output-format", "json", *args)
    report = json.loads(result.stdout)
    assert report["errors"] == []
    return {(Path(m["path"]).name, m["class"]): m for m in report["models"]}


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_the_readme_and_a_training_script_build_the_models_that_need_sizes(cli, jobs):
    # one process parses a file only in part when no other file imports it by name; with
    # ``-j 2`` every file another imports is parsed whole
    found = records(cli, "--no-cache", "-j", jobs, str(TREE))
    built = {key: (m["built_with"], m["log10_grad_ratio"] is not None, m.get("blocked")) for key, m in found.items()}
    readme = f"as {display_path(TREE / 'README.md')} builds it"
    assert built == {
        ("mlp.py", "MLP"): (f"as {display_path(TREE / 'train.py')} builds it", True, None),
        # ``from models import *`` in a script whose training loop reads a dataset that sets
        # attributes on itself: the loop changes no layer, so the model stays whole
        ("models.py", "Discriminator"): (f"as {display_path(TREE / 'gan' / 'gan.py')} builds it", True, None),
        ("vit.py", "ViT"): (readme, True, None),
        ("vit.py", "Transformer"): ("the sizes ViT gives its transformer", True, None),
        ("vit.py", "Attention"): ("the sizes ViT gives its transformer.layers.0.0", True, None),
        ("vit.py", "FeedForward"): ("the sizes ViT gives its transformer.layers.0.1", True, None),
        # the README reads its width from a file: built on stand-ins, and its estimate follows the depth
        ("vit.py", "Mixer"): ("stand-ins for dim, depth", False,
                              "the estimate depends on constructor arguments nothing passes: depth"),
        # imported under the same name after the first ViT: each statement's own import counts
        ("vit_small.py", "ViT"): (readme, True, None),
        # a notebook's cells build it, and call it on an example input
        ("convnet.py", "ConvNet"): (f"as {display_path(TREE / 'demo.ipynb')} builds it", True, None),
        # train_chars.py builds it first, on a vocabulary read from a file: no estimate there, and
        # the README's build, which gives its size, is the record's
        ("charlm.py", "CharLM"): (readme, True, None),
        # a Hydra configuration names it with its sizes (``_target_: tinyvit.dense.SimpleDenseNet``)
        ("dense.py", "SimpleDenseNet"): (f"as {display_path(TREE / 'configs' / 'model' / 'mnist.yaml')} builds it",
                                         True, None),
    }
    # a real backward pass of these builds on the inputs they are called with (gradlint probe,
    # seeds 0-2): ViT -0.58/-0.58/-0.64, MLP -3.63/-3.46/-3.46, ConvNet -2.28/-2.13/-2.29
    # (16 patches a sample: the attention mixes 16 positions, the batch holds 2 x 16 of them)
    assert found[("vit.py", "ViT")]["log10_grad_ratio"] == pytest.approx(-0.60, abs=0.05)
    assert found[("convnet.py", "ConvNet")]["log10_grad_ratio"] == pytest.approx(-1.90, abs=0.05)
    assert found[("mlp.py", "MLP")]["log10_grad_ratio"] == pytest.approx(-3.55, abs=0.05)
    # measured on (256, 1, 28, 28), seeds 0-2: -0.95/-0.98/-1.14
    assert found[("dense.py", "SimpleDenseNet")]["log10_grad_ratio"] == pytest.approx(-1.0, abs=0.05)
    # measured on a (1, 3, 256, 256) input -0.16, on (8, 3, 256, 256) -0.61
    assert found[("models.py", "Discriminator")]["log10_grad_ratio"] == pytest.approx(-0.21, abs=0.05)


def test_models_built_elsewhere_give_no_findings_and_a_plain_check_reads_no_readme(cli, monkeypatch):
    from gradlint.frontends.python.index import Project

    def unread(self):
        raise AssertionError("a check without model records looked for the files that build models")

    with monkeypatch.context() as patched:
        patched.setattr(Project, "callers", property(unread))
        plain = cli("check", "--no-cache", "--isolated", "-j", "1", str(TREE))
    assert (plain.returncode, plain.stdout.strip()) == (0, "All checks passed (12 files checked).")
    # a deep tanh MLP (12 layers, -3.6 decades) built by train.py is a record, not a finding
    shown = json.loads(cli("check", "--no-cache", "--isolated", "--output-format", "json", str(TREE)).stdout)
    assert shown["findings"] == []


def test_a_changed_readme_is_a_changed_record_under_the_cache(cli, tmp_path):
    tree = tmp_path / "tree"
    shutil.copytree(TREE, tree)
    first = records(cli, str(tree))
    assert records(cli, str(tree)) == first  # from the cache
    readme = tree / "README.md"
    readme.write_text(readme.read_text(encoding="utf-8").replace("depth = 4,", "depth = 24,"), encoding="utf-8")
    again = records(cli, str(tree))
    assert again[("vit.py", "ViT")]["log10_grad_ratio"] != first[("vit.py", "ViT")]["log10_grad_ratio"]
    assert again[("vit.py", "ViT")]["depth"] > first[("vit.py", "ViT")]["depth"]


def test_markdown_python_keeps_the_files_lines_and_drops_what_does_not_parse():
    lines = [
        "# title",                 # 1
        "```python",               # 2
        "import torch",            # 3
        "v = Net(dim = 8)",        # 4
        "```",                     # 5
        "```bash",                 # 6
        "pip install net",         # 7
        "```",                     # 8
        "```py",                   # 9
        "v = Net(dim = 8, ...,",   # 10: an excerpt
        "```",                     # 11
        "~~~",                     # 12
        ">>> net = Net(4)",        # 13
        "Net(...)",                # 14: output
        "~~~",                     # 15
    ]
    text = "\n".join(lines)
    script = python_of_markdown(text).split("\n")
    assert script[2:4] == ["import torch", "v = Net(dim = 8)"]
    assert script[12] == "net = Net(4)"
    assert [i for i, line in enumerate(script) if line] == [2, 3, 12]
    assert len(script) == len(text.split("\n"))


def test_any_markdown_gives_a_script_of_its_own_lines_or_blank_ones():
    """Whatever a Markdown file holds (fences left open, tags of every kind, prompts, text that
    is no Python), its script has the file's lines: each one blank, the file's own line, or a
    prompt's code, and every block kept parses."""
    hypothesis = pytest.importorskip("hypothesis")
    from hypothesis import given, settings
    from hypothesis import strategies as st

    pieces = st.sampled_from(["```", "```python", "```py", "```bash", "~~~", "    ```", ">>> x = Net(2)",
                              "... y = 1", "v = Net(dim = 8)", "v = Net(", "def f():", "    return 1",
                              "", "text", "import torch", "\t", "```{python}", "s = 'a\u2028b'", "\r"])

    @settings(max_examples=300, deadline=None, database=None)
    @given(st.lists(pieces, max_size=30))
    def check(lines):
        text = "\n".join(lines)
        script, lines = python_lines(python_of_markdown(text)), python_lines(text)
        assert len(script) == len(lines)
        for mine, theirs in zip(script, lines):
            assert mine in ("", theirs) or (theirs.startswith((">>> ", "... ")) and mine == theirs[4:])
        ast.parse("\n".join(script))

    del hypothesis
    check()


def test_the_model_line_says_which_file_built_the_model(cli):
    result = cli("check", "--isolated", "--no-cache", "--show-models", str(TREE))
    line = next(line for line in result.stdout.splitlines() if "model MLP" in line)
    assert f"model MLP (as {display_path(TREE / 'train.py')} builds it): depth" in line


def test_yaml_configurations_become_one_call_a_target_on_its_line():
    text = "\n".join([
        "model:",
        "  base_learning_rate: 4.5e-6",
        "  target: ldm.models.autoencoder.AutoencoderKL",
        "  params:",
        "    embed_dim: 4",
        "    ddconfig: {double_z: true, ch_mult: [1, 2, 4, 4], attn_resolutions: []}",
        "    lossconfig:",
        "      target: ldm.modules.losses.LPIPSWithDiscriminator",
        "      params: {kl_weight: 0.000001}",
        "trainer:",
        "  _target_: pkg.train.Trainer",
        "  net: {_target_: pkg.nets.Net, width: 8}",
        "  _partial_: true",
    ])
    lines = python_of_yaml(text).split("\n")
    assert len(lines) == len(text.split("\n"))
    # latent-diffusion's target/params: nested configurations stay dicts, as its code takes them
    assert lines[2] == ("from ldm.models.autoencoder import AutoencoderKL; _built = AutoencoderKL(**{'embed_dim': 4, "
                        "'ddconfig': {'double_z': True, 'ch_mult': [1, 2, 4, 4], 'attn_resolutions': []}, "
                        "'lossconfig': {'target': 'ldm.modules.losses.LPIPSWithDiscriminator', "
                        "'params': {'kl_weight': 1e-06}}})")
    assert lines[7].startswith("from ldm.modules.losses import LPIPSWithDiscriminator; _built = ")
    # Hydra's _target_: the other keys are the arguments, a nested _target_ is built
    assert lines[10] == ("from pkg.train import Trainer; _built = Trainer(**{'net': __import__('pkg.nets', "
                         "fromlist=['_']).Net(**{'width': 8})})")
    assert lines[11] == "from pkg.nets import Net; _built = Net(**{'width': 8})"  # and on its own
    assert [i for i, line in enumerate(lines) if line] == [2, 7, 10, 11]
    for line in lines:
        ast.parse(line)
    # nothing to build, a file that is not YAML, an unsafe tag: blank lines, never an error
    assert python_of_yaml("name: ci\non: [push]\n") == "\n\n"
    assert python_of_yaml("target: [unclosed\n") == "\n"
    assert python_of_yaml("target: !!python/object:os.system x\n").strip() == ""

