"""gradlint.torch_api: the one table of torch knowledge, and the bugs two tables that
disagreed caused."""

from __future__ import annotations

import ast
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from click.testing import CliRunner

from gradlint import torch_api
from gradlint.cli import main
from tests.conftest import ROOT

# -- the table ---------------------------------------------------------------------------


def test_the_table_is_read_once():
    assert torch_api.table() is torch_api.table()
    assert len(torch_api.layers()) > 90 and len(torch_api.activations()) > 20


def test_every_activation_has_a_kind_the_gain_model_knows():
    from gradlint import gain, ir

    kinds = torch_api.activation_kinds()
    assert kinds == set(gain.FUNCTIONS) == ir.ACTIVATIONS
    assert ir.SATURATING == torch_api.saturating_kinds() <= kinds
    for kind, activation in torch_api.activations().items():
        assert activation.kind == kind
        for module in activation.modules:
            assert torch_api.activation_module(f"torch.nn.{module}") == kind
            assert torch_api.layers()[module].activation == kind
        for function in activation.functions:
            assert torch_api.activation_function(function) == kind
            assert torch_api.activation_named(function.rsplit(".", 1)[-1]) == kind
        for method in activation.methods:
            assert torch_api.activation_method(method) == kind
            assert torch_api.activation_named(method + "_") == kind  # in place
        for op in activation.onnx:
            assert torch_api.onnx_activation(op) == kind


def test_saturating_kinds_carry_the_gain_models_derivative_bound():
    from gradlint import gain

    bounds = {k: a.max_derivative for k, a in torch_api.activations().items() if a.saturating}
    assert bounds == gain.MAX_DERIVATIVE  # until gain.py reads the table itself


def test_what_the_loss_rules_compare_is_in_the_table():
    from gradlint.checks import loss_activation
    from gradlint.codefacts.words import NEEDS_LOSS

    outputs = {k: a.output for k, a in torch_api.activations().items() if a.output}
    assert outputs == {
        "softmax": "probabilities",
        "sigmoid": "probabilities",
        "log_softmax": "log_probabilities",
    }
    assert torch_api.activation_module("torch.nn.Softmax2d") == "softmax"
    rules = [r for r in vars(loss_activation).values() if isinstance(getattr(r, "loss", None), str)]
    assert len(rules) == 4
    for rule in rules:
        loss = torch_api.losses()[rule.loss]
        assert loss.expects != "values" and torch_api.distribution(rule.activation)
        # the text filter in front of the analysis must let a file naming the loss through
        spelled = [loss.module, *(f.rsplit(".", 1)[-1] for f in loss.functions)]
        assert all(NEEDS_LOSS.matches(s) for s in spelled), spelled


def test_the_interpreter_builds_every_layer_of_the_table():
    from gradlint.frontends.python import torch_nn

    assert set(torch_nn.SPECS) == set(torch_api.layers())
    for name, spec in torch_nn.SPECS.items():
        layer = torch_api.layers()[name]
        assert (spec.op, spec.family, spec.activation) == (layer.op, layer.family, layer.activation)
        assert [n for n, _ in spec.signature] == [p.partition("=")[0] for p in layer.signature]
    assert torch_nn.SPECS["Softmax2d"].activation == "softmax"
    assert "PReLU" not in torch_api.parameterless_modules()
    assert {"ReLU", "Softmax2d", "Dropout", "CrossEntropyLoss", "Threshold"} <= (
        torch_api.parameterless_modules()
    )
    assert not {"Linear", "Conv2d", "BatchNorm2d", "LSTM"} & torch_api.parameterless_modules()


def test_training_classes():
    assert torch_api.optimiser_class("torch.optim.AdamW")
    assert torch_api.optimiser_class("torch.optim.SomeNewOptimiser")  # a class of torch.optim
    assert not torch_api.optimiser_class("torch.optim.swa_utils.AveragedModel")
    assert torch_api.scheduler_class("torch.optim.lr_scheduler.OneCycleLR")
    assert torch_api.scheduler_class("torch.optim.swa_utils.SWALR")
    assert torch_api.scaler_class("torch.amp.GradScaler")
    assert torch_api.scaler_class("torch.distributed.fsdp.sharded_grad_scaler.ShardedGradScaler")
    assert torch_api.clips_gradients("torch.nn.utils.clip_grad_norm_")
    assert torch_api.clips_gradients("accelerator.clip_grad_norm_")
    assert "torch.optim.lr_scheduler.OneCycleLR" in torch_api.rescaling_schedulers()


def test_a_malformed_table_is_refused():
    with pytest.raises(torch_api.TableError, match="saturating"):
        torch_api.build({"activations": {"tanh": {"saturating": True}}})
    with pytest.raises(torch_api.TableError, match="expects"):
        torch_api.build({"losses": {"x": {"module": "XLoss", "expects": "logit"}}})
    with pytest.raises(torch_api.TableError, match="both"):
        torch_api.build(
            {"activations": {"a": {"methods": ["f"]}, "b": {"methods": ["f"]}}}
        )


# -- every name the consumers look up is in the table ------------------------------------

CONSUMERS = [
    "gradlint/frontends/python/torch_nn.py",
    "gradlint/frontends/python/modules.py",
    "gradlint/frontends/python/graph.py",
    "gradlint/frontends/python/interpreter.py",
    "gradlint/frontends/python/functional.py",
    "gradlint/frontends/python/classes.py",
    "gradlint/frontends/python/module_objects.py",
    "gradlint/frontends/onnx/convert.py",
    "gradlint/frontends/onnx/ops.py",
    "gradlint/codefacts/output_activations.py",
    "gradlint/codefacts/gradient_paths.py",
    "gradlint/codefacts/forward_cuts.py",
    "gradlint/codefacts/events.py",
    "gradlint/codefacts/optimisers.py",
    "gradlint/codefacts/modules.py",
    "gradlint/codefacts/syntax.py",
    "gradlint/codefacts/registration.py",
    "gradlint/codefacts/plain_tensors.py",
    "gradlint/checks/loss_activation.py",
    "gradlint/checks/_chains.py",
    "gradlint/ir.py",
]
QUALIFIED = re.compile(r"^(torch|np|numpy)(\.\w+)+\.?$")


@pytest.mark.parametrize("path", CONSUMERS)
def test_a_torch_name_a_consumer_spells_is_one_of_the_table(path):
    known = torch_api.qualified_names() | torch_api.names("namespaces.modules")
    tree = ast.parse((ROOT / path).read_text(encoding="utf-8"))
    spelled = {
        node.value.rstrip(".")
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str)
        and QUALIFIED.match(node.value)
    }
    assert spelled <= known, spelled - known


GONE = {
    "gradlint.codefacts.output_activations": [
        "ACTIVATION_FUNCTIONS", "ACTIVATION_METHODS", "ACTIVATION_MODULES", "LOSS_FUNCTIONS",
        "LOSS_MODULES", "NO_GRAD_CONTEXTS",
    ],
    "gradlint.codefacts.gradient_paths": [
        "NO_GRADIENT_METHODS", "NO_GRADIENT_FUNCTIONS", "INDEX_FIRST", "TO_PYTHON_METHODS",
        "REWRAPS", "NO_GRAD_CONTEXTS",
    ],
    "gradlint.codefacts.events": ["CLIPS"],
    "gradlint.codefacts.optimisers": ["RESCALING_SCHEDULERS"],
    "gradlint.codefacts.modules": ["PARAMETERLESS", "TENSOR_FACTORIES", "CONTAINERS"],
    "gradlint.codefacts.syntax": ["PASS_THROUGH_METHODS"],
    "gradlint.frontends.python.torch_nn": ["_ACT", "FUNCTIONAL_ACTIVATIONS", "activation_kind"],
    "gradlint.frontends.python.modules": ["_TENSOR_FACTORIES", "_VALUE_ATTRS"],
    "gradlint.frontends.python.graph": ["_OUTPUTS"],
    "gradlint.frontends.python.functional": [
        "_IDENTITY", "_SPLIT", "_POOL", "_NORM", "_DROPOUT", "_CONCAT", "_MATMUL",
        "_VALUE_METHODS",
    ],
    "gradlint.frontends.onnx.ops": ["ACTIVATIONS"],
    "gradlint.checks.loss_activation": ["LOSS_NAMES"],
}


@pytest.mark.parametrize("module, gone", GONE.items())
def test_no_second_table_is_left(module, gone):
    import importlib

    loaded = importlib.import_module(module)
    assert [name for name in gone if name in vars(loaded)] == []


def test_the_cut_filters_see_every_cut_of_the_table():
    from gradlint.codefacts import forward_cuts as gp

    for method in torch_api.names("tensors.to_python_methods"):
        assert gp._may_cut(f"y = x.{method}()") and method in gp._RENAMABLE
    for method in torch_api.names("tensors.detach_methods"):
        assert gp._may_cut(f"y = x.{method}()")
    for name in torch_api.names("tensors.to_python_functions") | torch_api.names("tensors.rewraps"):
        short = name.rsplit(".", 1)[-1]
        assert gp._may_cut(f"y = {name}(x)") and short in gp._RENAMABLE, name
    for name in torch_api.names("autograd.no_grad_contexts") | torch_api.names(
        "autograd.grad_switches"
    ):
        short = name.rsplit(".", 1)[-1]
        assert gp._may_cut(f"with {name}():") and short in gp._RENAMABLE, name


def test_the_names_are_torchs():
    """Every name of the table is one the installed torch has."""
    torch = pytest.importorskip("torch")
    import importlib

    def resolve(qualified: str):
        parts = qualified.split(".")
        for cut in range(len(parts), 0, -1):
            try:
                obj = importlib.import_module(".".join(parts[:cut]))
            except ImportError:
                continue
            for part in parts[cut:]:
                obj = getattr(obj, part)
            return obj
        raise ImportError(qualified)

    numpy_names = {n for n in torch_api.qualified_names() if n.startswith(("np.", "numpy."))}
    numpy_names |= torch_api.names("modules.parameterless_libraries")  # other libraries
    newer = {"torch.optim.Muon", "torch.optim.Adafactor"}  # than some torch gradlint supports
    for name in sorted(torch_api.qualified_names() - numpy_names):
        if name not in newer or hasattr(torch.optim, name.rsplit(".", 1)[-1]):
            resolve(name)
    for name in torch_api.names("namespaces.modules"):
        importlib.import_module(name)
    tensor_methods = set()
    for activation in torch_api.activations().values():
        tensor_methods |= set(activation.methods)
    tensor_methods |= torch_api.names("tensors.to_python_methods")
    tensor_methods |= torch_api.names("tensors.detach_methods")
    tensor_methods |= torch_api.names("gradients.no_gradient_methods")
    tensor_methods |= torch_api.names("gradients.fill_methods")
    tensor_methods |= torch_api.names("gradients.index_methods")
    tensor_methods -= {"train"}
    assert [m for m in sorted(tensor_methods) if not hasattr(torch.Tensor, m)] == []
    for attr in torch_api.names("tensors.value_attributes"):
        assert hasattr(torch.zeros(1), attr), attr


def test_every_layer_signature_is_torchs():
    """Names, order and defaults of the constructors' leading parameters, as torch has them
    (the transformer layers' activation is spelled by name, torch's default is F.relu)."""
    torch = pytest.importorskip("torch")
    import inspect

    for name, layer in torch_api.layers().items():
        params = list(inspect.signature(getattr(torch.nn, name)).parameters.values())
        if any(p.kind is p.VAR_POSITIONAL for p in params):
            continue  # RNN, LSTM, GRU take *args
        theirs = [
            (p.name, "relu" if p.name == "activation" else p.default)
            for p in params[: len(layer.signature)]
        ]
        mine = [
            (n, ast.literal_eval(d) if eq else inspect.Parameter.empty)
            for n, eq, d in (part.partition("=") for part in layer.signature)
        ]
        assert mine == theirs, name


def test_a_change_to_the_table_changes_the_cache_key():
    from gradlint.cache import code_fingerprint

    data = ROOT / "gradlint" / "torch_api.toml"
    before, stat = code_fingerprint(), data.stat()
    try:
        os.utime(data, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
        assert code_fingerprint() != before
    finally:
        os.utime(data, ns=(stat.st_atime_ns, stat.st_mtime_ns))


def test_the_static_path_imports_no_torch(tmp_path):
    (tmp_path / "seg.py").write_text(SEGMENTATION, encoding="utf-8")
    code = (
        "import sys\n"
        "from gradlint.cli import main\n"
        "try:\n"
        f"    main(['check', '--no-cache', '-j', '1', {str(tmp_path / 'seg.py')!r}])\n"
        "except SystemExit:\n"
        "    pass\n"
        "print(sorted(m for m in ('torch', 'numpy', 'onnx') if m in sys.modules))\n"
    )
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True,
        timeout=300, check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "[]"


# -- the bugs two tables caused, end to end ------------------------------------------------

SEGMENTATION = '''\
"""A small fully convolutional segmentation net with a per-pixel softmax head."""
import torch.nn as nn


class SegNet(nn.Module):
    def __init__(self, in_channels=3, n_classes=5):
        super().__init__()
        self.encoder = nn.Sequential(
            nn.Conv2d(in_channels, 32, 3, padding=1),
            nn.ReLU(inplace=True),
            nn.Conv2d(32, 32, 3, padding=1),
            nn.ReLU(inplace=True),
        )
        self.head = nn.Sequential(nn.Conv2d(32, n_classes, 1), nn.Softmax2d())

    def forward(self, x):
        return self.head(self.encoder(x))


def train(model, loader, optimizer, device):
    criterion = nn.CrossEntropyLoss()
    model.train()
    for images, masks in loader:
        images, masks = images.to(device), masks.to(device)
        optimizer.zero_grad()
        loss = criterion(model(images), masks)
        loss.backward()
        optimizer.step()
'''

# The PyTorch tutorial "NLP From Scratch: Classifying Names with a Character-Level RNN".
CHAR_RNN = '''\
import torch
import torch.nn as nn


class RNN(nn.Module):
    def __init__(self, input_size, hidden_size, output_size):
        super(RNN, self).__init__()

        self.hidden_size = hidden_size

        self.i2h = nn.Linear(input_size + hidden_size, hidden_size)
        self.i2o = nn.Linear(input_size + hidden_size, output_size)
        self.softmax = nn.LogSoftmax(dim=1)

    def forward(self, input, hidden):
        combined = torch.cat((input, hidden), 1)
        hidden = self.i2h(combined)
        output = self.i2o(combined)
        output = self.softmax(output)
        return output, hidden

    def initHidden(self):
        return torch.zeros(1, self.hidden_size)


n_letters, n_hidden, n_categories = 57, 128, 18
rnn = RNN(n_letters, n_hidden, n_categories)
criterion = nn.NLLLoss()
learning_rate = 0.005


def train(category_tensor, line_tensor):
    hidden = rnn.initHidden()
    rnn.zero_grad()
    for i in range(line_tensor.size()[0]):
        output, hidden = rnn(line_tensor[i], hidden)
    loss = criterion(output, category_tensor)
    loss.backward()
    for p in rnn.parameters():
        p.data.add_(p.grad.data, alpha=-learning_rate)
    return output, loss.item()
'''


def check_gl4(tmp_path: Path, name: str, text: str):
    path = tmp_path / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return CliRunner().invoke(
        main, ["check", "--no-cache", "--output-format", "concise", "--select", "GL4", str(path)],
        catch_exceptions=False,
    )


def test_softmax2d_before_cross_entropy_is_reported(tmp_path):
    result = check_gl4(tmp_path, "segmentation.py", SEGMENTATION)
    assert result.exit_code == 1, result.output
    assert "segmentation.py:26:16: GL401 CrossEntropyLoss receives softmax output" in result.output
    assert "`nn.Softmax2d()` at line 14 in SegNet.__init__" in result.output


def test_softmax2d_module_attribute_before_cross_entropy_is_reported(tmp_path):
    result = check_gl4(tmp_path, "seg.py", '''\
        import torch.nn as nn


        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.conv = nn.Conv2d(3, 4, 1)
                self.act = nn.Softmax2d()

            def forward(self, x):
                return self.act(self.conv(x))


        model = Net()
        criterion = nn.CrossEntropyLoss()


        def step(x, y):
            return criterion(model(x), y)
        ''')
    assert result.exit_code == 1, result.output
    assert "seg.py:19:12: GL401" in result.output
    assert "(`self.act(self.conv(x))` at line 11 in Net.forward)" in result.output


def test_the_char_rnn_tutorial_log_softmax_named_softmax_is_clean(tmp_path):
    """``self.softmax = nn.LogSoftmax(dim=1)`` feeding NLLLoss is right: the attribute is what
    its constructor built, whatever its name."""
    result = check_gl4(tmp_path, "char_rnn.py", CHAR_RNN)
    assert result.exit_code == 0, result.output
    assert "All checks passed" in result.output


@pytest.mark.parametrize(
    "built, loss",
    [
        ("nn.LogSoftmax(dim=1)", "nn.NLLLoss()"),  # named softmax, is log_softmax
        ("nn.Identity()", "nn.CrossEntropyLoss()"),  # named softmax, is nothing
        ("make_head()", "nn.CrossEntropyLoss()"),  # named softmax, built who knows how
        ("nn.Tanh()", "nn.BCEWithLogitsLoss()"),  # named sigmoid below
    ],
)
def test_an_attribute_is_known_by_its_constructor_never_by_its_name(tmp_path, built, loss):
    attr = "sigmoid" if "BCE" in loss else "softmax"
    result = check_gl4(tmp_path, "model.py", f'''\
        import torch.nn as nn
        from heads import make_head


        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.fc = nn.Linear(8, 3)
                self.{attr} = {built}

            def forward(self, x):
                return self.{attr}(self.fc(x))


        def train(model: Net, loader):
            criterion = {loss}
            for x, y in loader:
                loss = criterion(model(x), y)
                loss.backward()
        ''')
    assert result.exit_code == 0, result.output


def test_an_attribute_named_softmax_that_is_one_is_still_reported(tmp_path):
    result = check_gl4(tmp_path, "model.py", '''\
        import torch.nn as nn


        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.fc = nn.Linear(8, 3)
                self.softmax = nn.Softmax(dim=1)

            def forward(self, x):
                return self.softmax(self.fc(x))


        def train(model: Net, loader):
            criterion = nn.NLLLoss()
            for x, y in loader:
                loss = criterion(model(x), y)
                loss.backward()
        ''')
    assert result.exit_code == 1, result.output
    assert "model.py:17:16: GL402" in result.output
    assert "(`self.softmax(self.fc(x))` at line 11 in Net.forward)" in result.output
