"""The cross-file index: module names, imports between files, what a file depends on, the CLI."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from gradlint.frontends.python import Project, build_graphs
from gradlint.frontends.python.index import module_names
from gradlint.source import SourceFile

FIXTURES = Path(__file__).parent / "fixtures" / "frontend"


def test_module_names_follow_packages(tmp_path):
    pkg = tmp_path / "src" / "proj" / "models"
    pkg.mkdir(parents=True)
    (tmp_path / "src" / "proj" / "__init__.py").write_text("")
    (pkg / "__init__.py").write_text("")
    (pkg / "resnet.py").write_text("")
    # every folder above that can be a package name counts (namespace packages: no __init__.py)
    names = module_names(pkg / "resnet.py")
    assert names[-4:] == ["src.proj.models.resnet", "proj.models.resnet", "models.resnet", "resnet"]
    assert names[0] == f"{tmp_path.name}.src.proj.models.resnet"
    assert module_names(pkg / "__init__.py")[-2] == "proj.models"
    odd = tmp_path / "stable-diffusion" / "ldm" / "modules" / "util.py"  # "stable-diffusion" is no name
    odd.parent.mkdir(parents=True)
    odd.write_text("")
    assert module_names(odd) == ["ldm.modules.util", "modules.util", "util"]


def test_dependencies_are_the_files_whose_definitions_were_used(tmp_path):
    shutil.copytree(FIXTURES / "pkg", tmp_path / "pkg")
    files = sorted((tmp_path / "pkg").glob("*.py"))
    project = Project.for_files(files)
    model = tmp_path / "pkg" / "model.py"
    deps = {Path(p).name for p in project.dependencies_of(str(model))}
    assert deps == {"__init__.py", "blocks.py", "layers.py"}
    assert project.dependencies_of(str(tmp_path / "pkg" / "layers.py")) == set()
    blocks_deps = {Path(p).name for p in project.dependencies_of(str(tmp_path / "pkg" / "blocks.py"))}
    assert blocks_deps == {"layers.py"}


def test_a_block_edited_in_another_file_changes_the_model(tmp_path):
    shutil.copytree(FIXTURES / "pkg", tmp_path / "pkg")
    layers = tmp_path / "pkg" / "layers.py"
    layers.write_text(layers.read_text().replace('"tanh": nn.Tanh', '"tanh": nn.Sigmoid'))
    files = sorted((tmp_path / "pkg").glob("*.py"))
    model = tmp_path / "pkg" / "model.py"
    source = SourceFile.parse(str(model), model.read_text())
    tower = {g.name: g for g in build_graphs(source, Project.for_files(files))}["Tower"]
    kinds = [n.activation for n in tower.nodes if n.op == "activation"]
    assert kinds == ["sigmoid", "sigmoid", "sigmoid", "gelu"]


def test_without_the_rest_of_the_tree_imported_blocks_are_unknown(tmp_path):
    model = FIXTURES / "pkg" / "model.py"
    source = SourceFile.parse(str(model), model.read_text())
    graphs = {g.name: g for g in build_graphs(source, Project.for_files([model]))}
    assert "DeepTower" not in graphs  # its base class cannot be seen
    assert not graphs["Tower"].complete


def test_cli_reports_each_resolved_model(tmp_path, cli):
    shutil.copytree(FIXTURES, tmp_path / "models")
    result = cli("check", "--format", "json", "--exit-zero", "models", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["errors"] == []
    models = {(m["path"], m["class"]): m["line"] for m in report["models"]}
    records = {(m["path"], m["class"]): m for m in report["models"]}
    assert models[("models/resnet.py", "ResNet")] == 76
    assert models[("models/pkg/model.py", "Tower")] == 8
    assert models[("models/pkg/model.py", "DeepTower")] == 20
    assert models[("models/gpt.py", "GPT")] == 76
    needs_args = records[("models/unresolved.py", "NeedsArgs")]  # one Linear(width, width)
    assert needs_args["stand_ins"] == ["width"] and needs_args["log10_grad_ratio"] == 0.0
    assert needs_args["built_with"] == "stand-ins for width"
    assert ("models/hostile.py", "Forever") not in models


def test_cli_single_worker_on_hostile_code(tmp_path, cli):
    target = tmp_path / "hostile.py"
    shutil.copy(FIXTURES / "hostile.py", target)
    deep = "x = " + "(" * 90 + "1" + ")" * 90 + "\n"
    nested = "import torch.nn as nn\nclass Deep(nn.Module):\n    def __init__(self, n=" + "1 + " * 400 + "1):\n" \
        "        super().__init__()\n        self.fc = nn.Linear(n, n)\n    def forward(self, x):\n        return self.fc(x)\n"
    (tmp_path / "deep.py").write_text(deep + nested)
    result = cli("check", "--format", "json", "--exit-zero", "-j", "1", ".", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert not [e for e in report["errors"] if "internal error" in e.get("message", "")]
    assert {m["class"] for m in report["models"]} >= {"Recursive", "Deep"}


def test_the_frontend_never_imports_torch_or_numpy():
    import subprocess
    import sys

    code = (
        "import sys\n"
        "from pathlib import Path\n"
        "from gradlint.frontends.python import Project, build_graphs\n"
        "from gradlint.source import SourceFile\n"
        f"files = sorted(Path({str(FIXTURES)!r}).rglob('*.py'))\n"
        "project = Project.for_files(files)\n"
        "count = sum(len(build_graphs(SourceFile.parse(str(f), f.read_text()), project)) for f in files)\n"
        "assert count > 20, count\n"
        "print(sorted(m for m in ('torch', 'numpy', 'onnx') if m in sys.modules))\n"
    )
    root = Path(__file__).resolve().parent.parent
    result = subprocess.run([sys.executable, "-c", code], cwd=root, capture_output=True, text=True, timeout=300, check=False)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def _write(folder: Path, files: dict[str, str]) -> list[Path]:
    for name, text in files.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(text)
    return sorted(folder.rglob("*.py"))


MIXINS = {
    "pkg/__init__.py": "",
    "pkg/hub.py": "class PushMixin:\n    def push(self):\n        return 1\n",
    "pkg/utils/__init__.py": "from ..hub import PushMixin\n",
    "pkg/processing.py": (
        "from .utils import PushMixin\n\n\nclass ProcessorBase(PushMixin):\n    pass\n\n\n"
        "ProcessorBase.push_again = ProcessorBase.push\n"
    ),
    "pkg/layers.py": "import torch.nn as nn\n\n\nclass Base(nn.Module):\n    pass\n",
    "pkg/mid.py": "from .layers import Base as Renamed\n\n\nclass Mid(Renamed):\n    pass\n",
    "pkg/model.py": (
        "from .processing import ProcessorBase\nfrom .mid import Mid\nimport torch.nn as nn\n\n\n"
        "class Processor(ProcessorBase):\n    def __init__(self, size=3):\n        self.size = size\n\n\n"
        "class Net(Mid):\n    def __init__(self):\n        super().__init__()\n        self.fc = nn.Linear(4, 4)\n\n"
        "    def forward(self, x):\n        return self.fc(x)\n"
    ),
}


def _model_context(tmp_path, fixture: dict[str, str]):
    """The project of a written fixture, and the context of its pkg/model.py."""
    project = Project.for_files(_write(tmp_path, fixture))
    return project, project.context(str(tmp_path / "pkg" / "model.py"))


def test_bases_followed_through_summaries_tell_modules_from_other_classes(tmp_path):
    project, ctx = _model_context(tmp_path, MIXINS)
    # through a package's re-export and a module-level attribute assignment: no layer
    assert project.classes.may_be_module(ctx, ["ProcessorBase"]) is False
    # through a renamed import into a second file: nn.Module at the end of the chain
    assert project.classes.may_be_module(ctx, ["Mid"]) is True
    assert project.classes.may_be_module(ctx, ["nn.Module"]) is True
    assert project.classes.may_be_module(ctx, ["object"]) is False
    assert project.classes.may_be_module(ctx, [None]) is True  # a base that is a call: cannot tell


def _graphs_counting_parses(tmp_path, files, monkeypatch) -> tuple[list, list[str]]:
    """The graphs of pkg/model.py, and the names of the files parsed with libcst to build them."""
    parsed: list[str] = []
    real = SourceFile.parse.__func__

    def counting(cls, path, text, tree=None):
        parsed.append(Path(path).name)
        return real(cls, path, text, tree)

    monkeypatch.setattr(SourceFile, "parse", classmethod(counting))
    project = Project.for_files(files)
    model = tmp_path / "pkg" / "model.py"
    source = SourceFile.parse(str(model), model.read_text())
    return build_graphs(source, project), parsed


def test_a_class_that_is_no_module_costs_no_parse_of_its_base_files(tmp_path, monkeypatch):
    graphs, parsed = _graphs_counting_parses(tmp_path, _write(tmp_path, MIXINS), monkeypatch)
    assert [g.name for g in graphs] == ["Net"]
    assert "processing.py" not in parsed and "hub.py" not in parsed
    assert {"mid.py", "layers.py"} <= set(parsed)


def test_unresolvable_or_aliased_bases_are_left_to_the_interpreter(tmp_path):
    files = _write(tmp_path, {
        "a.py": "from somewhere_else import *\nimport torch.nn as nn\nAlias = nn.Module\n\n\nclass X(Alias):\n    pass\n",
    })
    project = Project.for_files(files)
    ctx = project.context(str(tmp_path / "a.py"))
    assert project.classes.may_be_module(ctx, ["Alias"]) is True  # assigned in code
    assert project.classes.may_be_module(ctx, ["Unknown"]) is True  # maybe from the star import
    assert project.classes.may_be_module(ctx, ["numpy.ndarray"]) is True  # undefined head: left to it


def _chain_of_bases(length: int) -> dict[str, str]:
    """pkg/step0.py .. pkg/step{length-1}.py, each class built on the one before it, the
    first on a plain mixin reached through a package re-export and an alias, as
    transformers' processors and tokenizers are; pkg/model.py holds one of each kind."""
    files = {
        "pkg/__init__.py": "",
        "pkg/utils/__init__.py": "from .hub import PushMixin\n",
        "pkg/utils/hub.py": "class PushMixin:\n    pass\n",
        "pkg/step0.py": "from .utils import PushMixin\n\n\nclass Backend(PushMixin):\n    pass\n\n\nStep0 = Backend\n",
    }
    for i in range(1, length):
        files[f"pkg/step{i}.py"] = f"from .step{i - 1} import Step{i - 1}\n\n\nclass Step{i}(Step{i - 1}):\n    pass\n"
    files["pkg/model.py"] = (
        f"from .step{length - 1} import Step{length - 1}\nimport torch.nn as nn\n\n\n"
        f"class Processor(Step{length - 1}):\n    def __init__(self, size=3):\n        self.size = size\n\n\n"
        "Layer = nn.Linear\n\n\n"
        "class Net(nn.Module):\n    def __init__(self):\n        super().__init__()\n        self.fc = Layer(4, 4)\n\n"
        "    def forward(self, x):\n        return self.fc(x)\n"
    )
    return files


def test_long_chains_of_bases_and_aliases_are_followed_through_summaries(tmp_path, monkeypatch):
    project, ctx = _model_context(tmp_path, _chain_of_bases(10))
    assert project.classes.may_be_module(ctx, ["Processor"]) is False  # ten files and an alias away
    assert project.classes.may_be_module(ctx, ["Layer"]) is True  # an alias of a torch layer
    graphs, parsed = _graphs_counting_parses(tmp_path, sorted(tmp_path.rglob("*.py")), monkeypatch)
    assert [g.name for g in graphs] == ["Net"]
    assert not [name for name in parsed if name.startswith("step") or name == "hub.py"]


def test_an_import_cycle_between_bases_is_left_to_the_interpreter(tmp_path):
    files = _write(tmp_path, {
        "pkg/__init__.py": "",
        "pkg/a.py": "from .b import B\n\n\nclass A(B):\n    pass\n",
        "pkg/b.py": "from .a import A\n\n\nclass B(A):\n    pass\n",
        "pkg/model.py": "from .a import A\nSame = Same\n",
    })
    project = Project.for_files(files)
    ctx = project.context(str(tmp_path / "pkg" / "model.py"))
    assert project.classes.may_be_module(ctx, ["A"]) is True  # cannot tell: the interpreter decides
    assert project.classes.may_be_module(ctx, ["Same"]) is True


def test_a_file_whose_classes_are_no_modules_is_not_parsed_but_keeps_its_dependencies(tmp_path, cli):
    """No rule concerns pkg/processing.py (no loss, no backward, no module class): the
    engine leaves it to CPython's parser alone, and its cache entry still depends on the
    files its base classes come from."""
    _write(tmp_path, MIXINS)
    done = cli("check", "--format", "json", "pkg", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["errors"] == [] and [m["class"] for m in report["models"]] == ["Net"]
    # the base becomes a module in the other file: the cached result must not survive
    (tmp_path / "pkg" / "hub.py").write_text(
        "import torch.nn as nn\n\n\nclass PushMixin(nn.Module):\n"
        "    def forward(self, x):\n        return x\n"
    )
    again = json.loads(cli("check", "--format", "json", "pkg", cwd=tmp_path).stdout)
    assert "ProcessorBase" in {m["class"] for m in again["models"]}


PRETRAINED = {
    "pkg/__init__.py": "",
    "pkg/utils.py": (
        "import torch.nn as nn\n\n\nclass PreTrained(nn.Module):\n"
        "    def __init__(self, config, *inputs):\n        super().__init__()\n        self.config = config\n"
    ),
    "pkg/model.py": (
        "import torch.nn as nn\nfrom .utils import PreTrained\n\n\n"
        "class HeadBase(PreTrained):\n    base_model_prefix = 'model'\n\n\n"
        "class Head(HeadBase):\n    def forward(self, x):\n        return x\n\n\n"
        "class Small(nn.Module):\n    def __init__(self, width=4):\n        super().__init__()\n"
        "        self.fc = nn.Linear(width, width)\n\n    def forward(self, x):\n        return self.fc(x)\n"
    ),
}


def test_an_inherited_init_that_needs_arguments_is_told_from_summaries(tmp_path):
    project, ctx = _model_context(tmp_path, PRETRAINED)
    classes = project.classes
    assert classes.inherited_init_needs_arguments(ctx, ["PreTrained"]) is True  # through an import
    assert classes.inherited_init_needs_arguments(ctx, ["HeadBase"]) is True  # two steps
    assert classes.inherited_init_needs_arguments(ctx, ["Small"]) is False  # has defaults
    assert classes.inherited_init_needs_arguments(ctx, ["nn.Module"]) is False
    assert classes.inherited_init_needs_arguments(ctx, ["PreTrained", "Small"]) is True  # next in the MRO
    assert classes.inherited_init_needs_arguments(ctx, ["HeadBase", "Small"]) is False  # past two bases: left to the interpreter
    # the whole file then needs no parse of utils.py with libcst to know Head builds no model
    (tmp_path / "pkg" / "utils.py").write_text(PRETRAINED["pkg/utils.py"].replace("config, *inputs", "config=None"))
    fresh = Project.for_files(project.files)
    assert fresh.classes.inherited_init_needs_arguments(fresh.context(str(tmp_path / "pkg" / "model.py")), ["HeadBase"]) is False


def test_a_dataclass_or_assigned_init_is_left_to_the_interpreter(tmp_path):
    files = _write(tmp_path, {
        "a.py": (
            "import dataclasses\nimport torch.nn as nn\n\n\n@dataclasses.dataclass(eq=False)\n"
            "class Made(nn.Module):\n    width: int\n\n\n"
            "def _init(self, width):\n    pass\n\n\nclass Assigned(nn.Module):\n    __init__ = _init\n"
        ),
    })
    project = Project.for_files(files)
    ctx = project.context(str(tmp_path / "a.py"))
    assert project.classes.inherited_init_needs_arguments(ctx, ["Made"]) is False
    assert project.classes.inherited_init_needs_arguments(ctx, ["Assigned"]) is False


def test_classes_that_inherit_an_init_with_arguments_cost_no_parse_of_the_base_file(tmp_path, monkeypatch, cli):
    graphs, parsed = _graphs_counting_parses(tmp_path, _write(tmp_path, PRETRAINED), monkeypatch)
    assert [g.name for g in graphs] == ["Small"]
    assert "utils.py" not in parsed
    # the result still depends on the base's file: give its __init__ a default and Head is a model
    done = cli("check", "--format", "json", "pkg", cwd=tmp_path)
    assert sorted(m["class"] for m in json.loads(done.stdout)["models"]) == ["Small"]
    (tmp_path / "pkg" / "utils.py").write_text(PRETRAINED["pkg/utils.py"].replace("config, *inputs", "config=None"))
    again = json.loads(cli("check", "--format", "json", "pkg", cwd=tmp_path).stdout)
    assert "Head" in {m["class"] for m in again["models"]}
