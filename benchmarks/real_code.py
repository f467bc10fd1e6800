"""gradlint's model checks (GL1/GL2/GL3) on the model code of timm, torchvision, diffusers, transformers.

    python benchmarks/real_code.py [--corpus NAME ...] [--sample N] [--cost] [--jobs J]

For each package (fetched by bench_corpora.fetch, outside the repository) runs
`gradlint check --no-cache --format json --select GL1,GL2,GL3` over its models folder and
prints files, lines, errors (internal errors and crashes counted apart), GL1/2/3
findings, models resolved, models with an estimate, wall and CPU time. The findings go
to findings-<package>.json in the download folder, for review (benchmarks/REAL_CODE.md).

--cost times, on transformers' models folder (or --sample N of its files), all checks
against GL4-6 only, and prints both times and their ratio.
--sample N keeps every N-th file of each folder (copied into a scratch tree, so that
cross-file imports inside the sample still resolve where both ends were kept).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
from pathlib import Path

from bench_corpora import CORPORA, count_lines, fetch
from common import gradlint_env, measure, median_of

CRASHES = ("internal error", "checker process died", "nested too deeply")


def sampled(tree: Path, every: int) -> Path:
    """A copy of ``tree`` holding every ``every``-th module and the package __init__ files above them."""
    if every <= 1:
        return tree
    scratch = Path(tempfile.mkdtemp(prefix="gradlint-sample-")) / tree.parent.name / tree.name
    modules = [p for p in sorted(tree.rglob("*.py")) if p.name != "__init__.py"][::every]
    keep = set(modules)
    for path in modules:
        keep.update(folder / "__init__.py" for folder in path.parents if folder.is_relative_to(tree))
    for path in keep:
        if path.is_file():
            target = scratch / path.relative_to(tree)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, target)
    return scratch


def run_gradlint(tree: Path, jobs: int, *options: str) -> tuple[dict, dict]:
    """The timing of one cold run over ``tree`` and its JSON report."""
    report = Path(tempfile.mkdtemp(prefix="gradlint-report-")) / "report.json"
    command = [
        sys.executable, "-m", "gradlint", "check", "--no-cache", "--exit-zero", "-j", str(jobs),
        "--format", "json", "-o", str(report), *options, tree.name,
    ]
    timing = measure(command, tree.parent, gradlint_env())
    document = json.loads(report.read_text(encoding="utf-8")) if report.exists() else {}
    shutil.rmtree(report.parent, ignore_errors=True)
    return timing, document


def quality(name: str, tree: Path, folder: Path, jobs: int) -> dict:
    files, lines = count_lines(tree)
    timing, document = run_gradlint(tree, jobs, "--select", "GL1,GL2,GL3")
    errors = document.get("errors", [])
    crashes = [e for e in errors if any(c in e["message"] for c in CRASHES)]
    findings = document.get("findings", [])
    models = document.get("models", [])
    row = {
        "package": name, "files": files, "lines": lines, "errors": len(errors), "crashes": len(crashes),
        "findings": len(findings), "models": len(models),
        "estimated": sum(1 for m in models if m.get("log10_grad_ratio") is not None),
        "wall": timing["wall"], "cpu": timing["cpu"], "rc": timing["rc"],
    }
    out = folder / f"findings-{name}.json"
    out.write_text(json.dumps({"row": row, "findings": findings, "errors": errors, "models": models}, indent=2), encoding="utf-8")
    for crash in crashes:
        print(f"  CRASH {crash['path']}: {crash['message']}", flush=True)
    return row


def cost(tree: Path, folder: Path, jobs: int, repeat: int) -> None:
    runs: dict[str, list[dict]] = {"all checks": [], "GL4,GL5,GL6 only": []}
    for _ in range(repeat):  # interleaved, so that a busy moment on a shared machine hurts both alike
        timing, document = run_gradlint(tree, jobs)
        runs["all checks"].append(timing)
        (folder / "all-checks-transformers.json").write_text(json.dumps(document, indent=2), encoding="utf-8")
        runs["GL4,GL5,GL6 only"].append(run_gradlint(tree, jobs, "--select", "GL4,GL5,GL6")[0])
    (every, code_only) = (median_of(runs["all checks"]), median_of(runs["GL4,GL5,GL6 only"]))
    print(f"median of {repeat} interleaved run(s), -j {jobs}\n| run | wall s | CPU s |\n|---|---:|---:|")
    print(f"| all checks | {every['wall']:.1f} | {every['cpu']:.1f} |")
    print(f"| GL4,GL5,GL6 only | {code_only['wall']:.1f} | {code_only['cpu']:.1f} |")
    print(f"ratio all / GL4-6: wall {every['wall'] / code_only['wall']:.2f}, "
          f"CPU {every['cpu'] / code_only['cpu']:.2f}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", action="append", choices=sorted(CORPORA), help="default: all four")
    parser.add_argument("--folder", type=Path, default=Path.home() / ".cache" / "gradlint-bench")
    parser.add_argument("--jobs", type=int, default=len(os.sched_getaffinity(0)))
    parser.add_argument("--sample", type=int, default=1, help="keep every N-th file")
    parser.add_argument("--cost", action="store_true", help="time all checks against GL4-6 on transformers")
    parser.add_argument("--repeat", type=int, default=1, help="--cost: interleaved runs, median reported")
    args = parser.parse_args()
    folder = args.folder.resolve()
    folder.mkdir(parents=True, exist_ok=True)
    if args.cost:
        cost(sampled(fetch(folder, "transformers") / CORPORA["transformers"], args.sample), folder, args.jobs, args.repeat)
        return
    print("| package | files | lines | errors | crashes | GL1/2/3 findings | models | with estimate | wall s | CPU s |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|", flush=True)
    for name in args.corpus or ["timm", "torchvision", "diffusers", "transformers"]:
        tree = sampled(fetch(folder, name) / CORPORA[name], args.sample)
        r = quality(name, tree, folder, args.jobs)
        print(f"| {name} | {r['files']} | {r['lines']} | {r['errors']} | {r['crashes']} | {r['findings']} "
              f"| {r['models']} | {r['estimated']} | {r['wall']:.1f} | {r['cpu']:.1f} |", flush=True)


if __name__ == "__main__":
    main()
