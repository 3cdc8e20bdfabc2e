"""llmswitch connect claude: settings.json's env block and apiKeyHelper; Anthropic Messages or nothing."""

from __future__ import annotations

import json
import shlex
import subprocess

import pytest

from upstreams import FAKE_KEY, Reply, openai_like

MESSAGE_OK = Reply.json({"id": "msg_1", "type": "message", "role": "assistant", "model": "m",
                         "content": [{"type": "text", "text": "OK"}], "stop_reason": "end_turn",
                         "usage": {"input_tokens": 1, "output_tokens": 1}})
ORIGINAL = '{\n  "permissions": {"allow": ["Bash(ls)"]},\n  "env": {"FOO": "bar"},\n  "apiKeyHelper": "my-helper"\n}\n'


@pytest.fixture
def home(tmp_path, monkeypatch):
    home = tmp_path / "tool-home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.delenv("CLAUDE_CONFIG_DIR", raising=False)
    return home


@pytest.fixture
def gateway(upstream, run_cli, home):
    """A LiteLLM gateway (preset litellm) that serves /v1/messages and the chat route."""
    server = openai_like(upstream())
    server.post("/v1/messages", MESSAGE_OK)
    assert run_cli("providers", "add", "gw", "--preset", "litellm", "--base-url", server.url + "/v1",
                   "--key-source", "keyring").returncode == 0
    assert run_cli("key", "set", "gw", input=FAKE_KEY).returncode == 0
    assert run_cli("use", "gw/claude-sonnet-4-5").returncode == 0
    return server


def settings(home):
    return home / ".claude" / "settings.json"


def test_connect_sets_env_and_the_key_helper_and_disconnect_restores(gateway, run_cli, home):
    path = settings(home)
    path.parent.mkdir()
    path.write_text(ORIGINAL)
    done = run_cli("connect", "claude-code")
    assert done.returncode == 0, done.stderr
    text = path.read_text()
    assert FAKE_KEY not in text
    data = json.loads(text)
    assert data["permissions"] == {"allow": ["Bash(ls)"]} and data["env"]["FOO"] == "bar"
    assert data["env"]["ANTHROPIC_BASE_URL"] == gateway.url  # Claude Code appends /v1/messages
    assert data["env"]["ANTHROPIC_MODEL"] == "claude-sonnet-4-5"
    assert data["env"]["ANTHROPIC_DEFAULT_HAIKU_MODEL"] == data["env"]["ANTHROPIC_SMALL_FAST_MODEL"] == "claude-sonnet-4-5"
    helper = shlex.split(data["apiKeyHelper"])
    assert helper[-3:] == ["key", "get", "gw"]
    printed = subprocess.run(["/bin/sh", "-c", data["apiKeyHelper"]], capture_output=True, text=True, timeout=60)
    assert printed.stdout.strip() == FAKE_KEY  # what Claude Code gets when it runs the helper
    posted = gateway.requests_to("/v1/messages")
    assert posted and posted[-1].json()["model"] == "claude-sonnet-4-5"
    assert posted[-1].headers["x-api-key"] == FAKE_KEY
    assert run_cli("disconnect", "claude-code").returncode == 0
    assert path.read_text() == ORIGINAL


def test_the_small_role_is_the_haiku_model_and_use_follows(gateway, run_cli, home):
    assert run_cli("use", "--role", "small", "gw/claude-haiku-4-5").returncode == 0
    assert run_cli("connect", "claude-code", "--role", "small").returncode == 0
    env = json.loads(settings(home).read_text())["env"]
    assert (env["ANTHROPIC_MODEL"], env["ANTHROPIC_DEFAULT_HAIKU_MODEL"]) == ("claude-sonnet-4-5", "claude-haiku-4-5")
    assert run_cli("use", "gw/claude-opus-4-1").returncode == 0
    env = json.loads(settings(home).read_text())["env"]
    assert env["ANTHROPIC_MODEL"] == "claude-opus-4-1"
    done = run_cli("connections", "--json")
    assert json.loads(done.stdout)[0]["matches"] is True
    assert run_cli("disconnect", "claude-code").returncode == 0
    assert not settings(home).exists()


def test_a_provider_without_messages_is_refused_naming_one_that_has_it(upstream, run_cli, home):
    server = openai_like(upstream())  # no /v1/messages: 404
    assert run_cli("providers", "add", "plain", "--base-url", server.url + "/v1").returncode == 0
    assert run_cli("key", "set", "plain", input=FAKE_KEY).returncode == 0
    assert run_cli("use", "plain/gpt-4o").returncode == 0
    done = run_cli("connect", "claude-code")
    assert done.returncode == 1
    assert "Claude Code needs Anthropic Messages and plain does not serve Anthropic Messages" in done.stderr
    assert "nothing was written" in done.stderr and "anthropic" in done.stderr
    assert not settings(home).exists()


def test_claude_config_dir_is_honoured(gateway, run_cli, home, tmp_path):
    other = tmp_path / "claude-elsewhere"
    done = run_cli("connect", "claude-code", env={"CLAUDE_CONFIG_DIR": str(other)})
    assert done.returncode == 0, done.stderr
    assert (other / "settings.json").exists() and not settings(home).exists()
