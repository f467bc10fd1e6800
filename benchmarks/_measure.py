"""Run one command and report its wall time, CPU time and peak memory, as JSON on stdout.

Run as a separate process per measurement, so that the children's resource usage
it reads belongs to that one command (and its workers) only.
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import time


def main() -> None:
    cwd, command = sys.argv[1], sys.argv[2:]
    start = time.perf_counter()
    done = subprocess.run(command, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wall = time.perf_counter() - start
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    print(json.dumps({
        "wall": wall,
        "cpu": usage.ru_utime + usage.ru_stime,
        "peak_mb": usage.ru_maxrss / 1024,  # the largest single process, in KiB on Linux
        "rc": done.returncode,
    }))


if __name__ == "__main__":
    main()
