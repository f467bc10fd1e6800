"""The processes of one probe pass: the child, everything it starts, and its output.

Whatever the child starts is stopped with it: on a timeout, on SIGINT, SIGTERM or SIGHUP to
this process, and when it exits and leaves background processes behind. On Linux this
process adopts the child's orphans while the pass runs (PR_SET_CHILD_SUBREAPER), so even a
daemon that left the session with setsid is found.
"""

from __future__ import annotations

import os
import selectors
import signal
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import IO, Any

from gradlint.linux import PR_GET_CHILD_SUBREAPER, PR_SET_CHILD_SUBREAPER, prctl

# The error messages use the end of the output only; a model printing gigabytes must not
# fill this process's memory.
OUTPUT_TAIL_BYTES = 64 * 1024
# After the child exits its output is already in the pipe: this long for the reader to drain
# it, after which a process that still holds the pipe open is not waited for.
PIPE_GRACE_S = 1.0
# How long the processes left behind may take to die and be reaped after SIGKILL.
STOP_WAIT_S = 3.0
STOP_SIGNALS = ("SIGINT", "SIGTERM", "SIGHUP")


class OutputTail:
    """Reads the child's output (stdout and stderr together) as it comes and keeps its end."""

    def __init__(self, pipe: IO[bytes], limit: int = OUTPUT_TAIL_BYTES) -> None:
        self._pipe = pipe
        self._limit = limit
        self._data = bytearray()
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self._read, name="gradlint-probe-output", daemon=True
        )
        self._thread.start()

    def _read(self) -> None:
        fd = self._pipe.fileno()
        # Windows cannot select on a pipe: there reads block, and a reader that outlives the
        # grace is left behind as a daemon thread.
        selector = selectors.DefaultSelector() if os.name == "posix" else None
        try:
            if selector is not None:
                selector.register(fd, selectors.EVENT_READ)
            while not self._stop.is_set():
                if selector is not None and not selector.select(timeout=0.1):
                    continue
                chunk = os.read(fd, 65536)
                if not chunk:
                    return
                self._data += chunk
                if len(self._data) > 2 * self._limit:
                    del self._data[: -self._limit]
        except (OSError, ValueError):
            return
        finally:
            if selector is not None:
                selector.close()

    def finish(self, grace: float) -> str:
        """The last ``limit`` bytes, decoded, once the output ended or ``grace`` ran out."""
        self._thread.join(grace)
        self._stop.set()
        self._thread.join(0.5)
        if not self._thread.is_alive():
            self._pipe.close()
        return bytes(self._data[-self._limit :]).decode("utf-8", "replace")


class Family:
    """The child and every process it started, found through /proc where there is one."""

    def __init__(self, me: int) -> None:
        self.me = me
        # This process's children from before the pass are none of the pass's.
        self.before = _children_of(me)
        self.child: subprocess.Popen | None = None
        self.output: OutputTail | None = None

    def stop(self) -> list[tuple[int, str]]:
        """SIGKILL to the child and everything it started, until nothing is left; returns the
        pid and command of each process other than the child that was still running."""
        child = self.child
        if child is not None and child.returncode is None:
            # Not reaped yet, so its pid still names its process group.
            _kill_group(child)
        found: dict[int, str] = {}
        deadline = time.monotonic() + STOP_WAIT_S
        while True:
            table = _process_table()
            members = self._members(table)
            alive = [pid for pid in members if table[pid][3] not in "ZX"]
            for pid in alive:
                if pid not in found:
                    found[pid] = _command_line(pid)
                _kill(pid)
            # Adopted orphans are this process's to reap; the child is Popen's.
            for pid in members:
                if table[pid][0] == self.me:
                    _reap(pid)
            if not members or time.monotonic() > deadline:
                break
            time.sleep(0.01)
        if child is not None:
            try:
                child.wait(timeout=STOP_WAIT_S)
            except subprocess.TimeoutExpired:
                pass
        if self.output is not None:
            self.output.finish(PIPE_GRACE_S)
        if not table and child is not None and _group_exists(child.pid):
            # Without /proc the group is all that can be found: its pid is still held by
            # its members, so it names no one else's group.
            found.setdefault(-1, "a process in the child's process group")
            _kill_group(child)
        if child is not None:
            found.pop(child.pid, None)
        return sorted(found.items())

    def _members(self, table: dict[int, tuple[int, int, int, str]]) -> set[int]:
        child_pid = self.child.pid if self.child is not None else None
        roots = {
            pid
            for pid, (ppid, pgid, sid, _) in table.items()
            if pid != self.me
            and (
                pid == child_pid
                or child_pid in (pgid, sid)
                or (ppid == self.me and pid not in self.before)
            )
        }
        children: dict[int, list[int]] = {}
        for pid, (ppid, *_) in table.items():
            children.setdefault(ppid, []).append(pid)
        members: set[int] = set()
        stack = list(roots)
        while stack:
            pid = stack.pop()
            if pid not in members and pid != self.me:
                members.add(pid)
                stack.extend(children.get(pid, ()))
        return members


def _process_table() -> dict[int, tuple[int, int, int, str]]:
    """pid to (ppid, process group, session, state) for every process; empty without /proc."""
    table = {}
    try:
        names = os.listdir("/proc")
    except OSError:
        return table
    for name in names:
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat", "rb") as handle:
                stat = handle.read().decode("utf-8", "replace")
        except OSError:
            continue
        # The command name in parentheses may hold spaces and parentheses itself.
        fields = stat.rpartition(")")[2].split()
        if len(fields) >= 4:
            table[int(name)] = (int(fields[1]), int(fields[2]), int(fields[3]), fields[0])
    return table


def _children_of(me: int) -> set[int]:
    return {pid for pid, (ppid, *_) in _process_table().items() if ppid == me}


def _command_line(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as handle:
            raw = handle.read()
    except OSError:
        return "?"
    text = raw.rstrip(b"\0").replace(b"\0", b" ").decode("utf-8", "replace")
    return text if len(text) <= 80 else text[:77] + "..."


def left_message(target: str, left: list[tuple[int, str]]) -> str:
    named = [f"pid {pid}: {command}" if pid > 0 else command for pid, command in left[:3]]
    if len(left) > 3:
        named.append(f"and {len(left) - 3} more")
    count = "a background process" if len(left) == 1 else f"{len(left)} background processes"
    return (
        f"{target} left {count} running after the pass ({'; '.join(named)}); "
        f"{'it was' if len(left) == 1 else 'they were'} stopped"
    )


@contextmanager
def adopting_orphans() -> Iterator[None]:
    """Linux: the child's orphans re-parent to this process rather than to init while the pass
    runs, a daemon that left the child's session with setsid among them; they can then be
    found by their parent pid and stopped."""
    import ctypes

    previous = ctypes.c_int(0)
    adopted = (
        prctl(PR_GET_CHILD_SUBREAPER, ctypes.byref(previous)) == 0
        and prctl(PR_SET_CHILD_SUBREAPER, 1) == 0
    )
    try:
        yield
    finally:
        if adopted:
            prctl(PR_SET_CHILD_SUBREAPER, previous.value)


class StopSignals:
    """The child runs in a session of its own, so the terminal's Ctrl-C and a SIGTERM or
    SIGHUP reach this process only. While the pass runs they kill the child's process group,
    which ends the wait for it; the rest is stopped as after any pass, and the signal is
    remembered for the exit code. Nothing is raised at an arbitrary point of the cleanup."""

    def __init__(self, family: Family) -> None:
        self.family = family
        self.pending: int | None = None
        self._previous: dict[int, Any] = {}

    def install(self) -> None:
        if threading.current_thread() is not threading.main_thread():
            return
        for name in STOP_SIGNALS:
            number = getattr(signal, name, None)
            # A signal ignored when the probe started (nohup, a background job) stays ignored.
            if number is None or signal.getsignal(number) == signal.SIG_IGN:
                continue
            try:
                self._previous[number] = signal.signal(number, self._handle)
            except (OSError, ValueError):
                continue

    def restore(self) -> None:
        for number, old in self._previous.items():
            signal.signal(number, old)
        self._previous.clear()

    def _handle(self, signum: int, frame: Any) -> None:
        if self.pending is None:  # the first signal decides the exit code
            self.pending = signum
        child = self.family.child
        if child is not None and child.returncode is None:
            try:
                os.killpg(child.pid, signal.SIGKILL)
            except (OSError, AttributeError):
                try:
                    os.kill(child.pid, signal.SIGKILL)
                except OSError:
                    pass


def _kill_group(child: subprocess.Popen) -> None:
    try:
        os.killpg(child.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError, AttributeError):
        try:
            child.kill()
        except OSError:
            pass


def _group_exists(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except (OSError, AttributeError):
        return False
    return True


def _kill(pid: int) -> None:
    try:
        os.kill(pid, signal.SIGKILL)
    except OSError:
        pass


def _reap(pid: int) -> None:
    try:
        os.waitpid(pid, os.WNOHANG)
    except (ChildProcessError, OSError):
        pass
