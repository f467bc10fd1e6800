"""Confirm the labels of tests/corpus/params by a real pass on CPU.

    python scripts/verify_params_corpus.py [FILE ...]

Each corpus file defines ``make()`` returning ``(model, example_input)`` (and optionally
``optimiser(model)``). The optimiser is built first, as a training script does; then one
forward pass, a squared-output loss, backward and one step. A file labelled GL701/GL702 is
confirmed when the attribute named on the labelled line holds tensors that are not in
``model.parameters()`` and are exactly unchanged by the step; a GL703 label when the loss
reaches a leaf with requires_grad that the optimiser does not hold. A clean file is confirmed
when every leaf the loss reaches is one the optimiser holds.

A file that defines ``train(model, example)`` (GL704 and its near-misses: the optimisers are
built and stepped as the source does) is run instead: one iteration of its own loop, with a
hook on every parameter recording whether backward gave it a nonzero gradient. A GL704 label
is confirmed when some parameter got a nonzero gradient and is exactly unchanged after the
step; a clean file when every parameter that got one moved.
"""

from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from gradlint.probe.measure import (
    attribute_paths,
    call_model,
    probe_loss,
    reached_leaves,
)

CORPUS = ROOT / "tests" / "corpus" / "params"
EXPECT = re.compile(r"#\s*expect:\s*(GL\d{3})")
STORED = re.compile(r"self\.(\w+)\s*[=\[]")


def labels(path: Path) -> list[tuple[int, str, str | None]]:
    """(line, code, attribute stored on that line)."""
    found = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        match = EXPECT.search(line)
        if match:
            stored = STORED.search(line)
            found.append((number, match.group(1), stored.group(1) if stored else None))
    return found


def _load(path: Path):
    spec = importlib.util.spec_from_file_location(f"params_corpus_{path.stem}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _held_by(model, attr: str) -> list[tuple[str, torch.Tensor]]:
    """Float tensors whose attribute path has ``attr`` as one of its parts."""
    tensors = {}
    for value in _all_tensors(model):
        tensors[id(value)] = value
    paths = attribute_paths(model)
    return [
        (path, tensors[key])
        for key, path in paths.items()
        if key in tensors and attr in re.split(r"[.\[\]']+", path)
    ]


def _all_tensors(value, seen=None, depth=0):
    seen = set() if seen is None else seen
    if id(value) in seen or depth > 10:
        return
    seen.add(id(value))
    if isinstance(value, torch.Tensor):
        if value.is_floating_point():
            yield value
    elif isinstance(value, torch.nn.Module):
        for inner in vars(value).values():
            yield from _all_tensors(inner, seen, depth + 1)
    elif isinstance(value, (list, tuple)):
        for inner in value:
            yield from _all_tensors(inner, seen, depth + 1)
    elif isinstance(value, dict):
        for inner in value.values():
            yield from _all_tensors(inner, seen, depth + 1)


def verify_training(module, model, example, expected) -> tuple[bool, str]:
    """Run the file's own training iteration. Every backward is watched: each leaf it reaches
    that gets a nonzero gradient is copied then (before any step could move it), wherever it
    lives (the model, a margin head or a loss module built in ``train``)."""
    first_seen: dict[int, tuple[torch.Tensor, torch.Tensor]] = {}
    backward = torch.Tensor.backward

    def watched(self, *args, **kwargs):
        backward(self, *args, **kwargs)
        for leaf in reached_leaves(self):
            if leaf.grad is not None and bool(leaf.grad.ne(0).any()):
                first_seen.setdefault(id(leaf), (leaf, leaf.detach().clone()))

    torch.Tensor.backward = watched
    try:
        model.train()
        module.train(model, example)
    finally:
        torch.Tensor.backward = backward
    paths = attribute_paths(model)
    unchanged = sorted(
        paths.get(key, "<outside the model>")
        for key, (leaf, copy) in first_seen.items()
        if torch.equal(leaf.detach(), copy)
    )
    detail = f"{len(first_seen)} leaf(s) got a gradient, unchanged: {unchanged or 'none'}"
    if any(code == "GL704" for _, code, _ in expected):
        return bool(unchanged), "GL704: " + detail
    return not unchanged, detail


def verify(path: Path) -> tuple[bool, str]:
    torch.manual_seed(0)
    module = _load(path)
    model, example = module.make()
    if hasattr(module, "train"):
        return verify_training(module, model, example, labels(path))
    model.train()
    if hasattr(module, "optimiser"):
        optimizer = module.optimiser(model)
    elif list(model.parameters()):
        optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    else:
        optimizer = None  # "optimizer got an empty parameter list": the symptom itself
    groups = optimizer.param_groups if optimizer is not None else []
    held = {id(p) for group in groups for p in group["params"]}
    expected = labels(path)
    watched = {}
    for _, code, attr in expected:
        if code in ("GL701", "GL702") and attr:
            watched[attr] = [
                (name, t, t.detach().clone())
                for name, t in _held_by(model, attr)
                # a module's buffers (BatchNorm running statistics) move in forward
                if code == "GL702" or isinstance(t, torch.nn.Parameter)
            ]
    model.zero_grad()
    loss = probe_loss(call_model(model, example), "mse")
    loss.backward()
    if optimizer is not None:
        optimizer.step()
    outside = [t for t in reached_leaves(loss) if id(t) not in held]
    registered = {id(p) for p in model.parameters()}
    if not expected:
        return (not outside, f"{len(outside)} reached leaf(s) outside the optimiser")
    notes = []
    for _, code, attr in expected:
        if code == "GL703":
            ok = bool(outside)
            notes.append(f"GL703: {len(outside)} leaf(s) made outside the optimiser")
        else:
            tensors = watched.get(attr or "", [])
            ok = bool(tensors) and all(
                id(t) not in registered and torch.equal(t.detach(), before)
                for _, t, before in tensors
            )
            notes.append(f"{code} self.{attr}: {len(tensors)} tensor(s) unregistered, unchanged")
        if not ok:
            return False, "; ".join(notes)
    return True, "; ".join(notes)


def main(argv: list[str]) -> int:
    files = [Path(a) for a in argv] or sorted(CORPUS.glob("*.py"))
    failed = 0
    for path in files:
        ok, detail = verify(path)
        failed += not ok
        kind = "positive" if labels(path) else "clean"
        print(f"{'ok ' if ok else 'BAD'} {kind:8} {path.name}: {detail}")
    print(f"{len(files) - failed}/{len(files)} confirmed")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
