"""How long a pre-commit hook waits for gradlint on one file, beside the floor and its peers.

    python benchmarks/bench_one_file.py [FILE] [--repeat N]

Times, in one run and on the same file: `python -c pass` (the interpreter's floor),
`python -c "import libcst"` (the parser's import), gradlint without and with its
cache, `ruff check` and `flake8`. Prints medians and ratios to `python -c pass`.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

from common import ROOT, gradlint_env, machine, measure, median_of, table


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("file", nargs="?", default=str(ROOT / "examples" / "vanishing_mlp.py"))
    parser.add_argument("--repeat", type=int, default=10)
    args = parser.parse_args()
    source = Path(args.file).resolve()
    work = Path(tempfile.mkdtemp(prefix="gradlint-one-file-"))
    target = work / source.name
    shutil.copy(source, target)
    env = gradlint_env()
    gradlint = [sys.executable, "-m", "gradlint", "check", "--exit-zero"]
    commands = {
        "python -c pass": [sys.executable, "-c", "pass"],
        "python -c 'import libcst'": [sys.executable, "-c", "import libcst"],
        "gradlint (no cache)": gradlint + ["--no-cache", target.name],
        "gradlint (cached)": gradlint + [target.name],
    }
    if shutil.which("ruff"):
        commands["ruff check"] = ["ruff", "check", "--no-cache", "--exit-zero", target.name]
    if shutil.which("flake8"):
        commands["flake8"] = ["flake8", "--exit-zero", target.name]
    measure(gradlint + [target.name], work, env)  # fills the cache for the cached row
    runs: dict[str, list[dict]] = {name: [] for name in commands}
    for _ in range(args.repeat):  # interleaved, so that a busy moment hurts every tool alike
        for name, command in commands.items():
            runs[name].append(measure(command, work, env))
    rows = [(name, median_of(r)) for name, r in runs.items()]
    lines = sum(1 for _ in source.open(encoding="utf-8", errors="replace"))
    print(f"{source.name}: {lines} lines; median of {args.repeat} runs; {machine()}\n")
    print(table(rows, "python -c pass"))
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
