"""Confirm the labels of tests/corpus/dead by real passes on CPU, and hold the static dead and
saturated fractions to the measured ones.

    python scripts/verify_dead_corpus.py [FILE ...]

Each corpus file defines ``make()`` returning ``(model, example_input)``. Over several seeds,
one forward/backward pass each (``gradlint.probe.measure``, which counts module and functional
activations alike), measuring per activation the share of ReLU units zero for the whole batch
and the share of sigmoid/tanh inputs beyond +-5, whether some ReLU layer is entirely dead, the
share of zero outputs, and the share of zeros in what softmax/log_softmax/sigmoid receive.

A label is confirmed when the measurement shows what it claims:
GL102 some sigmoid/tanh activation with more than half of its inputs beyond +-5;
GL103 some ReLU with at least half of its units dead for the batch, or a whole ReLU layer dead
      in at least half of the seeds;
GL104 at least a quarter of a vector output clamped to zero;
GL105 at least a quarter of the scores a softmax or sigmoid receives are exact zeros.
A near-miss is confirmed when none of these holds for the codes it could be mistaken for.
Every static fraction (gradlint.gain.units) whose activation the probe measured must lie
within 0.1 of the measured mean.
"""

from __future__ import annotations

import importlib.util
import re
import sys
from collections import defaultdict
from pathlib import Path

import torch
from torch.overrides import TorchFunctionMode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from gradlint.frontends.python import Project, build_graphs
from gradlint.gain import estimate
from gradlint.gain.units import unit_stats
from gradlint.probe.measure import call_model, first_output, measure
from gradlint.source import SourceFile

CORPUS = ROOT / "tests" / "corpus" / "dead"
EXPECT = re.compile(r"#\s*expect:\s*(GL\d{3})")
SEEDS = 10
TOLERANCE = 0.1
# a model's channels are few (16 of a conv stage): 20 seeds keep the measured mean's standard
# error near 0.025, well inside the tolerance
FRACTION_SEEDS = 20
_NORMALISERS = frozenset({"softmax", "log_softmax", "sigmoid"})


def labels(path: Path) -> set[str]:
    return {m.group(1) for m in EXPECT.finditer(path.read_text(encoding="utf-8"))}


def _load(path: Path):
    if str(path.parent) not in sys.path:
        sys.path.insert(0, str(path.parent))
    spec = importlib.util.spec_from_file_location(f"dead_corpus_{path.stem}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _make(module):
    """The model and its input: ``make()`` here, ``build()`` in tests/corpus/models (whose
    bare models take standard normal input of ``INPUT_SHAPE``)."""
    if hasattr(module, "make"):
        return module.make()
    built = module.build()
    if isinstance(built, tuple):
        return built
    return built, torch.randn(*module.INPUT_SHAPE)


class _Scores(TorchFunctionMode):
    """The share of exact zeros in what softmax, log_softmax and sigmoid receive."""

    def __init__(self) -> None:
        super().__init__()
        self.zeros = 0
        self.elements = 0

    def __torch_function__(self, func, types, args=(), kwargs=None):
        name = getattr(func, "__name__", "")
        if name in _NORMALISERS and args and isinstance(args[0], torch.Tensor):
            self.zeros += int((args[0] == 0).sum())
            self.elements += args[0].numel()
        return func(*args, **(kwargs or {}))


def measured(path: Path, seeds: int = SEEDS, output_row: str | None = None) -> dict:
    """Means over seeds: per activation row, the dead-unit or saturated share; and the rest.
    ``output_row``, the activation that produces the output, is GL104's: a hidden layer dead
    for the batch is counted without it."""
    module = _load(path)
    torch.set_num_threads(1)
    per_row: dict[str, list[float]] = defaultdict(list)
    kinds: dict[str, str] = {}
    layer_dead_seeds = 0
    output_zero = score_zero = 0.0
    for seed in range(seeds):
        torch.manual_seed(seed)
        model, example = _make(module)
        scores = _Scores()
        with scores:
            stats = measure(model, example)
            with torch.no_grad():
                out = first_output(call_model(model, example))
        output_zero += float((out == 0).float().mean())
        score_zero += scores.zeros / scores.elements if scores.elements else 0.0
        dead_layer = False
        for row in stats["activations"]:
            kinds[row["name"]] = row["kind"]
            value = row.get("dead_units") if row["kind"] == "dying" else row["fraction"]
            if value is not None:
                per_row[row["name"]].append(value)
            if row["kind"] == "dying" and row.get("dead_units") == 1.0 and row["name"] != output_row:
                dead_layer = True
        layer_dead_seeds += dead_layer
    return {
        "rows": {name: sum(v) / len(v) for name, v in per_row.items()},
        "kinds": kinds,
        "layer_dead": layer_dead_seeds / seeds,
        "output_zero": output_zero / seeds,
        "score_zero": score_zero / seeds,
    }


def static(path: Path) -> tuple[dict[str, float], str | None]:
    """The static dead-unit (ReLU) or saturated (sigmoid/tanh) share, keyed like the probe's
    rows: a module by its path, a function by ``name at file:line``; a row several sites share
    (a module or a line called in a loop) takes their mean. And the key of the activation that
    produces the model's output, if one does."""
    source = SourceFile.parse(str(path), path.read_text(encoding="utf-8"))
    found: dict[str, list[float]] = defaultdict(list)
    output_row = None
    for graph in build_graphs(source, Project.for_files([path])):
        if graph.attrs.get("block"):
            continue
        out = next(n for n in graph.nodes if n.op == "output")
        last = graph.nodes[out.inputs[0]] if out.inputs else None
        for site in unit_stats(graph, estimate(graph)):
            value = site.dead_units if site.dead_units is not None else site.saturated
            if value is None:
                continue
            node = graph.nodes[site.node]
            if node.op != "activation":
                continue
            key = node.name
            if node.module_type is None:
                key = f"{node.activation} at {path.name}:{node.location.line}"
            found[key].append(value)
            if node is last:
                output_row = key
    return {k: sum(v) / len(v) for k, v in found.items()}, output_row


def verify(path: Path, seeds: int = SEEDS, fractions_only: bool = False) -> tuple[bool, str]:
    seeds = 40 if "tapering" in path.name else seeds
    mine, output_row = static(path)
    m = measured(path, seeds, output_row)
    dying = [v for k, v in m["rows"].items() if m["kinds"][k] == "dying" and k != output_row]
    saturating = [v for k, v in m["rows"].items() if m["kinds"][k] == "saturating"]
    shown = {
        "GL102": any(v > 0.5 for v in saturating),
        "GL103": any(v >= 0.5 for v in dying) or m["layer_dead"] >= 0.5,
        "GL104": m["output_zero"] >= 0.25,
        "GL105": m["score_zero"] >= 0.25,
    }
    want = labels(path)
    problems = []
    if not fractions_only:
        problems += [f"{code} labelled but not measured" for code in sorted(want) if not shown[code]]
        problems += [f"{code} measured but not labelled" for code, seen in shown.items() if seen and code not in want]
    compared = 0
    for key, value in mine.items():
        if key in m["rows"]:
            compared += 1
            if abs(value - m["rows"][key]) > TOLERANCE:
                problems.append(f"{key}: static {value:.3f}, measured {m['rows'][key]:.3f}")
    detail = (
        f"labels {sorted(want) or 'none'}; measured {', '.join(k for k, v in shown.items() if v) or 'nothing'}; "
        f"{compared} activation(s) compared; layer dead in {m['layer_dead']:.0%} of seeds; "
        f"output zeros {m['output_zero']:.0%}; score zeros {m['score_zero']:.0%}"
    )
    return not problems, detail + ("; " + "; ".join(problems) if problems else "")


def main(argv: list[str]) -> int:
    """``--fractions`` compares the static fractions only, over FRACTION_SEEDS seeds (for
    tests/corpus/models, whose labels are GL1-3 codes):
    ``verify_dead_corpus.py --fractions tests/corpus/models/*.py``."""
    fractions_only = "--fractions" in argv
    files = [Path(a) for a in argv if a != "--fractions"] or sorted(CORPUS.glob("*.py"))
    failed = 0
    for path in files:
        seeds = FRACTION_SEEDS if fractions_only else SEEDS
        try:
            ok, detail = verify(path, seeds, fractions_only=fractions_only)
        except Exception as error:  # a model of another corpus that does not run as built
            if not fractions_only:
                raise
            print(f"skip {path.name}: does not run ({type(error).__name__}: {str(error)[:80]})")
            continue
        failed += not ok
        print(f"{'ok  ' if ok else 'FAIL'} {path.name}: {detail}")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
