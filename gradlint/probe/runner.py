"""Parent side: run the child with a time limit and turn what it left into a result or one error."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import gradlint
from gradlint.probe import EXIT_TIMEOUT, EXIT_USAGE, EXIT_USER_CODE


@dataclass
class ProbeFailure(Exception):
    """One clear message and the exit code that goes with it."""

    message: str
    exit_code: int

    def __str__(self) -> str:
        return self.message


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

    def to_json(self) -> dict[str, Any]:
        return {
            "file": str(self.file),
            "name": self.name,
            "device": self.device,
            "seed": self.seed,
            "loss": self.loss,
            "input_shape": list(self.input_shape) if self.input_shape else None,
            "saturation_input": self.saturation_input,
        }


def _child_env() -> dict[str, str]:
    """The child imports this very gradlint, whichever checkout or install runs the parent."""
    env = dict(os.environ)
    package_root = str(Path(gradlint.__file__).resolve().parent.parent)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [package_root, env.get("PYTHONPATH")]))
    env.setdefault("PYTHONDONTWRITEBYTECODE", "1")  # no __pycache__ beside the user's files
    return env


def run_child(request: Request) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="gradlint-probe-") as scratch:
        request_path = Path(scratch) / "request.json"
        result_path = Path(scratch) / "result.json"
        request_path.write_text(json.dumps(request.to_json()), encoding="utf-8")
        # A session of its own, so that a timeout ends the user's worker processes too.
        child = subprocess.Popen(
            [sys.executable, "-m", "gradlint.probe.child", str(request_path), str(result_path)],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            env=_child_env(),
            start_new_session=True,
        )
        try:
            output, _ = child.communicate(timeout=request.timeout)
        except subprocess.TimeoutExpired:
            _kill_group(child)
            child.communicate()
            raise ProbeFailure(
                f"{request.file.name}:{request.name} did not finish within {request.timeout:g} s "
                "(--timeout); the child process was stopped",
                EXIT_TIMEOUT,
            ) from None
        try:
            result = json.loads(result_path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            tail = _last_line(output.decode("utf-8", "replace"))
            reason = _signal_reason(child.returncode)
            raise ProbeFailure(
                f"{request.file.name}:{request.name}: the probe process ended without a result "
                f"({reason})" + (f": {tail}" if tail else ""),
                EXIT_USER_CODE,
            ) from None
    if not result.get("ok"):
        raise ProbeFailure(
            failure_message(request, result), EXIT_USAGE if result.get("usage") else EXIT_USER_CODE
        )
    return result


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


def _kill_group(child: subprocess.Popen) -> None:
    try:
        os.killpg(child.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError, AttributeError):
        child.kill()


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
