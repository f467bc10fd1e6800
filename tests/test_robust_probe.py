"""`gradlint probe` under stress: signals, processes the model leaves behind, endless output,
targets that are not Python files, --plot without matplotlib."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from tests.conftest import ROOT, invoke_cli

ON_LINUX = sys.platform.startswith("linux")

# A model factory with hooks: it writes the pids it wants checked to PIDS, one a line.
MODEL = """\
import os, subprocess, sys, time
from torch import nn

PIDS = {pids!r}


def note(pid):
    with open(PIDS, "a") as handle:
        handle.write(f"{{pid}}\\n")


def sleeper(new_session):
    # Bounded, so that nothing outlives a broken run of these tests by long.
    return subprocess.Popen(
        [sys.executable, "-c", "import time; time.sleep(60)"],
        start_new_session=new_session,
    )


def daemon():
    note(sleeper(True).pid)
    return nn.Linear(4, 2)


def background():
    note(sleeper(False).pid)
    return nn.Linear(4, 2)


def daemon_then_hang():
    note(sleeper(True).pid)
    while True:
        time.sleep(0.05)


def hang():
    note(os.getpid())
    note(sleeper(True).pid)
    while True:
        time.sleep(0.05)


def chatty():
    chunk = "x" * (1 << 20) + "\\n"
    for _ in range({megabytes}):
        sys.stdout.write(chunk)
    print("last words before exit")
    sys.stdout.flush()
    os._exit(5)
"""

CHATTY_MEGABYTES = 128


@pytest.fixture
def model(tmp_path):
    """The model file, and the pids its factories started (each stopped at teardown)."""
    pytest.importorskip("torch")
    pids = tmp_path / "pids"
    path = tmp_path / "stressed.py"
    path.write_text(MODEL.format(pids=str(pids), megabytes=CHATTY_MEGABYTES))
    yield path, pids
    for pid in _read_pids(pids):
        _kill(pid)


def _read_pids(path: Path) -> list[int]:
    if not path.exists():
        return []
    return [int(line) for line in path.read_text().split()]


def _alive(pid: int) -> bool:
    """Running, as opposed to gone or a zombie waiting for its parent."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as handle:
            state = handle.read().rpartition(b")")[2].split()[0]
    except OSError:
        return False
    return state not in (b"Z", b"X")


def _kill(pid: int) -> None:
    try:
        os.kill(pid, signal.SIGKILL)
    except OSError:
        pass


def _gone_soon(pids: list[int], within: float = 3.0) -> bool:
    deadline = time.monotonic() + within
    while any(_alive(p) for p in pids):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def _start(*args: str) -> subprocess.Popen:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    return subprocess.Popen(
        [sys.executable, "-m", "gradlint", "probe", *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _finish(proc: subprocess.Popen, within: float) -> tuple[int, str, str, float]:
    """Exit code, stdout, stderr and seconds taken; a probe still running after ``within``
    is killed and fails the test."""
    started = time.monotonic()
    try:
        out, err = proc.communicate(timeout=within)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        pytest.fail(f"gradlint probe still running after {within:g} s")
    return proc.returncode, out, err, time.monotonic() - started


def _wait_for_pids(path: Path, count: int, proc: subprocess.Popen, within: float = 20.0):
    deadline = time.monotonic() + within
    while len(_read_pids(path)) < count:
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            pytest.fail(f"the factory did not start: {proc.communicate()[1]}")
        time.sleep(0.05)
    return _read_pids(path)


@pytest.mark.slow  # each test of the model fixture starts a probe and its torch child
@pytest.mark.skipif(not ON_LINUX, reason="checks processes through /proc")
@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM, signal.SIGHUP])
def test_signal_stops_the_model_and_exits_128_plus_signal(model, signum):
    if signal.getsignal(signum) == signal.SIG_IGN:
        pytest.skip(f"{signum.name} is ignored here, and so in the probe")
    path, pids = model
    proc = _start(f"{path}:hang", "--timeout", "60")
    try:
        child, daemon = _wait_for_pids(pids, 2, proc)
        proc.send_signal(signum)
        code, _, err, _ = _finish(proc, 10)
    finally:
        _kill(proc.pid)
    assert code == 128 + signum  # 130 for Ctrl-C, as shells report it
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("gradlint probe: error: stressed.py:hang: interrupted by")
    assert signum.name in lines[0]
    assert _gone_soon([child, daemon]), "the model's processes outlived the probe"


@pytest.mark.slow
@pytest.mark.skipif(not ON_LINUX, reason="finds adopted processes through /proc")
@pytest.mark.parametrize("factory", ["daemon", "background"])
def test_process_left_behind_is_named_and_stopped_without_waiting(model, factory):
    # daemon: setsid, a session of its own, holding the output pipe (it hung the probe for
    # good); background: in the child's session, also holding the pipe (it ran to --timeout).
    path, pids = model
    proc = _start(f"{path}:{factory}", "--format", "json", "--timeout", "8")
    code, out, err, took = _finish(proc, 20)
    (left,) = _read_pids(pids)
    assert code == 0, err
    assert took < 8
    assert '"model_class": "Linear"' in out
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith(f"gradlint probe: warning: stressed.py:{factory} left")
    assert f"pid {left}:" in lines[0] and "time.sleep(60)" in lines[0]
    assert _gone_soon([left])


@pytest.mark.slow
@pytest.mark.skipif(not ON_LINUX, reason="finds adopted processes through /proc")
def test_timeout_stops_a_daemon_that_left_the_session(model):
    path, pids = model
    proc = _start(f"{path}:daemon_then_hang", "--timeout", "3")
    code, _, err, took = _finish(proc, 15)
    assert code == 124
    assert "did not finish within 3 s" in err and len(err.strip().splitlines()) == 1
    assert took < 8
    assert _gone_soon(_read_pids(pids))


@pytest.mark.slow
def test_output_is_kept_as_a_bounded_tail(model):
    # The probe's own peak memory, from inside it: what it held of the child's output.
    path, _ = model
    script = textwrap.dedent(
        f"""\
        import resource, sys
        from gradlint.cli import main
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        try:
            main(["probe", {f"{path}:chatty"!r}])
        except SystemExit as exc:
            code = exc.code
        grown = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
        print(code, grown * (1 if sys.platform == "darwin" else 1024))
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    code, grown = map(int, done.stdout.split())
    assert code == 3
    assert "ended without a result (exit status 5): last words before exit" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
    # It printed 128 MiB; a tail of 64 KiB leaves the probe's own memory where it was.
    assert grown < 32 * 2**20, f"the probe grew by {grown / 2**20:.0f} MiB"


@pytest.mark.parametrize(
    "target, message",
    [
        ("data.txt:make", "data.txt is not a Python file (.py)"),
        ("models:make", "models is a folder, not a .py file"),
        ("weird.py:make", "weird.py is a folder, not a .py file"),
    ],
)
def test_target_that_is_not_a_python_file_is_a_usage_error(tmp_path, target, message):
    pytest.importorskip("torch")
    (tmp_path / "data.txt").write_text("def make():\n    pass\n")
    (tmp_path / "models").mkdir()
    (tmp_path / "weird.py").mkdir()
    done = invoke_cli("probe", target, cwd=tmp_path)
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("gradlint probe: error: target ") and message in lines[0]
    assert "Error" not in lines[0]


def test_child_refuses_a_file_python_cannot_import(tmp_path):
    pytest.importorskip("torch")
    from gradlint.probe.loading import ProbeError, import_user_module

    data = tmp_path / "data.txt"
    data.write_text("def make():\n    pass\n")
    with pytest.raises(ProbeError, match=r"data\.txt is not a Python file") as raised:
        import_user_module(data)
    assert raised.value.usage


def test_plot_without_matplotlib_stops_before_the_model_runs(tmp_path, monkeypatch):
    pytest.importorskip("torch")
    from gradlint.probe.command import probe_command

    # The model would leave this file behind if it ran.
    ran = tmp_path / "ran"
    (tmp_path / "net.py").write_text(
        f"from torch import nn\n\n\ndef build():\n    open({str(ran)!r}, 'w').close()\n"
        "    return nn.Linear(4, 2)\n"
    )
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    chart = tmp_path / "flow.png"
    result = CliRunner().invoke(
        probe_command, [f"{tmp_path / 'net.py'}:build", "--plot", str(chart)]
    )
    assert result.exit_code == 2, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert result.stderr.strip() == (
        "gradlint probe: error: --plot needs matplotlib: pip install 'torch-gradlint[probe]'"
    )
    assert not ran.exists() and not chart.exists()


def test_plot_that_cannot_import_matplotlib_late_is_one_usage_error(tmp_path, monkeypatch):
    from gradlint.probe import EXIT_USAGE
    from gradlint.probe.runner import ProbeFailure
    from gradlint.probe.session import _plot

    monkeypatch.setitem(sys.modules, "matplotlib", None)
    with pytest.raises(ProbeFailure, match="--plot needs matplotlib") as raised:
        _plot({"layers": []}, tmp_path / "flow.png", None)
    assert raised.value.exit_code == EXIT_USAGE
