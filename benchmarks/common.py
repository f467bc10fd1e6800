"""Shared by the benchmarks: timing commands, medians, and the machine they ran on."""

from __future__ import annotations

import json
import os
import platform
import statistics
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent


def measure(command: list[str], cwd: Path | str = ".", env: dict | None = None) -> dict:
    """Wall, CPU and peak memory of one run of ``command``."""
    out = subprocess.run(
        [sys.executable, str(HERE / "_measure.py"), str(cwd), *command],
        capture_output=True, text=True, env=env, check=True,
    )
    return json.loads(out.stdout)


def median_of(runs: list[dict]) -> dict:
    return {key: statistics.median(r[key] for r in runs) for key in ("wall", "cpu", "peak_mb")} | {
        "rc": runs[-1]["rc"]
    }


def gradlint_env(root: Path = ROOT) -> dict:
    """Run the gradlint of the checkout at ``root`` (this one by default), whatever is
    installed, from compiled bytecode as an installed wheel runs (pip compiles it on install;
    a checkout run with PYTHONDONTWRITEBYTECODE=1 would otherwise compile some fifty modules
    on every start, a third of a one-file run)."""
    import compileall

    compileall.compile_dir(str(root / "gradlint"), quiet=1)
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(root), env.get("PYTHONPATH")]))
    return env


def machine() -> str:
    model = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return f"{model}, {cores} usable cores, {platform.system()} {platform.release()}, Python {platform.python_version()}"


def table(rows: list[tuple[str, dict]], reference: str) -> str:
    """A markdown table with each tool's ratio to ``reference`` (wall time)."""
    base = dict(rows)[reference]["wall"]
    lines = ["| tool | wall s | CPU s | peak MB | wall / " + reference + " |", "|---|---:|---:|---:|---:|"]
    for name, r in rows:
        ratio = r["wall"] / base if base else float("nan")
        lines.append(f"| {name} | {r['wall']:.3f} | {r['cpu']:.3f} | {r['peak_mb']:.0f} | {ratio:.2f} |")
    return "\n".join(lines)
