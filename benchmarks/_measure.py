"""Run one command and report its wall time, CPU time and peak memory, as JSON on stdout.

Run as a separate process per measurement, so that the children's resource usage
it reads belongs to that one command (and its workers) only.

Peak memory is that of the whole process tree: the command and its worker processes
together, sampled every 50 ms from /proc where the system has it. Elsewhere it falls
back to the largest single process (``ru_maxrss``), which the JSON says in
``peak_scope``.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import threading
import time
from pathlib import Path

_PROC = Path("/proc")


def _tree_rss_kb(root: int) -> int:
    """Resident memory of ``root`` and all its descendants, in KiB (Linux /proc)."""
    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    for entry in _PROC.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            status = (entry / "status").read_text()
        except OSError:
            continue
        pid = int(entry.name)
        fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
        try:
            parent = int(fields.get("PPid", "0").strip())
        except ValueError:
            continue
        children.setdefault(parent, []).append(pid)
        value = fields.get("VmRSS", "0 kB").split()
        rss[pid] = int(value[0]) if value else 0
    total, pending = 0, [root]
    while pending:
        pid = pending.pop()
        total += rss.get(pid, 0)
        pending.extend(children.get(pid, ()))
    return total


def main() -> None:
    cwd, command = sys.argv[1], sys.argv[2:]
    sample = _PROC.is_dir() and (_PROC / str(os.getpid()) / "status").exists()
    start = time.perf_counter()
    process = subprocess.Popen(command, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    peak = [0]
    stop = threading.Event()

    def poll() -> None:
        while not stop.is_set():
            peak[0] = max(peak[0], _tree_rss_kb(process.pid))
            stop.wait(0.05)

    sampler = threading.Thread(target=poll, daemon=True) if sample else None
    if sampler is not None:
        sampler.start()
    returncode = process.wait()
    wall = time.perf_counter() - start
    stop.set()
    if sampler is not None:
        sampler.join()
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    largest = usage.ru_maxrss / 1024  # the largest single process, in KiB on Linux
    print(json.dumps({
        "wall": wall,
        "cpu": usage.ru_utime + usage.ru_stime,
        "peak_mb": max(peak[0] / 1024, largest) if sample else largest,
        "peak_scope": "process tree" if sample else "largest process",
        "rc": returncode,
    }))


if __name__ == "__main__":
    main()
