"""What `--fix` costs on one file: `gradlint check --fix FILE` against `gradlint check FILE`.

    python benchmarks/bench_fix.py [FILE ...] [--repeat N]

Each file is copied to a scratch folder and put back before every run, so that every
`--fix` run finds the defects again; the copy happens outside the timed command. Both
commands run without the cache (a cached check costs nothing to compare with) and are
interleaved, so that a busy moment hurts both alike. The target: `--fix` within 1.5x.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

from common import ROOT, gradlint_env, machine, measure, median_of, table

DEFAULT_FILES = (
    ROOT / "examples" / "vanishing_mlp.py",
    ROOT
    / "tests"
    / "fixtures"
    / "code_rules"
    / "loop"
    / "zero_grad_missing_under_a_finite_guard.py",
    ROOT / "tests" / "corpus" / "code" / "amp_clip_after_step.py",
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("files", nargs="*", default=[str(f) for f in DEFAULT_FILES])
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    env = gradlint_env()
    print(f"median of {args.repeat} runs; {machine()}\n")
    for name in args.files:
        source = Path(name).resolve()
        work = Path(tempfile.mkdtemp(prefix="gradlint-fix-"))
        target = work / source.name
        base = [sys.executable, "-m", "gradlint", "check", "--exit-zero", "--no-cache", target.name]
        commands = {
            "check": base,
            "check --fix": base + ["--fix"],
            "check --fix --unsafe-fixes": base + ["--fix", "--unsafe-fixes"],
        }
        runs: dict[str, list[dict]] = {key: [] for key in commands}
        for _ in range(args.repeat):
            for key, command in commands.items():
                shutil.copy(source, target)
                runs[key].append(measure(command, work, env))
        shutil.copy(source, target)
        rows = [(key, median_of(r)) for key, r in runs.items()]
        print(f"{source.relative_to(ROOT)}")
        print(table(rows, "check"))
        print()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
