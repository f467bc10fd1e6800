"""Parent side: run the child with a time limit and turn what it left into a result or one error.

The child runs in a session of its own. Whatever it starts is stopped with it: on a timeout,
on SIGINT, SIGTERM or SIGHUP to this process, and when it exits and leaves background
processes behind. On Linux this process adopts the child's orphans while the pass runs
(PR_SET_CHILD_SUBREAPER), so even a daemon that left the session with setsid is found.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import gradlint
from gradlint.probe import EXIT_TIMEOUT, EXIT_USAGE, EXIT_USER_CODE
from gradlint.probe.processes import (
    PIPE_GRACE_S,
    Family,
    OutputTail,
    StopSignals,
    adopting_orphans,
    left_message,
)


@dataclass
class ProbeFailure(Exception):
    """One clear message and the exit code that goes with it."""

    message: str
    exit_code: int

    def __str__(self) -> str:
        return self.message


class ProbeInterrupted(ProbeFailure):
    """A signal stopped the probe: no further target runs; the exit code is 128 + the signal."""


@dataclass
class Request:
    file: Path
    name: str
    device: str
    seed: int
    loss: str
    input_shape: tuple[int, ...] | None
    saturation_input: float
    timeout: float
    dtype: str = "float32"

    def to_json(self) -> dict[str, Any]:
        return {
            "file": str(self.file),
            "name": self.name,
            "device": self.device,
            "seed": self.seed,
            "loss": self.loss,
            "input_shape": list(self.input_shape) if self.input_shape else None,
            "saturation_input": self.saturation_input,
            "dtype": self.dtype,
        }


def _child_env() -> dict[str, str]:
    """The child imports this very gradlint, whichever checkout or install runs the parent."""
    env = dict(os.environ)
    package_root = str(Path(gradlint.__file__).resolve().parent.parent)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [package_root, env.get("PYTHONPATH")]))
    env.setdefault("PYTHONDONTWRITEBYTECODE", "1")  # no __pycache__ beside the user's files
    return env


def run_child(request: Request, warn: Callable[[str], None] | None = None) -> dict[str, Any]:
    """The child's result. ``warn`` hears of background processes the pass left running."""
    target = f"{request.file.name}:{request.name}"
    with tempfile.TemporaryDirectory(prefix="gradlint-probe-") as scratch:
        request_path = Path(scratch) / "request.json"
        result_path = Path(scratch) / "result.json"
        request_path.write_text(json.dumps(request.to_json()), encoding="utf-8")
        command = [
            sys.executable,
            "-m",
            "gradlint.probe.child",
            str(request_path),
            str(result_path),
        ]
        family = Family(os.getpid())
        signals = StopSignals(family)
        with adopting_orphans():
            signals.install()
            try:
                timed_out, left, output = _run_pass(family, command, request.timeout, signals)
            finally:
                try:
                    family.stop()
                finally:
                    signals.restore()
        if signals.pending is not None:
            raise ProbeInterrupted(
                f"{target}: interrupted by {signal.Signals(signals.pending).name}; "
                "the child process was stopped",
                128 + signals.pending,
            )
        if timed_out:
            raise ProbeFailure(
                f"{target} did not finish within {request.timeout:g} s "
                "(--timeout); the child process was stopped",
                EXIT_TIMEOUT,
            )
        if left and warn is not None:
            warn(left_message(target, left))
        try:
            result = json.loads(result_path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            tail = _last_line(output)
            reason = _signal_reason(family.child.returncode if family.child else None)
            raise ProbeFailure(
                f"{target}: the probe process ended without a result "
                f"({reason})" + (f": {tail}" if tail else ""),
                EXIT_USER_CODE,
            ) from None
    if not result.get("ok"):
        raise ProbeFailure(
            failure_message(request, result), EXIT_USAGE if result.get("usage") else EXIT_USER_CODE
        )
    return result


def _run_pass(
    family: Family, command: list[str], timeout: float, signals: StopSignals
) -> tuple[bool, list[tuple[int, str]], str]:
    """Whether the pass timed out, the processes it left running, and the end of its output."""
    # A session of its own, so that a timeout ends the user's worker processes too.
    family.child = subprocess.Popen(
        command,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        env=_child_env(),
        start_new_session=True,
    )
    family.output = OutputTail(family.child.stdout)
    timed_out = False
    # A signal that came while the child was being started found nothing to stop.
    if signals.pending is None:
        try:
            # The child itself, not the end of its output: a process it left behind may hold
            # the pipe open for as long as it likes.
            family.child.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            timed_out = True
    left = family.stop()
    return timed_out, left, family.output.finish(PIPE_GRACE_S)


def failure_message(request: Request, result: dict[str, Any]) -> str:
    target = f"{request.file.name}:{request.name}"
    if result.get("usage"):
        return f"{target}: {result['error'].removeprefix('ProbeError: ')}"
    message = f"{target}: {result['phase']} failed: {result['error']}"
    if result.get("where"):
        message += f" (at {_shorter(result['where'])})"
    if result["phase"] == "forward/backward" and result.get("input"):
        message += f"; input was {result['input']}"
    return message


def _shorter(where: str) -> str:
    """A frame under the working folder is shown relative to it, as the user typed the target."""
    cwd = str(Path.cwd()) + os.sep
    return where.removeprefix(cwd)


def _signal_reason(code: int | None) -> str:
    if code is not None and code < 0:
        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = str(-code)
        hint = ", likely out of memory" if name == "SIGKILL" else ""
        return f"killed by {name}{hint}"
    return f"exit status {code}"


def _last_line(text: str) -> str:
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    return lines[-1] if lines else ""
