"""gradlint against its peers on real model code: timm, torchvision, diffusers, transformers.

    python benchmarks/bench_corpora.py [--corpus timm ...] [--folder DIR] [--repeat N]
                                       [--no-peers | --peers-on timm ...]

Fetches the packages' wheels (`pip download --no-deps`) into a folder outside the
repository, unpacks them, and in one session runs on each corpus's models folder:
gradlint cold (--no-cache), warm, warm after editing one file, that file alone, one
median-sized file and the largest file; `python -c "import libcst"`; a single-process
libcst parse of the same files (the floor of any libcst-based linter); ruff; flake8;
TorchFix and Fixit (installed in their own virtualenv under the benchmark folder, never
into this project's environment). With --repeat N the tools run in N interleaved rounds
and each figure is the median (TorchFix and Fixit, minutes each, run in the first round
only). Prints wall, CPU and peak memory (the whole process tree,
workers included) per tool with ratios to gradlint cold, then the speed targets with the
ratio each is judged by, and appends both tables to benchmarks/RESULTS.md.
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
        done = subprocess.run([str(bin_dir / "pip"), "install", "-q", *PEERS], check=False)
        if done.returncode != 0:
            return None
    return bin_dir


def count_lines(tree: Path) -> tuple[int, int]:
    files = list(tree.rglob("*.py"))
    lines = sum(p.read_bytes().count(b"\n") for p in files)
    return len(files), lines


def bench(
    tree: Path, folder: Path, repeat: int, jobs: int, peers: bool = True, baseline: Path | None = None
) -> list[tuple[str, dict]]:
    """Every tool on ``tree``, ``repeat`` rounds interleaved (each round runs each tool
    once, so that a slow spell of the machine falls on all of them); medians per tool.
    ``baseline``: another checkout of gradlint, run cold and warm in the same rounds."""
    env = gradlint_env()
    work = tree.parent
    rel = tree.relative_to(work).as_posix()
    cache = folder / "gradlint-cache"
    gradlint = [sys.executable, "-m", "gradlint", "check", "--exit-zero", "-j", str(jobs), "--cache-dir", str(cache)]
    files = sorted(tree.rglob("*.py"), key=lambda p: (p.stat().st_size, str(p)))
    typical = files[len(files) // 2]  # the median-sized file: what a commit usually touches
    largest = files[-1]
    edited = sorted(files)[len(files) // 2]
    original = edited.read_bytes()

    def edit() -> None:
        measure(gradlint + [rel], work, env)  # back to a full cache, then one change
        with edited.open("ab") as out:
            out.write(b"\n# edited\n")

    def restore() -> None:
        edited.write_bytes(original)

    # (name, command, before, environment)
    plan: list[tuple[str, list[str], object, dict]] = [
        ("gradlint cold", gradlint + ["--no-cache", rel], None, env),
        ("gradlint warm", gradlint + [rel], lambda: measure(gradlint + [rel], work, env), env),
        ("gradlint warm, 1 file edited", gradlint + [rel], edit, env),
        ("gradlint, the edited file alone", gradlint + ["--no-cache", _rel(edited, work)], restore, env),
        ("gradlint one file (median size)", gradlint + ["--no-cache", _rel(typical, work)], None, env),
        ("gradlint one file (largest)", gradlint + ["--no-cache", _rel(largest, work)], None, env),
        ("python -c 'import libcst'", [sys.executable, "-c", "import libcst"], None, env),
        ("libcst parse only, 1 process", [sys.executable, "-c", PARSE_ONLY, rel], None, env),
    ]
    if baseline is not None:
        base_env = gradlint_env(baseline)
        base_cache = folder / "gradlint-cache-baseline"
        base = [sys.executable, "-m", "gradlint", "check", "--exit-zero", "-j", str(jobs), "--cache-dir", str(base_cache)]
        plan[2:2] = [
            ("baseline cold", base + ["--no-cache", rel], None, base_env),
            ("baseline warm", base + [rel], lambda: measure(base + [rel], work, base_env), base_env),
        ]
    if shutil.which("ruff"):
        plan.append(("ruff", ["ruff", "check", "--no-cache", "--exit-zero", "--silent", rel], None, env))
    if shutil.which("flake8"):
        plan.append(("flake8", ["flake8", "--exit-zero", "-j", str(jobs), rel], None, env))
    bin_dir = peers_venv(folder) if peers else None
    if bin_dir is not None:
        clean_env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
        plan.append(("TorchFix", [str(bin_dir / "torchfix"), rel], None, clean_env))
        plan.append(("Fixit", [str(bin_dir / "fixit"), "lint", rel], None, clean_env))
    runs: dict[str, list[dict]] = {name: [] for name, *_ in plan}
    try:
        for round_ in range(repeat):
            for name, command, before, environ in plan:
                if round_ > 0 and name in ("TorchFix", "Fixit"):
                    continue  # minutes each: once is enough to rank them
                if before is not None:
                    before()
                runs[name].append(measure(command, work, environ))
                print(f"  [{round_ + 1}/{repeat}] {name}: {runs[name][-1]['wall']:.2f} s", flush=True)
    finally:
        restore()
    return [(name, median_of(runs[name])) for name, *_ in plan]


def _rel(path: Path, work: Path) -> str:
    return path.relative_to(work).as_posix()


def targets(rows: list[tuple[str, dict]]) -> str:
    """The speed targets, each as the ratio it is judged by and whether it holds."""
    r = {name: values for name, values in rows}
    cold = r["gradlint cold"]["wall"]
    lines = ["| target | measured | holds |", "|---|---|---|"]

    def add(text: str, value: str, ok: bool) -> None:
        lines.append(f"| {text} | {value} | {'yes' if ok else 'no'} |")

    floor = r["libcst parse only, 1 process"]["wall"]
    add("cold ≤ 0.75x the single-process libcst parse", f"{cold / floor:.2f}x", cold <= 0.75 * floor)
    for peer in ("TorchFix", "Fixit", "flake8"):
        if peer in r:
            add(f"cold faster than {peer}", f"{cold / r[peer]['wall']:.2f}x {peer}", cold < r[peer]["wall"])
    warm = r["gradlint warm"]["wall"]
    add("warm ≤ 10% of cold", f"{warm / cold:.1%}", warm <= 0.10 * cold)
    edited, alone = r["gradlint warm, 1 file edited"]["wall"], r["gradlint, the edited file alone"]["wall"]
    add(
        "one file edited ≤ 10% of cold + that file alone",
        f"{edited:.2f} s vs {0.10 * cold + alone:.2f} s",
        edited <= 0.10 * cold + alone,
    )
    one, libcst = r["gradlint one file (median size)"]["wall"], r["python -c 'import libcst'"]["wall"]
    add("one file ≤ 2x `import libcst`", f"{one / libcst:.2f}x", one <= 2 * libcst)
    peak = r["gradlint cold"]["peak_mb"]
    add("cold peak memory, all processes, < 1.5 GiB", f"{peak:.0f} MB", peak < 1536)
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", action="append", choices=sorted(CORPORA), help="default: timm")
    parser.add_argument(
        "--folder",
        type=Path,
        default=Path.home() / ".cache" / "gradlint-bench",
        help="where the corpora are downloaded and unpacked (default: ~/.cache/gradlint-bench); "
        "keep it outside the repository",
    )
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--jobs", type=int, default=len(os.sched_getaffinity(0)))
    parser.add_argument("--no-record", action="store_true", help="do not append to benchmarks/RESULTS.md")
    parser.add_argument(
        "--baseline", type=Path, help="another gradlint checkout to time cold and warm in the same rounds"
    )
    parser.add_argument("--no-peers", action="store_true", help="skip TorchFix and Fixit (they take minutes)")
    parser.add_argument(
        "--peers-on", action="append", choices=sorted(CORPORA),
        help="run TorchFix and Fixit on these corpora only (default: all)",
    )
    args = parser.parse_args()
    folder = args.folder.resolve()
    folder.mkdir(parents=True, exist_ok=True)
    sections = []
    for name in args.corpus or ["timm"]:
        tree = fetch(folder, name) / CORPORA[name]
        files, lines = count_lines(tree)
        print(f"{name}: {CORPORA[name]}, {files} files, {lines} lines", flush=True)
        peers = not args.no_peers and (not args.peers_on or name in args.peers_on)
        rows = bench(tree, folder, args.repeat, args.jobs, peers=peers, baseline=args.baseline)
        text = table(rows, "gradlint cold") + "\n\n" + targets(rows)
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
