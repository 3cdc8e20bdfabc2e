"""A wedged Secret Service: the D-Bus name ``org.freedesktop.secrets`` is owned, and nothing ever answers.

Each test gets a private session bus (``dbus-daemon``) with tests/support/wedged_secret_service.py
on it — a real D-Bus service, no mock. Every key operation must give up after the bound
(3 s) with the one sentence for a keyring that did not answer, exit 4 — not hang. The CLI is run
as a subprocess with a hard timeout, which is what fails the test if it hangs (no timing is
asserted; benchmarks/bench_keys.py measures the bound).
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from runcli import cli_command

from upstreams import Reply, bearer, models_body

pytestmark = [pytest.mark.secretservice,  # keep the real keyring selection (no test keyring)
              pytest.mark.skipif(shutil.which("dbus-daemon") is None, reason="needs dbus-daemon (apt-get install "
                                                                           "dbus-daemon)")]
SUPPORT = Path(__file__).parents[1] / "support"
SENTENCE = "the keyring did not answer within 3 s"
HANG_GUARD = 30  # seconds: far above the bound, so only a real hang trips it


@pytest.fixture
def wedged_bus(tmp_path, monkeypatch):
    """A private session bus on which org.freedesktop.secrets is owned by a process that never answers."""
    daemon = subprocess.Popen(["dbus-daemon", "--session", "--nofork", "--nopidfile", "--print-address=1"],
                              stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    address = daemon.stdout.readline().strip() if daemon.stdout else ""
    env = {**os.environ, "DBUS_SESSION_BUS_ADDRESS": address}
    env.pop("PYTHON_KEYRING_BACKEND", None)
    wedged = subprocess.Popen([sys.executable, str(SUPPORT / "wedged_secret_service.py")], env=env,
                              stdout=subprocess.PIPE, text=True)
    try:
        assert wedged.stdout is not None and wedged.stdout.readline().strip() == "ready"
        monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", address)
        monkeypatch.delenv("PYTHON_KEYRING_BACKEND", raising=False)
        monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg-config"))  # no keyringrc.cfg of the host's
        yield address
    finally:
        for process in (wedged, daemon):
            process.send_signal(signal.SIGTERM)
            process.wait(timeout=10)


@pytest.fixture
def keyed_box(config_dir, upstream):
    """A provider on 127.0.0.1 whose key lives in the keyring."""
    server = upstream()
    server.get("/v1/models", bearer("sk-test-wedged-0001", Reply.json(models_body(["m1"]))))
    config_dir.mkdir(parents=True, exist_ok=True)
    (config_dir / "config.toml").write_text(f'[providers.box]\nbase_url = "{server.url}/v1"\nkey_source = "keyring"\n')
    return server


def cli(*args: str, input: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run([*cli_command(), *args], input=input, capture_output=True, text=True, timeout=HANG_GUARD,
                          env=dict(os.environ))


def said_it(done: subprocess.CompletedProcess[str]) -> None:
    assert done.returncode == 4, (done.returncode, done.stdout, done.stderr)
    assert SENTENCE in done.stderr and "Traceback" not in done.stderr, done.stderr
    assert len(done.stderr.strip().splitlines()) == 1, done.stderr


def remember_secret_service() -> None:
    """What an earlier run on this machine left: the Secret Service worked (key get's direct path)."""
    state = Path(os.environ["LLMSWITCH_STATE_DIR"])
    state.mkdir(parents=True, exist_ok=True, mode=0o700)
    (state / "keyring-backend").write_text("keyring.backends.SecretService.Keyring\n")
    (state / "keyring-backend").chmod(0o600)


@pytest.mark.parametrize("remembered", [False, True], ids=["keyring-chooses", "remembered-secret-service"])
def test_key_get_gives_up_with_the_sentence(wedged_bus, keyed_box, remembered):
    if remembered:
        remember_secret_service()
    said_it(cli("key", "get", "box"))
    said_it(cli("key", "get", "box"))  # again, with the key reference cached: the hot path is bounded too


@pytest.mark.parametrize("remembered", [False, True], ids=["keyring-chooses", "remembered-secret-service"])
def test_key_set_and_rm_give_up_with_the_sentence(wedged_bus, keyed_box, remembered):
    if remembered:
        remember_secret_service()
    said_it(cli("key", "set", "box", input="sk-test-wedged-0001\n"))
    said_it(cli("key", "rm", "box"))


def test_an_env_var_still_works_when_the_keyring_does_not_answer(wedged_bus, config_dir):
    """As for any keyring that cannot be used: the conventional env var after it is found (once the bound passed)."""
    remember_secret_service()
    assert cli("key", "get", "groq").returncode == 4  # caches groq's key reference
    os.environ["GROQ_API_KEY"] = "sk-test-from-env-0002"
    try:
        done = cli("key", "get", "groq")
    finally:
        del os.environ["GROQ_API_KEY"]
    assert (done.returncode, done.stdout) == (0, "sk-test-from-env-0002\n"), done.stderr


def test_probe_reports_the_keyring_and_sends_nothing(wedged_bus, keyed_box):
    done = cli("probe", "box")
    assert done.returncode != 0 and SENTENCE in done.stdout + done.stderr, (done.stdout, done.stderr)
    assert "Traceback" not in done.stderr
    assert not keyed_box.saw_header("authorization")


def test_doctor_names_the_keyring_that_did_not_answer(wedged_bus, keyed_box):
    remember_secret_service()
    done = cli("doctor")
    keyring_line = next(line for line in done.stdout.splitlines() if line.split()[1:2] == ["keyring"])
    assert keyring_line.startswith("warn") and SENTENCE in keyring_line, done.stdout
    assert "Traceback" not in done.stderr


def test_the_pickers_key_reads_give_up_too(wedged_bus, keyed_box, monkeypatch):
    """The picker and the provider screen read keys with keys.stored/keys.backend in a worker thread."""
    from llmswitch.store import keyget, keys

    monkeypatch.setattr(keyget, "_silent_until", 0.0)  # this process's memory of a silent keyring, reset after
    remember_secret_service()
    caught: list[BaseException] = []

    def read() -> None:
        try:
            keys.stored("box")
        except BaseException as exc:  # handed to the test's thread
            caught.append(exc)

    worker = threading.Thread(target=read, daemon=True)
    worker.start()
    worker.join(HANG_GUARD)
    assert not worker.is_alive() and len(caught) == 1 and isinstance(caught[0], keys.KeyringUnavailable)
    assert SENTENCE in str(caught[0]) and caught[0].exit_code == 4
    with pytest.raises(keys.KeyringUnavailable, match=SENTENCE):  # not asked again while it is known to be silent
        keys.stored("box")
