"""Ground truth for the GL5 labels of tests/corpus/code, measured with torch.

    python scripts/verify_corpus_gradients.py [--write] [--real]

Every corpus file that defines ``build()`` (returning a model and a tuple of example inputs) is
imported, run forward once in train mode, and backpropagated from the sum over every float tensor
it returns of mean(t ** 2) (all outputs, not only the first: a graph cut is about every path to
the output). A submodule or parameter of the model (first component of its name in
``named_parameters()``) is dead when each of its parameters that requires grad got no gradient or
an all-zero one; frozen ones (``requires_grad=False``) are listed apart.

The measured dead attributes are compared with the attributes GL5 findings name in that file.
``--write`` records the result in tests/corpus/code_gradients.json, which the test suite checks
the labels against without needing torch. ``--real`` does the same for tests/corpus/code_real
(recorded in tests/corpus/code_real_gradients.json).
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
import types
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "tests" / "corpus" / "code"
RECORD = ROOT / "tests" / "corpus" / "code_gradients.json"
REAL = ROOT / "tests" / "corpus" / "code_real"
REAL_RECORD = ROOT / "tests" / "corpus" / "code_real_gradients.json"


class _Anything(types.ModuleType):
    """Stands in for a library the corpus imports but this machine lacks (torchvision, gymnasium)."""

    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)
        return _Anything(f"{self.__name__}.{name}")

    def __call__(self, *args, **kwargs):
        return _Anything(self.__name__ + "()")

    def __mro_entries__(self, bases):
        return (object,)


def load(path: Path):
    for _ in range(10):
        spec = importlib.util.spec_from_file_location(f"corpus_{path.stem}", path)
        module = importlib.util.module_from_spec(spec)
        try:
            spec.loader.exec_module(module)
            return module
        except ModuleNotFoundError as exc:
            missing = exc.name
            parts = missing.split(".")
            for i in range(1, len(parts) + 1):
                sys.modules.setdefault(".".join(parts[:i]), _Anything(".".join(parts[:i])))
    raise RuntimeError(f"{path.name}: cannot import")


def tensors(value):
    import torch

    if isinstance(value, torch.Tensor):
        if value.is_floating_point() and value.requires_grad:
            yield value
    elif isinstance(value, (tuple, list)):
        for item in value:
            yield from tensors(item)
    elif isinstance(value, dict):
        for item in value.values():
            yield from tensors(item)


def measure(path: Path) -> dict:
    import torch

    torch.manual_seed(0)
    torch.set_grad_enabled(True)  # a model may switch grad mode off for its caller
    module = load(path)
    model, inputs = module.build()
    model.train()
    before = {n: (id(p), p.detach().clone()) for n, p in model.named_parameters()}
    outputs = list(tensors(model(*inputs)))
    # parameters forward itself overwrites (an EMA codebook) are trained outside autograd
    updated = {
        n for n, p in model.named_parameters()
        if n in before and (id(p) != before[n][0] or not torch.equal(p.detach(), before[n][1]))
    }
    if outputs:
        sum((t.float() ** 2).mean() for t in outputs).backward()
    groups: dict[str, list] = {}
    for name, param in model.named_parameters():
        if name not in updated:
            groups.setdefault(name.split(".")[0], []).append(param)
    dead, frozen = [], []
    for attr, params in groups.items():
        trainable = [p for p in params if p.requires_grad]
        if not trainable:
            frozen.append(attr)
        elif all(p.grad is None or not torch.any(p.grad != 0) for p in trainable):
            dead.append(attr)
    return {"class": type(model).__name__, "dead": sorted(dead), "frozen": sorted(frozen)}


def reported(corpus: Path = CORPUS) -> dict[str, set[str]]:
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "gradlint",
            "check",
            "--format",
            "json",
            "--exit-zero",
            "--select",
            "GL5",
            str(corpus),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    named: dict[str, set[str]] = {}
    for finding in json.loads(proc.stdout)["findings"]:
        attrs = {p.removeprefix("self.") for p in finding.get("extra", {}).get("parameters", [])}
        named.setdefault(Path(finding["path"]).name, set()).update(attrs)
    return named


def main(argv: list[str]) -> int:
    corpus, record_file = (REAL, REAL_RECORD) if "--real" in argv else (CORPUS, RECORD)
    sys.path.insert(0, str(corpus))  # the corpus's own packages import each other
    truth = {}
    for path in sorted(corpus.rglob("*.py")):
        if "def build(" in path.read_text(encoding="utf-8"):
            truth[path.name] = measure(path)
    named = reported(corpus)
    agree = 0
    for name, record in truth.items():
        static = sorted(named.get(name, set()))
        match = static == record["dead"]
        agree += match
        print(
            f"{'ok ' if match else 'DIFF'} {name:34} {record['class']:22} measured dead={record['dead']} gradlint={static}"
        )
    print(
        f"\n{agree}/{len(truth)} models: GL5 names exactly the parameters torch finds without gradient"
    )
    if "--write" in argv:
        record_file.write_text(json.dumps(truth, indent=2, sort_keys=True) + "\n", encoding="utf-8")
        print(f"recorded in {record_file.relative_to(ROOT)}")
    return 0 if agree == len(truth) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
