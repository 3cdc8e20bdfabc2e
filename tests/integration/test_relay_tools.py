"""Claude Code and Codex connected ``--via relay`` to a running ``llmswitch relay``, in front of the real LiteLLM
proxy (through the recording pass-through): each sends to the relay with the relay token, the relay forwards
the selection's model with the provider's key, and after ``llmswitch use`` the same running setup — its files
unchanged — reaches the new model.

Opt-in: ``LLMSWITCH_INTEGRATION=1 pytest -m integration tests/integration/test_relay_tools.py``.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import time

import pytest
from harness import npm_tool, quiet_env, requests_of, run_tool
from runcli import cli_command

pytestmark = pytest.mark.integration


@pytest.fixture
def relay(through_recorder, run_cli):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    process = subprocess.Popen([*cli_command(), "relay", "--port", str(port)], stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE, text=True, env=dict(os.environ))
    deadline = time.monotonic() + 30
    while json.loads(run_cli("relay", "status", "--json").stdout)["running"] is not True:
        assert time.monotonic() < deadline and process.poll() is None, process.communicate()
        time.sleep(0.2)
    yield port, run_cli("relay", "token").stdout.strip()
    process.terminate()
    process.wait(timeout=10)


def test_claude_code_via_the_relay_follows_a_switch_without_a_rewrite(through_recorder, recorder, real_server,
                                                                      relay, run_cli, tmp_path):
    from test_tools_npm import NPM_VERSIONS

    claude = npm_tool("@anthropic-ai/claude-code", "claude", NPM_VERSIONS["@anthropic-ai/claude-code"])
    home, use = through_recorder
    port, _ = relay
    done = run_cli("connect", "claude-code", "--via", "relay")
    assert done.returncode == 0, done.stderr
    assert f"verified POST http://127.0.0.1:{port}/v1/messages" in done.stdout
    settings = (home / ".claude" / "settings.json").read_text()
    assert json.loads(settings)["env"]["ANTHROPIC_MODEL"] == "default" and real_server.key not in settings
    work = tmp_path / "work"
    work.mkdir()

    def ask():
        return run_tool([str(claude), "-p", "Say OK."], quiet_env(home), cwd=work, timeout=120)

    seen = requests_of(recorder, ask, "claude via the relay")
    assert {s.model for s in seen} == {real_server.model}
    assert {s.auth for s in seen} <= {f"Bearer {real_server.key}", real_server.key}  # the provider's key upstream
    use(real_server.model2)
    seen = requests_of(recorder, ask, "claude via the relay after the switch")
    assert {s.model for s in seen} == {real_server.model2}
    assert (home / ".claude" / "settings.json").read_text() == settings


def test_codex_via_the_relay_follows_a_switch_without_a_rewrite(through_recorder, recorder, real_server, relay,
                                                                run_cli, tmp_path):
    codex = npm_tool("@openai/codex", "codex")
    home, use = through_recorder
    port, token = relay
    done = run_cli("connect", "codex", "--via", "relay")
    assert done.returncode == 0, done.stderr
    assert f"verified POST http://127.0.0.1:{port}/v1/responses" in done.stdout
    config = (home / ".codex" / "config.toml").read_text()
    work = tmp_path / "work"
    work.mkdir()

    def ask():
        argv = [str(codex), "exec", "--skip-git-repo-check", "--color", "never",
                "-c", "model_providers.llmswitch.request_max_retries=0",
                "-c", "model_providers.llmswitch.stream_max_retries=0", "Say OK."]
        return run_tool(argv, quiet_env(home, LLMSWITCH_RELAY_TOKEN=token), cwd=work, timeout=90)

    seen = requests_of(recorder, ask, "codex via the relay")
    assert {s.model for s in seen} == {real_server.model} and {s.path for s in seen} == {"/v1/responses"}
    use(real_server.model2)
    seen = requests_of(recorder, ask, "codex via the relay after the switch")
    assert {s.model for s in seen} == {real_server.model2}
    assert (home / ".codex" / "config.toml").read_text() == config


def test_aider_via_the_relay_follows_a_switch_without_a_rewrite(through_recorder, recorder, real_server, relay,
                                                                run_cli, tmp_path):
    from harness import pip_tool

    aider = pip_tool("aider-chat", "aider")
    home, use = through_recorder
    port, token = relay
    done = run_cli("connect", "aider", "--via", "relay")
    assert done.returncode == 0, done.stderr
    assert "llmswitch exec --via relay -- aider" in done.stdout
    assert f"verified POST http://127.0.0.1:{port}/v1/chat/completions" in done.stdout
    config = (home / ".aider.conf.yml").read_text()
    assert "openai/default" in config and f"127.0.0.1:{port}/v1" in config
    assert real_server.key not in config and token not in config
    work = tmp_path / "work"
    work.mkdir()

    def ask():
        argv = [*cli_command(), "exec", "--via", "relay", "--", str(aider), "--message", "Say OK.", "--yes-always",
                "--no-git", "--no-auto-commits", "--no-show-model-warnings", "--no-check-update",
                "--analytics-disable", "--no-pretty", "--no-fancy-input", "--no-stream", "--map-tokens", "0"]
        return run_tool(argv, quiet_env(home), cwd=work, timeout=150)

    seen = requests_of(recorder, ask, "aider via the relay")
    assert {s.path for s in seen} == {"/v1/chat/completions"}
    assert {s.model for s in seen} == {real_server.model}
    assert {s.auth for s in seen} == {f"Bearer {real_server.key}"}  # the provider's key upstream, not the token
    use(real_server.model2)
    seen = requests_of(recorder, ask, "aider via the relay after the switch")
    assert {s.model for s in seen} == {real_server.model2}
    assert (home / ".aider.conf.yml").read_text() == config
