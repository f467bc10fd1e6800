"""Checking files on all cores.

Workers are forked after the rules and the cross-file index exist, so they
share them copy-on-write instead of rebuilding them; results come back in the
order of the file list whatever the scheduling.

A worker that dies (a crash in a native parser, the kernel's OOM killer) must
cost one file, not the run: each worker notes the file it is on in a marker
file, so that after a crash the files under way are known, re-checked alone,
and the one that kills its worker again is reported as an error.
"""

from __future__ import annotations

import gc
import multiprocessing
import os
import sys
import tempfile
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path

from gradlint.diagnostics import FileError, FileResult
from gradlint.files import display_path

_STATE: dict = {}


def _check_chunk(indices: list[int]) -> list[tuple[int, FileResult]]:
    marker = os.path.join(_STATE["markers"], str(os.getpid()))
    done = []
    for index in indices:
        _note(marker, str(index))
        done.append((index, _STATE["check"](_STATE["files"][index])))
    try:
        os.unlink(marker)
    except OSError:
        pass
    return done


def _note(marker: str, text: str) -> None:
    """Say which file this worker is on. The note only names the culprit after a crash: a
    marker folder that something removed is made again, and a failing write costs nothing."""
    for _ in range(2):
        try:
            with open(marker, "w") as out:
                out.write(text)
            return
        except OSError:
            try:
                os.makedirs(os.path.dirname(marker), mode=0o700, exist_ok=True)
            except OSError:
                return


def _die_with_parent(parent: int) -> None:
    """Run in each worker as it starts: a worker must not outlive the run that forked it.

    When a supervisor's SIGTERM or the OOM killer ends only the parent, orphaned workers
    would hold its stdout open and block whoever reads it. Linux delivers a signal when
    the parent dies; elsewhere a thread watches for the change of parent.
    """
    import signal
    import threading

    from gradlint.linux import PR_SET_PDEATHSIG, prctl

    prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent:  # the parent died before the signal was armed
        os._exit(1)

    def watch() -> None:
        import time

        while os.getppid() == parent:
            time.sleep(1.0)
        os._exit(1)

    threading.Thread(target=watch, name="gradlint-parent-watch", daemon=True).start()


def _under_way(markers: str) -> set[int]:
    found = set()
    for name in os.listdir(markers):
        try:
            with open(os.path.join(markers, name)) as marker:
                found.add(int(marker.read()))
        except (OSError, ValueError):
            continue
    return found


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


def _plan(indices: list[int], workers: int, groups: list[list[int]]) -> list[list[int]]:
    """``indices`` in chunks, each handed to one worker, the heaviest first so that the last
    chunks are short and the workers end together: each group (files that import from one
    another, ``gradlint.affinity``) one chunk, the other files a few at a time, largest first."""
    size = {i: _size(_STATE["files"][i]) for i in indices}
    grouped = {i for group in groups for i in group}
    alone = sorted((i for i in indices if i not in grouped), key=lambda i: -size[i])
    step = max(1, min(16, len(indices) // (workers * 8)))  # small: model files differ a lot in cost
    chunks = groups + [alone[k : k + step] for k in range(0, len(alone), step)]
    return sorted(chunks, key=lambda chunk: -sum(size[i] for i in chunk))


def _round(
    indices: list[int], workers: int, results: dict[int, FileResult], groups: list[list[int]] = ()
) -> tuple[bool, set[int]]:
    """Check ``indices`` on a fresh pool, each of ``groups`` (indices among them) by one
    worker: whether it broke, and the files then under way."""
    plan = _plan(indices, workers, list(groups))
    with tempfile.TemporaryDirectory(prefix="gradlint-workers-") as markers:
        _STATE["markers"] = markers
        broken = False
        context = multiprocessing.get_context("fork")
        with ProcessPoolExecutor(
            workers, mp_context=context, initializer=_die_with_parent, initargs=(os.getpid(),)
        ) as pool:
            futures = [pool.submit(_check_chunk, c) for c in plan]
            for future in futures:
                try:
                    results.update(future.result())
                except BrokenProcessPool:
                    broken = True
        return broken, (_under_way(markers) - set(results) if broken else set())


def _died(path: Path) -> FileResult:
    shown = display_path(path)
    message = "the checker process died on this file (a crash in the parser, or out of memory); skipped"
    return FileResult(shown, errors=[FileError(shown, message)])


def parallel_map(
    files: list[Path], check: Callable[[Path], FileResult], workers: int, groups=()
) -> list[FileResult]:
    """``check`` of every file, in the order of ``files``; ``groups``: lists of indices of
    ``files`` that one worker should check together, in that order. ``check`` is inherited
    by the forked workers, never pickled."""
    if sys.platform == "win32" or "fork" not in multiprocessing.get_all_start_methods():
        return [check(path) for path in files]
    _STATE.update(files=files, check=check)
    gc.freeze()  # what the parent built is shared with the workers: their collector skips it
    results: dict[int, FileResult] = {}
    suspects: set[int] = set()
    try:
        rest = list(range(len(files)))
        while rest:
            broken, under_way = _round(rest, workers, results, groups)
            groups = ()  # after a crash: what is left, largest first
            rest = [i for i in rest if i not in results and i not in suspects | under_way]
            if broken and not under_way:  # died without saying where: give up on what is left
                suspects.update(rest)
                break
            suspects |= under_way
        for index in sorted(suspects):  # alone, so that an innocent neighbour is not blamed
            if index in results:
                continue
            _round([index], 1, results)
            if index not in results:
                results[index] = _died(files[index])
    finally:
        _STATE.clear()
        gc.unfreeze()
    return [results[i] for i in range(len(files))]
