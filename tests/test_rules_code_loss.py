"""GL4xx: the activation a model's output ends in, against the loss that receives it."""

from __future__ import annotations

import json
from pathlib import Path

from code_rules_helpers import findings, lines
from conftest import run_cli

MODEL = """
import torch
import torch.nn as nn
import torch.nn.functional as F


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(8, 3)
        self.softmax = nn.Softmax(dim=1)

    def forward(self, x):
        h = self.fc(x)
        return self.softmax(h)
"""


def test_module_softmax_reaches_cross_entropy_through_a_parameter(tmp_path):
    code = (
        MODEL
        + """
def train(model, loader, optimizer):
    criterion = nn.CrossEntropyLoss()
    for x, y in loader:
        loss = criterion(model(x), y)
"""
    )
    found = findings(code, tmp_path, "GL4")
    assert [(f.code, f.location.line) for f in found] == [("GL401", 20)]
    assert "self.softmax(h)" in found[0].message and "line 15" in found[0].message


def test_criterion_on_self_and_model_on_self(tmp_path):
    code = (
        MODEL
        + """
class Trainer:
    def __init__(self):
        self.model = Net()
        self.criterion = nn.CrossEntropyLoss()

    def step(self, x, y):
        out = self.model(x)
        return self.criterion(out, y)
"""
    )
    assert lines(code, tmp_path, "GL4") == [(24, "GL401")]


def test_inline_softmax_into_functional_losses(tmp_path):
    code = """
import torch
import torch.nn.functional as F

def losses(logits, y):
    probs = logits.softmax(-1)
    a = F.cross_entropy(probs, y)
    b = F.nll_loss(torch.softmax(logits, 1), y)
    c = F.nll_loss(F.log_softmax(logits, 1), y)
    d = F.binary_cross_entropy_with_logits(torch.sigmoid(logits), y)
    e = F.binary_cross_entropy_with_logits(logits, y)
    return a + b + c + d + e
"""
    assert lines(code, tmp_path, "GL4") == [(7, "GL401"), (8, "GL402"), (10, "GL403")]


def test_sequential_ending_in_softmax_and_module_level_script(tmp_path):
    code = """
import torch
from torch import nn

net = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3), nn.Softmax(dim=-1))
loss_fn = nn.CrossEntropyLoss()
for x, y in [(torch.randn(2, 4), torch.tensor([0, 1]))]:
    loss = loss_fn(net(x), y)
"""
    assert lines(code, tmp_path, "GL4") == [(8, "GL401")]


def test_attention_softmax_and_metrics_are_not_reported(tmp_path):
    code = """
import torch
import torch.nn as nn
import torch.nn.functional as F


class Attn(nn.Module):
    def __init__(self):
        super().__init__()
        self.qkv = nn.Linear(16, 48)
        self.out = nn.Linear(16, 4)

    def forward(self, x):
        q, k, v = self.qkv(x).chunk(3, -1)
        att = F.softmax(q @ k.transpose(-2, -1), dim=-1)
        return self.out(att @ v)

    def predict(self, x):
        return F.softmax(self(x), dim=-1).argmax(-1)


def train(model, loader):
    for x, y in loader:
        logits = model(x)
        acc = (logits.softmax(-1).argmax(-1) == y).float().mean()
        loss = F.cross_entropy(logits, y)
"""
    assert lines(code, tmp_path, "GL4") == []


def test_no_grad_evaluation_and_training_only_logits_are_not_reported(tmp_path):
    code = """
import torch
import torch.nn as nn
import torch.nn.functional as F


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(8, 3)

    def forward(self, x):
        logits = self.fc(x)
        if self.training:
            return logits
        return F.softmax(logits, -1)


def train(model: Net, loader):
    for x, y in loader:
        loss = F.cross_entropy(model(x), y)
    with torch.no_grad():
        val = F.cross_entropy(F.softmax(model(x), -1), y)
"""
    assert lines(code, tmp_path, "GL4") == []


def test_ambiguous_model_stays_silent(tmp_path):
    code = (
        MODEL
        + """
class Other(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(8, 3)

    def forward(self, x):
        return self.fc(x)


def train(model, x, y):
    return F.cross_entropy(model(x), y)
"""
    )
    assert lines(code, tmp_path, "GL4") == []


def test_tuple_outputs_are_followed_element_by_element(tmp_path):
    code = """
import torch
import torch.nn as nn
import torch.nn.functional as F


class AE(nn.Module):
    def __init__(self):
        super().__init__()
        self.enc = nn.Linear(8, 2)
        self.dec = nn.Linear(2, 8)
        self.cls = nn.Linear(2, 3)

    def forward(self, x):
        z = self.enc(x)
        return torch.sigmoid(self.dec(z)), self.cls(z)


def train(model: AE, x, y):
    recon, logits = model(x)
    a = F.binary_cross_entropy_with_logits(recon, x)
    b = F.cross_entropy(logits, y)
    c = F.binary_cross_entropy_with_logits(model(x)[0], x)
    return a + b + c
"""
    assert lines(code, tmp_path, "GL4") == [(21, "GL403"), (23, "GL403")]


def test_bce_note_is_opt_in(tmp_path):
    code = """
import torch
import torch.nn as nn

def loss(logits, y):
    return nn.BCELoss()(torch.sigmoid(logits), y)
"""
    assert lines(code, tmp_path, "GL4") == [(6, "GL404")]
    assert lines(code, tmp_path, "ALL") == []
    assert findings(code, tmp_path, "GL404")[0].severity == "info"


def test_arguments_passed_by_the_file_itself(tmp_path):
    code = (
        MODEL
        + """
def train(model, loader, criterion):
    for x, y in loader:
        loss = criterion(model(x), y)


def main():
    model = Net().to("cpu")
    train(model, [], nn.NLLLoss())
"""
    )
    assert lines(code, tmp_path, "GL4") == [(19, "GL402")]


def test_model_imported_from_another_file_of_the_tree(tmp_path):
    package = tmp_path / "proj" / "pkg"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("", encoding="utf-8")
    (package / "models.py").write_text(
        "import torch.nn as nn\nimport torch.nn.functional as F\n\n\n"
        "class Net(nn.Module):\n"
        "    def __init__(self):\n"
        "        super().__init__()\n"
        "        self.out = nn.Linear(8, 3)\n\n"
        "    def forward(self, x):\n"
        "        return F.softmax(self.out(x), dim=1)\n",
        encoding="utf-8",
    )
    (package / "train.py").write_text(
        "import torch.nn as nn\nfrom .models import Net\n\n\n"
        "def train(loader):\n"
        "    model = Net()\n"
        "    criterion = nn.CrossEntropyLoss()\n"
        "    for x, y in loader:\n"
        "        loss = criterion(model(x), y)\n",
        encoding="utf-8",
    )
    proc = run_cli("check", "--select", "GL4", "--format", "json", "pkg", cwd=tmp_path / "proj")
    data = json.loads(proc.stdout)
    assert [(f["path"], f["line"], f["code"]) for f in data["findings"]] == [("pkg/train.py", 9, "GL401")]
    assert "line 11 of pkg/models.py in Net.forward" in data["findings"][0]["message"]


def test_an_imported_class_is_parsed_only_from_a_file_that_defines_a_forward(tmp_path, monkeypatch):
    """A model of another file is a class with a forward of its own: a file of output
    records or configurations (transformers' modeling_outputs.py) is never parsed to learn
    that its class is none, while the model file still is."""
    from gradlint.source import SourceFile

    (tmp_path / "models.py").write_text(
        "import torch.nn as nn\n\n\n"
        "class Net(nn.Module):\n"
        "    def __init__(self):\n"
        "        super().__init__()\n"
        "        self.out = nn.Linear(8, 3)\n\n"
        "    def forward(self, x):\n"
        "        return self.out(x).softmax(-1)\n",
        encoding="utf-8",
    )
    (tmp_path / "outputs.py").write_text(
        "from dataclasses import dataclass\n\n\n"
        "@dataclass\n"
        "class Output:\n"
        '    """Returned by a forward pass."""\n\n'
        "    logits: object = None\n",
        encoding="utf-8",
    )
    parsed = []
    real_parse = SourceFile.parse.__func__

    def spy(cls, path, text, tree=None):
        parsed.append(Path(path).name)
        return real_parse(cls, path, text, tree)

    monkeypatch.setattr(SourceFile, "parse", classmethod(spy))
    code = """
        import torch.nn as nn
        from models import Net
        from outputs import Output


        def train(x, y):
            model = Net()
            record = Output(logits=model(x))
            return nn.CrossEntropyLoss()(model(x), y)
    """
    assert lines(code, tmp_path, "GL4") == [(10, "GL401")]
    assert [name for name in parsed if name != "snippet.py"] == ["models.py"]


def test_functions_that_name_no_loss_are_not_analysed_but_every_path_to_a_loss_is(tmp_path, monkeypatch):
    """Only functions whose text may reach a loss are followed: one naming a loss through
    an alias, a global holding one, a helper of the file that calls one, or a class that
    holds one. The rest (most methods of a large model file) would record nothing."""
    from gradlint.codefacts import output_activations

    code = (
        MODEL
        + """
from torch.nn import NLLLoss as Judge

CRITERION = nn.CrossEntropyLoss()


class Tower(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(8, 8)

    def forward(self, x):
        return self.fc(x).softmax(-1)

    def unused(self, x):
        return x * 2


class WithLoss(nn.Module):
    def __init__(self):
        super().__init__()
        self.net = Net()
        self.judge = Judge()

    def forward(self, x, y):
        return self.judge(self.net(x), y)


def score(out, y):
    return F.cross_entropy(out, y)


def evaluate(model, x, y):
    return score(model(x), y)


def run_global(x, y):
    return CRITERION(Net()(x), y)


def aliased(x, y):
    return Judge()(Net()(x), y)


def plain(x):
    return Tower()(x) + 1
"""
    )
    ran: list[str] = []
    real = output_activations.FileAnalysis.run_function

    def spy(self, func, owner, bound=None):
        ran.append(func.name.value)
        return real(self, func, owner, bound)

    monkeypatch.setattr(output_activations.FileAnalysis, "run_function", spy)
    found = lines(code, tmp_path, "GL4")
    assert "unused" not in ran and "plain" not in ran and "__init__" in ran  # WithLoss.__init__
    assert {"score", "evaluate", "run_global", "aliased"} <= set(ran)
    assert found == [(41, "GL402"), (53, "GL401"), (57, "GL402")]  # as when every function ran
