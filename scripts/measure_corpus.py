"""Measured ground truth for the model corpus: one forward/backward pass per model and seed.

    python scripts/measure_corpus.py            # rewrite tests/corpus/models/ground_truth.json
    python scripts/measure_corpus.py --check    # exit 1 when the file is out of date
    python scripts/measure_corpus.py FILE...     # measure a few files and print their verdicts

The quantity is the gradient ratio that the static estimate and the probe share: train mode, the
example input build() returns (else standard normal of the module's INPUT_SHAPE), loss =
mean of the squared float output (first element of a tuple/list), weights = parameters with
two or more dimensions in named_parameters() order, log10 of the RMS gradient of the first
weight with a nonzero gradient over that of the last weight.

Torch is imported only where a model is measured: the label rules need none.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import math
import statistics
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "tests" / "corpus" / "models"
GROUND_TRUTH = CORPUS / "ground_truth.json"
SEEDS = (0, 1, 2)
LABEL_PREFIX = "# expect-model:"
LABEL_CODES = ("GL101", "GL201", "GL202", "GL203", "GL301")
CHAIN_CODES = ("GL101", "GL202", "GL203", "GL301")
THRESHOLD = 3.0  # log10 of the default min/max gradient ratio (1e-3, 1e3)


def corpus_files(folder: Path = CORPUS) -> list[Path]:
    """The labelled model files (top level of the corpus; blocks/ holds shared parts)."""
    return sorted(p for p in folder.glob("*.py") if not p.name.startswith("_"))


def read_label(path: Path) -> set[str]:
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith(LABEL_PREFIX):
            value = line[len(LABEL_PREFIX):].strip()
            if value == "none":
                return set()
            return {code.strip() for code in value.split(",") if code.strip()}
    raise ValueError(f"{path.name}: no '{LABEL_PREFIX}' header line")


def load_module(path: Path):
    """Import a corpus file by path; its folder goes on sys.path so ``blocks`` resolves."""
    folder = str(path.parent)
    if folder not in sys.path:
        sys.path.insert(0, folder)
    name = f"corpus_model_{path.stem}"
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def build(module, seed: int):
    """Seed, then build(): the model and its input."""
    import torch

    torch.manual_seed(seed)
    built = module.build()
    if isinstance(built, tuple):
        model, example = built
    else:
        model = built
        example = torch.randn(*module.INPUT_SHAPE)
    return model, example


def _rms(tensor) -> float:
    return float(tensor.detach().double().pow(2).mean().sqrt())


def _rows_identical(tensor) -> bool:
    rows = tensor.detach().reshape(tensor.shape[0], -1).double()
    if rows.shape[0] < 2:
        return False
    scale = rows.abs().max().item() or 1.0
    return bool((rows - rows[0]).abs().max().item() <= 1e-6 * scale)


def measure(model, example) -> dict:
    """One forward/backward pass by the shared definition of the gradient ratio."""
    model.train()
    model.zero_grad(set_to_none=True)
    output = model(example)
    if isinstance(output, (tuple, list)):
        output = output[0]
    loss = output.float().pow(2).mean()
    loss.backward()
    loss_finite = bool(loss.isfinite().item())

    params = list(model.named_parameters())
    weights = [(name, p) for name, p in params if p.dim() >= 2]
    weight_rms = {name: (None if p.grad is None else _rms(p.grad)) for name, p in weights}
    dead = [name for name, p in params if p.requires_grad and (p.grad is None or not p.grad.any())]
    frozen = [name for name, p in params if not p.requires_grad]
    # A weight whose rows and whose gradient rows are all equal keeps its units identical.
    symmetric = [
        name
        for name, p in weights
        if p.grad is not None and p.grad.any() and _rows_identical(p) and _rows_identical(p.grad)
    ]

    ratio = None
    if weights:
        last = weight_rms[weights[-1][0]]
        first = next((weight_rms[n] for n, _ in weights if weight_rms[n]), None)
        if last and first and math.isfinite(first) and math.isfinite(last):
            ratio = math.log10(first / last)
    return {
        "log10_grad_ratio": ratio,
        "dead_params": dead,
        "frozen_params": frozen,
        "symmetric_weights": symmetric,
        "weight_rms_grad": weight_rms,
        "loss_finite": loss_finite,
    }


def he_init(model, zero_bias: bool = True) -> None:
    """The counterfactual that tells an init problem from a depth problem: He (kaiming
    normal, fan-in, ReLU gain) on every Linear/Conv weight and zero biases, as torchvision does.
    With ``zero_bias=False`` the biases keep their init; for SiLU stacks that choice matters."""
    import torch

    for m in model.modules():
        if isinstance(m, (torch.nn.Linear, torch.nn.modules.conv._ConvNd)):
            torch.nn.init.kaiming_normal_(m.weight, nonlinearity="relu")
            if zero_bias and m.bias is not None:
                torch.nn.init.zeros_(m.bias)


def _round(value):
    if value is None:
        return None
    if not math.isfinite(value):
        return None
    return float(f"{value:.4g}")


def measure_file(path: Path, seeds=SEEDS) -> dict:
    module = load_module(path)
    per_seed = {}
    with_he = {True: [], False: []}
    model_class = None
    for seed in seeds:
        model, example = build(module, seed)
        model_class = type(model).__name__
        per_seed[str(seed)] = measure(model, example)
        for zero_bias, ratios in with_he.items():
            model, example = build(module, seed)
            he_init(model, zero_bias)
            ratios.append(measure(model, example)["log10_grad_ratio"])
    median = _median([r["log10_grad_ratio"] for r in per_seed.values()])
    first = per_seed[str(seeds[0])]
    return {
        "label": sorted(read_label(path)),
        "class": model_class,
        "log10_grad_ratio": _round(median),
        "log10_grad_ratio_with_he_init": _round(_median(with_he[True])),
        "log10_grad_ratio_with_he_weights": _round(_median(with_he[False])),
        "log10_grad_ratio_by_seed": {s: _round(r["log10_grad_ratio"]) for s, r in per_seed.items()},
        "dead_params": sorted(set().union(*(r["dead_params"] for r in per_seed.values()))),
        "frozen_params": first["frozen_params"],
        "symmetric_weights": sorted(
            set.intersection(*(set(r["symmetric_weights"]) for r in per_seed.values()))
        ),
        "weight_rms_grad": {k: _round(v) for k, v in first["weight_rms_grad"].items()},
        "loss_finite": all(r["loss_finite"] for r in per_seed.values()),
    }


def _median(values):
    return None if any(v is None for v in values) else statistics.median(values)


def measure_corpus(folder: Path = CORPUS) -> dict:
    import torch

    torch.set_num_threads(1)
    return {path.name: measure_file(path) for path in corpus_files(folder)}


def _beyond(value) -> bool:
    return value is not None and abs(value) > THRESHOLD


def label_problems(record: dict) -> list[str]:
    """Why a file's label disagrees with its measurement (empty when it agrees).

    The He counterfactual separates causes: GL202/GL203 are init problems, so He init
    must bring the ratio within the threshold; GL301 is one that He init does not fix.
    """
    label = set(record["label"])
    ratio = record["log10_grad_ratio"]
    with_he = record["log10_grad_ratio_with_he_init"]
    problems = [f"unknown label code {code}" for code in sorted(label - set(LABEL_CODES))]
    if not record["loss_finite"]:
        problems.append("loss is not finite")
    for code in sorted(label & set(CHAIN_CODES)):
        if not _beyond(ratio):
            problems.append(f"{code}: measured log10 ratio {ratio} is not beyond ±{THRESHOLD:g}")
    for code in sorted(label & {"GL202", "GL203"}):
        if _beyond(with_he) or with_he is None:
            problems.append(f"{code}: He init does not fix it (log10 ratio {with_he} with He init)")
    if "GL301" in label and not _beyond(with_he):
        problems.append(f"GL301: He init alone fixes it (log10 ratio {with_he}); an init code fits")
    if "GL201" in label and not (record["dead_params"] or record["symmetric_weights"]):
        problems.append("GL201: no dead parameters and no symmetric weights measured")
    if not label:
        if ratio is None or _beyond(ratio):
            problems.append(f"labelled healthy but measures log10 ratio {ratio}")
        if record["dead_params"]:
            problems.append(f"labelled healthy but has dead params {record['dead_params']}")
        if record["symmetric_weights"]:
            symmetric = record["symmetric_weights"]
            problems.append(f"labelled healthy but has symmetric weights {symmetric}")
    return problems


def dump(truth: dict) -> str:
    return json.dumps(truth, indent=1, sort_keys=True) + "\n"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="compare with the committed file")
    parser.add_argument("files", nargs="*", type=Path, help="measure and print only these files")
    args = parser.parse_args(argv)
    if args.files:
        for path in args.files:
            r = measure_file(path)
            print(f"{path.name:34} {r['label']} {r['log10_grad_ratio']}"
                  f" {r['log10_grad_ratio_by_seed']}"
                  f" he={r['log10_grad_ratio_with_he_init']}"
                  f" dead={len(r['dead_params'])} sym={r['symmetric_weights']}")
            for problem in label_problems(r):
                print(f"    {problem}")
        return 0
    truth = measure_corpus()
    for name, record in truth.items():
        for problem in label_problems(record):
            print(f"{name}: {problem}")
    text = dump(truth)
    if args.check:
        current = GROUND_TRUTH.read_text(encoding="utf-8") if GROUND_TRUTH.exists() else ""
        if current != text:
            print(f"{GROUND_TRUTH.relative_to(ROOT)} is out of date; run scripts/measure_corpus.py")
            return 1
        return 0
    GROUND_TRUTH.write_text(text, encoding="utf-8")
    print(f"wrote {GROUND_TRUTH.relative_to(ROOT)} ({len(text.splitlines())} lines)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
