"""Issue 14: scripts/with-secret-service.sh leaves no daemon behind, however it ends, and says nothing noisy."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "with-secret-service.sh"
needs_tools = pytest.mark.skipif(not all(shutil.which(t) for t in ("dbus-daemon", "gnome-keyring-daemon", "dbus-send")),
                                 reason="needs dbus-daemon, gnome-keyring-daemon and dbus-send")


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().split(") ")[1][0] != "Z"  # a zombie is gone, only not reaped yet
    except (FileNotFoundError, IndexError):
        return False


def _start(tmp_path: Path) -> tuple[subprocess.Popen[str], list[int]]:
    ready = tmp_path / "pids"
    command = f'echo "$LLMSWITCH_SECRET_SERVICE_PIDS $$" > {ready}; sleep 60'
    script = subprocess.Popen([str(SCRIPT), "sh", "-c", command], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True, start_new_session=True)
    deadline = time.monotonic() + 10
    while not (ready.exists() and ready.read_text().strip()) and time.monotonic() < deadline:
        time.sleep(0.05)
    pids = [int(p) for p in ready.read_text().split()]
    assert len(pids) == 3 and all(_alive(p) for p in pids)  # the bus, the keyring daemon, the command
    return script, pids


def _gone(pids: list[int], within: float = 5.0) -> bool:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if not any(_alive(p) for p in pids):
            return True
        time.sleep(0.1)
    return False


@needs_tools
@pytest.mark.parametrize("how", [signal.SIGKILL, signal.SIGTERM])
def test_no_daemon_outlives_the_script_when_it_is_killed(tmp_path, how):
    script, pids = _start(tmp_path)
    try:
        os.kill(script.pid, how)  # the script itself, as a parent that dies would leave it
        script.wait(timeout=10)
        assert _gone(pids), [p for p in pids if _alive(p)]
    finally:
        for pid in pids:
            if _alive(pid):
                os.kill(pid, signal.SIGKILL)
        try:
            os.killpg(script.pid, signal.SIGKILL)  # the command too, whatever happened
        except ProcessLookupError:
            pass


@needs_tools
def test_a_run_prints_only_what_the_command_prints(tmp_path):
    done = subprocess.run([str(SCRIPT), "sh", "-c", "echo hello; echo $LLMSWITCH_SECRET_SERVICE_PIDS"],
                          capture_output=True, text=True, timeout=30)
    assert done.returncode == 0
    assert done.stderr == ""  # no "Failed to set fd limit"
    lines = done.stdout.splitlines()
    assert lines[0] == "hello"
    assert _gone([int(p) for p in lines[1].split()])


@needs_tools
def test_the_commands_exit_status_is_kept():
    assert subprocess.run([str(SCRIPT), "sh", "-c", "exit 7"], capture_output=True, timeout=30).returncode == 7
