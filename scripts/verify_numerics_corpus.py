"""Confirm the labels of tests/corpus/numerics by running each case on the CPU.

    python scripts/verify_numerics_corpus.py [FILE ...]

Mixed precision (``amp_*`` and their near-misses). The file's own ``train(model, batches,
optimizer)`` runs twice on fresh copies from ``make()``, with CUDA's GradScaler and autocast
replaced by CPU ones: run A as written, run B with the loss scale forced to 1. A GradScaler
that scales by S shows as a ratio of S between the runs:
- GL801 is confirmed when the norm the clip saw in A is >= 1000x the one in B (and a clean
  file, with unscale_ first, when the two agree);
- GL803 when the parameters moved >= 1000x less (scaler.step after a plain backward) or more
  (optimizer.step after a scaled one) in A than in B, or when A raises "step() has already
  been called since the last update()";
- GL802 when the backward runs through float16 (autocast's float16 on the CPU, or a model
  cast by .half()) with no loss scaling anywhere (no scaler built): the arithmetic of what
  then underflows is in the corpus README.
Recurrences (``rnn_*``): GL607 is confirmed when the loss or a parameter turns NaN/inf within
the steps ``make()`` gives at the file's rate, or the loss of the last ten steps averages more
than twice the first (which is the uniform guess's, ln 50): the update threw the model off; a
clean file when neither happens.
Graph cuts (``cut_*``): one forward, loss = mean square of the output, backward; GL502 is
confirmed when the parameters of the attribute the message names (``LOST``) get no gradient
while they require one; a clean file when the parameters without a gradient are exactly those
of its ``NOT_TRAINED`` attributes.
"""

from __future__ import annotations

import contextlib
import importlib.util
import math
import re
import sys
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "tests" / "corpus" / "numerics"
EXPECT = re.compile(r"#\s*expect:\s*(GL\d{3})")
RATIO = 1000.0
DIVERGED = 2.0  # a recurrence whose loss ends above twice the first (the uniform guess's) diverged


def labels(path: Path) -> list[str]:
    return [m.group(1) for line in path.read_text(encoding="utf-8").splitlines() if (m := EXPECT.search(line))]


class Record:
    """What one run saw: clip norms, scalers built, float16 on the backward's path."""

    def __init__(self) -> None:
        self.clip_norms: list[float] = []
        self.scalers: list = []
        self.float16 = False
        self.error: str | None = None


def _patched(record: Record, forced_scale: float | None):
    original_scaler = torch.amp.GradScaler

    class CpuScaler(original_scaler):
        def __init__(self, *args, **kwargs):
            if args and isinstance(args[0], str):
                args = args[1:]
            kwargs.pop("device", None)
            init = kwargs.pop("init_scale", args[0] if args else 2.0**16)
            if forced_scale is not None:
                init = forced_scale
                kwargs["growth_interval"] = 10**9
            super().__init__("cpu", init_scale=init, **kwargs)
            record.scalers.append(self)

    original_autocast = torch.amp.autocast

    class CpuAutocast(original_autocast):
        def __init__(self, device_type="cuda", dtype=None, enabled=True, cache_enabled=None):
            wanted = dtype if dtype is not None else (torch.bfloat16 if str(device_type) == "cpu" else torch.float16)
            super().__init__("cpu", dtype=wanted, enabled=enabled)

    def cuda_autocast(enabled=True, dtype=torch.float16, cache_enabled=True):
        return CpuAutocast("cuda", dtype=dtype, enabled=enabled)

    original_clip = torch.nn.utils.clip_grad_norm_

    def clip(parameters, max_norm, *args, **kwargs):
        norm = original_clip(parameters, max_norm, *args, **kwargs)
        record.clip_norms.append(float(norm))
        return norm

    original_backward = torch.Tensor.backward

    def backward(self, *args, **kwargs):
        record.float16 |= self.grad_fn is not None and _float16_path(self)
        return original_backward(self, *args, **kwargs)

    stack = contextlib.ExitStack()
    for owner, name, value in (
        (torch.amp, "GradScaler", CpuScaler),
        (torch, "GradScaler", CpuScaler),
        (torch.cuda.amp, "GradScaler", CpuScaler),
        (torch.amp, "autocast", CpuAutocast),
        (torch, "autocast", CpuAutocast),
        (torch.cuda.amp, "autocast", cuda_autocast),
        (torch.nn.utils, "clip_grad_norm_", clip),
        (torch.Tensor, "backward", backward),
    ):
        stack.enter_context(_setattr(owner, name, value))
    return stack


@contextlib.contextmanager
def _setattr(owner, name, value):
    old = getattr(owner, name)
    setattr(owner, name, value)
    try:
        yield
    finally:
        setattr(owner, name, old)


def _float16_path(loss: torch.Tensor, limit: int = 2000) -> bool:
    """Some node of the backward graph runs on float16 tensors."""
    seen, stack = set(), [loss.grad_fn]
    while stack and len(seen) < limit:
        fn = stack.pop()
        if fn is None or id(fn) in seen:
            continue
        seen.add(id(fn))
        variable = getattr(fn, "variable", None)
        if variable is not None and variable.dtype == torch.float16:
            return True
        for attr in dir(fn):
            if attr.startswith("_saved_") and not attr.endswith("_raw"):
                with contextlib.suppress(Exception):
                    value = getattr(fn, attr)
                    if isinstance(value, torch.Tensor) and value.dtype == torch.float16:
                        return True
        stack.extend(next_fn for next_fn, _ in fn.next_functions)
    return False


def _load(path: Path):
    spec = importlib.util.spec_from_file_location(f"numerics_corpus_{path.stem}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _amp_run(path: Path, forced_scale: float | None) -> tuple[Record, float]:
    record = Record()
    with _patched(record, forced_scale):
        module = _load(path)
        model, batches, optimizer = module.make()
        before = [p.detach().clone() for p in model.parameters()]
        try:
            module.train(model, batches, optimizer)
        except (RuntimeError, AssertionError) as error:  # GradScaler's own protocol checks
            record.error = str(error)
    moved = sum(float((p.detach().float() - b.float()).abs().sum()) for p, b in zip(model.parameters(), before))
    return record, moved


def verify_amp(path: Path, expected: list[str]) -> tuple[bool, str]:
    a, moved_a = _amp_run(path, None)
    b, moved_b = _amp_run(path, 1.0)
    clip = (a.clip_norms[0] / b.clip_norms[0]) if a.clip_norms and b.clip_norms and b.clip_norms[0] else None
    moved = moved_a / moved_b if moved_b else None
    detail = (
        f"clip norm A/B {clip if clip is None else f'{clip:.4g}'}, parameter move A/B "
        f"{moved if moved is None else f'{moved:.4g}'}, float16 backward {a.float16}, "
        f"scalers {len(a.scalers)}, error {a.error!r}"
    )
    if "GL801" in expected:
        return clip is not None and clip >= RATIO, detail
    if "GL803" in expected:
        stale = a.error is not None and ("since the last update" in a.error or "scaler.scale" in a.error)
        off = moved is not None and (moved >= RATIO or moved <= 1 / RATIO)
        return stale or off, detail
    if "GL802" in expected:
        return a.float16 and not a.scalers, detail
    clean = a.error is None and (clip is None or abs(clip - 1) < 1e-3)
    clean = clean and (moved is None or 1 / 10 <= moved <= 10)
    return clean and not (a.float16 and not a.scalers), detail


def verify_recurrence(path: Path, expected: list[str]) -> tuple[bool, str]:
    module = _load(path)
    model, batches, optimizer = module.make()
    losses = module.train(model, batches, optimizer)
    bad = next((i for i, loss in enumerate(losses) if not math.isfinite(loss)), None)
    weights = all(bool(torch.isfinite(p).all()) for p in model.parameters())
    tail = losses[-10:]
    worse = bad is None and sum(tail) / len(tail) > DIVERGED * losses[0]
    diverged = bad is not None or not weights or worse
    detail = (
        f"{len(losses)} steps, first non-finite loss at {bad}, finite weights {weights}, "
        f"loss {losses[0]:.4g} -> {sum(tail) / len(tail):.4g}"
    )
    return diverged == ("GL607" in expected), detail


def verify_cut(path: Path, expected: list[str]) -> tuple[bool, str]:
    module = _load(path)
    model, example = module.make()
    model.train()
    inputs = example if isinstance(example, tuple) else (example,)
    output = model(*inputs)
    if isinstance(output, (tuple, list)):
        output = output[0]
    output.float().pow(2).mean().backward()
    without = {
        name.split(".")[0]
        for name, p in model.named_parameters()
        if p.requires_grad and (p.grad is None or not bool(p.grad.ne(0).any()))
    }
    frozen = {name.split(".")[0] for name, p in model.named_parameters() if not p.requires_grad}
    detail = f"trainable without gradient: {sorted(without) or 'none'}; frozen: {sorted(frozen) or 'none'}"
    if "GL502" in expected:
        return bool(without) and without == set(module.LOST), detail
    return without <= set(getattr(module, "NOT_TRAINED", ())), detail


def verify(path: Path) -> tuple[bool, str]:
    torch.manual_seed(0)
    expected = labels(path)
    family = path.stem.replace("clean_", "").split("_")[0]
    if family == "rnn":
        return verify_recurrence(path, expected)
    if family == "cut":
        return verify_cut(path, expected)
    return verify_amp(path, expected)


def main(argv: list[str]) -> int:
    paths = [Path(a) for a in argv] or sorted(CORPUS.glob("*.py"))
    failed = 0
    for path in paths:
        ok, detail = verify(path)
        failed += not ok
        print(f"{'ok  ' if ok else 'FAIL'} {path.name}: {labels(path) or 'clean'}: {detail}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
