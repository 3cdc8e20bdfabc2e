"""The opt-in integration tier: a real OpenAI-compatible server (LiteLLM proxy, mock models).

Run with ``pytest -m integration``. The server is installed (once, into its own
venv) and started by ``scripts/integration-server.sh``; when that is impossible
the tests are skipped with the reason, unless ``CI`` is set, where they fail.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from harness import Recorder

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "integration-server.sh"


@dataclass(frozen=True)
class RealServer:
    url: str
    """``http://127.0.0.1:PORT`` (the proxy answers under ``/v1`` and at the root)."""
    key: str
    """The proxy's master key (a fake string; the models are mocks)."""
    model: str
    model2: str = "fake-gpt-2"
    """A second mock model, for tests that switch."""



@pytest.fixture
def run_cli(isolated):
    """The integration tier runs ``llmswitch`` as the real tools meet it: a child process every time (``exec``
    replaces its process, tools start it as a credential helper), never the unit tier's in-process runner."""
    from runcli import run_in_subprocess

    return run_in_subprocess

@pytest.fixture(scope="session")
def real_server() -> Iterator[RealServer]:
    run_dir = tempfile.mkdtemp(prefix="llmswitch-it-")
    env = {**os.environ, "LLMSWITCH_IT_DIR": run_dir}
    try:
        done = subprocess.run(["bash", str(SCRIPT), "start"], env=env, capture_output=True, text=True, timeout=600)
    except (OSError, subprocess.TimeoutExpired) as exc:
        done = subprocess.CompletedProcess([], 1, "", str(exc))
    if done.returncode != 0:
        reason = (f"could not install or start the LiteLLM proxy (scripts/integration-server.sh start: "
                  f"{done.stderr.strip()[-800:]}); run `scripts/integration-server.sh install` with PyPI reachable, "
                  f"then `pytest -m integration`")
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)
    values = dict(line.split("=", 1) for line in done.stdout.splitlines() if "=" in line)
    try:
        yield RealServer(values["URL"], values["KEY"], values["MODEL"], values.get("MODEL2", "fake-gpt-2"))
    finally:
        subprocess.run(["bash", str(SCRIPT), "stop"], env=env, capture_output=True, timeout=60)


# --- llama.cpp: a real llama-server (scripts/llamacpp-server.sh) -------------------------------

LLAMACPP_SCRIPT = SCRIPT.with_name("llamacpp-server.sh")
USER_CACHE = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
"""Where the script builds (once per machine); read at import, before the unit-test isolation points
XDG_CACHE_HOME at a temp dir."""
LLAMACPP_KEY = "sk-test-llamacpp-key-0021"


@dataclass(frozen=True)
class LlamaCpp:
    url: str
    """``http://127.0.0.1:PORT/v1``, the base URL a user configures."""
    port: int
    model: str
    """The alias llama-server serves the tiny random-weights model under (``tiny-random-llama``)."""
    key: str | None
    """The key it was started with (a fake string); None when it takes none."""


def _llamacpp(key: str | None, ctx: int | None = None) -> Iterator[LlamaCpp]:
    run_dir = tempfile.mkdtemp(prefix="llmswitch-llamacpp-")
    env = {**os.environ, "LLMSWITCH_LLAMACPP_DIR": run_dir, "XDG_CACHE_HOME": USER_CACHE}
    if ctx is not None:
        env["LLMSWITCH_LLAMACPP_CTX"] = str(ctx)  # llama-server's --ctx-size
    if key:
        env["LLMSWITCH_LLAMACPP_KEY"] = key  # the script's --api-key, kept out of argv
    try:  # the first run builds llama-server (about ten minutes on two cores); later ones start in a second
        done = subprocess.run(["bash", str(LLAMACPP_SCRIPT), "start"], env=env, capture_output=True, text=True,
                              timeout=3600)
    except (OSError, subprocess.TimeoutExpired) as exc:
        done = subprocess.CompletedProcess([], 1, "", str(exc))
    if done.returncode != 0:
        reason = (f"could not build or start llama.cpp's llama-server (scripts/llamacpp-server.sh start: "
                  f"{done.stderr.strip()[-800:]}); run `scripts/llamacpp-server.sh install` with PyPI reachable, "
                  f"then `pytest -m integration`")
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)
    values = dict(line.split("=", 1) for line in done.stdout.splitlines() if "=" in line)
    url = values["URL"]
    try:
        yield LlamaCpp(url + "/v1", int(url.rsplit(":", 1)[1]), values["MODEL"], values.get("KEY"))
    finally:
        subprocess.run(["bash", str(LLAMACPP_SCRIPT), "stop"], env=env, capture_output=True, timeout=60)


@pytest.fixture(scope="session")
def llamacpp() -> Iterator[LlamaCpp]:
    """A real llama.cpp ``llama-server`` that takes no key."""
    yield from _llamacpp(None)


@pytest.fixture(scope="session")
def llamacpp_512() -> Iterator[LlamaCpp]:
    """A keyless real ``llama-server`` started with ``--ctx-size 512`` (the tiny model says it was trained on 4096)."""
    yield from _llamacpp(None, ctx=512)


@pytest.fixture(scope="session")
def llamacpp_keyed() -> Iterator[LlamaCpp]:
    """A real llama.cpp ``llama-server`` started with ``--api-key`` (:data:`LLAMACPP_KEY`)."""
    yield from _llamacpp(LLAMACPP_KEY)


# --- connected tools (tests/integration/harness.py) ---------------------------------------------

@pytest.fixture
def recorder(real_server) -> Iterator[Recorder]:
    """A recording pass-through in front of the real server (one per test: ``seen`` starts empty)."""
    from harness import Recorder

    server = Recorder(real_server.url)
    try:
        yield server
    finally:
        server.close()


@pytest.fixture
def through_recorder(recorder, real_server, run_cli, tmp_path, monkeypatch):
    """llmswitch configured with provider ``it`` at the recorder (key in the test keyring), ``it/MODEL`` active.

    Returns ``(home, use)``: ``home`` is the throw-away HOME the tools run with (set in
    os.environ for the test, so ``llmswitch connect`` writes there); ``use(model)`` runs ``llmswitch use``.
    """
    home = tmp_path / "tool-home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    done = run_cli("providers", "add", "it", "--base-url", recorder.url + "/v1", "--name", "integration")
    assert done.returncode == 0, done.stderr
    done = run_cli("key", "set", "it", input=real_server.key)
    assert done.returncode == 0, done.stderr

    def use(model: str) -> None:
        done = run_cli("use", f"it/{model}")
        assert done.returncode == 0, done.stderr

    use(real_server.model)
    return home, use


@pytest.fixture
def chat_only_selected(through_recorder, run_cli, upstream):
    """A server that serves only chat completions (404 on /responses and /v1/messages), made the selection;
    yields the throw-away HOME the tools' files would go to."""
    from upstreams import Reply, models_body

    home, _ = through_recorder
    chat_only = upstream()
    chat_only.get("/v1/models", Reply.json(models_body(["m1"])))
    chat_only.post("/v1/chat/completions", Reply.json({"choices": []}))
    assert run_cli("providers", "add", "chatonly", "--base-url", chat_only.url + "/v1", "--key-source",
                   "none").returncode == 0
    assert run_cli("use", "chatonly/m1").returncode == 0
    return home
