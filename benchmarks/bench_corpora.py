"""gradlint against its peers on real model code: timm, torchvision, diffusers, transformers.

    python benchmarks/bench_corpora.py [--corpus timm ...] [--folder DIR] [--repeat N]

Fetches the packages' wheels (`pip download --no-deps`) into a folder outside the
repository, unpacks them, and in one session runs on each corpus's models folder:
gradlint cold (--no-cache), warm, warm after editing one file, one file; a
single-process libcst parse of the same files (the floor of any libcst-based
linter); ruff; flake8; TorchFix and Fixit (installed in their own virtualenv under
the benchmark folder, never into this project's environment). Prints wall, CPU and
peak memory per tool with ratios to gradlint cold, and appends a dated table to
benchmarks/RESULTS.md.
"""

from __future__ import annotations

import argparse
import datetime
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

from common import HERE, gradlint_env, machine, measure, median_of, table

CORPORA = {
    "timm": "timm/models",
    "torchvision": "torchvision/models",
    "diffusers": "diffusers/models",
    "transformers": "transformers/models",
}
PEERS = ("torchfix", "fixit")

# the floor: what parsing alone costs a libcst-based tool, one process, no rules
PARSE_ONLY = """
import sys, libcst
from pathlib import Path
for path in sorted(Path(sys.argv[1]).rglob("*.py")):
    try:
        libcst.parse_module(path.read_text(encoding="utf-8"))
    except Exception:
        pass
"""


def fetch(folder: Path, name: str) -> Path:
    """The unpacked wheel of ``name`` under ``folder``."""
    unpacked = folder / "src" / name
    if unpacked.is_dir():
        return unpacked
    wheels = folder / "wheels"
    wheels.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary", ":all:", "-q", "-d", str(wheels), name],
        check=True,
    )
    wheel = max(wheels.glob(f"{name}-*.whl"), key=lambda p: p.stat().st_mtime)
    with zipfile.ZipFile(wheel) as archive:
        archive.extractall(unpacked)
    return unpacked


def peers_venv(folder: Path) -> Path | None:
    """A virtualenv with TorchFix and Fixit, apart from the project's own packages."""
    venv = folder / "peers-venv"
    bin_dir = venv / "bin"
    if not (bin_dir / "fixit").exists() or not (bin_dir / "torchfix").exists():
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        done = subprocess.run([str(bin_dir / "pip"), "install", "-q", *PEERS])
        if done.returncode != 0:
            return None
    return bin_dir


def count_lines(tree: Path) -> tuple[int, int]:
    files = list(tree.rglob("*.py"))
    lines = sum(p.read_bytes().count(b"\n") for p in files)
    return len(files), lines


def bench(tree: Path, folder: Path, repeat: int, jobs: int) -> list[tuple[str, dict]]:
    env = gradlint_env()
    work = tree.parent
    rel = tree.relative_to(work).as_posix()
    cache = folder / "gradlint-cache"
    gradlint = [sys.executable, "-m", "gradlint", "check", "--exit-zero", "-j", str(jobs), "--cache-dir", str(cache)]
    one_file = max(tree.rglob("*.py"), key=lambda p: p.stat().st_size)
    edited = sorted(tree.rglob("*.py"))[len(list(tree.rglob("*.py"))) // 2]
    rows: list[tuple[str, dict]] = []

    def timed(name: str, command: list[str], before=None, environ=None) -> None:
        runs = []
        for _ in range(repeat):
            if before is not None:
                before()
            runs.append(measure(command, work, environ or env))
        rows.append((name, median_of(runs)))
        print(f"  {name}: {rows[-1][1]['wall']:.2f} s", flush=True)

    timed("gradlint cold", gradlint + ["--no-cache", rel])
    measure(gradlint + [rel], work, env)  # fill the cache
    timed("gradlint warm", gradlint + [rel])
    original = edited.read_bytes()

    def edit() -> None:
        measure(gradlint + [rel], work, env)  # back to a full cache, then one change
        with edited.open("ab") as out:
            out.write(b"\n# edited\n")

    try:
        timed("gradlint warm, 1 file edited", gradlint + [rel], before=edit)
    finally:
        edited.write_bytes(original)
    timed("gradlint one file (cold)", gradlint + ["--no-cache", one_file.relative_to(work).as_posix()])
    timed("libcst parse only, 1 process", [sys.executable, "-c", PARSE_ONLY, rel])
    if shutil.which("ruff"):
        timed("ruff", ["ruff", "check", "--no-cache", "--exit-zero", "--silent", rel])
    if shutil.which("flake8"):
        timed("flake8", ["flake8", "--exit-zero", "-j", str(jobs), rel])
    bin_dir = peers_venv(folder)
    if bin_dir is not None:
        clean_env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
        timed("TorchFix", [str(bin_dir / "torchfix"), rel], environ=clean_env)
        timed("Fixit", [str(bin_dir / "fixit"), "lint", rel], environ=clean_env)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", action="append", choices=sorted(CORPORA), help="default: timm")
    parser.add_argument("--folder", type=Path, default=Path.home() / ".cache" / "gradlint-bench")
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--jobs", type=int, default=len(os.sched_getaffinity(0)))
    parser.add_argument("--no-record", action="store_true", help="do not append to benchmarks/RESULTS.md")
    args = parser.parse_args()
    folder = args.folder.resolve()
    folder.mkdir(parents=True, exist_ok=True)
    sections = []
    for name in args.corpus or ["timm"]:
        tree = fetch(folder, name) / CORPORA[name]
        files, lines = count_lines(tree)
        print(f"{name}: {CORPORA[name]}, {files} files, {lines} lines", flush=True)
        rows = bench(tree, folder, args.repeat, args.jobs)
        text = table(rows, "gradlint cold")
        print(text, flush=True)
        sections.append(f"### {name} ({CORPORA[name]}: {files} files, {lines} lines)\n\n{text}\n")
    if not args.no_record:
        stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
        header = f"## {stamp}\n\n{machine()}; -j {args.jobs}; median of {args.repeat} run(s)\n\n"
        results = HERE / "RESULTS.md"
        if not results.exists():
            results.write_text("# Benchmark results\n\nAppended by benchmarks/bench_corpora.py.\n\n")
        with results.open("a", encoding="utf-8") as out:
            out.write(header + "\n".join(sections) + "\n")


if __name__ == "__main__":
    main()
