"""``connect TOOL --via relay``: the tool is written once to point at the relay (its address, the relay token
through the tool's own key indirection, the role as its model); a switch never rewrites it, yet reaches it;
``connections --check`` and ``doctor`` say the command that starts a relay that is not running."""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
import tomllib

import pytest
from relayhelp import anthropic_like, openai_routes, provider_toml, relay_running, use, write_config

from llmswitch.store import relaystate

CLAUDE_KEY = "sk-test-ant-key-000000000002"


@pytest.fixture
def providers(upstream, config_dir, monkeypatch, tool_home):
    one = anthropic_like(upstream(), CLAUDE_KEY)
    two = anthropic_like(upstream(), CLAUDE_KEY)
    plain = openai_routes(upstream(), None)
    monkeypatch.setenv("CLAUDE_KEY", CLAUDE_KEY)
    write_config(config_dir, provider_toml("one", one.url + "/v1", kind="anthropic", key_env="CLAUDE_KEY")
                 + provider_toml("two", two.url + "/v1", kind="anthropic", key_env="CLAUDE_KEY")
                 + provider_toml("plain", plain.url + "/v1"))
    use("one/claude-one")
    return {"one": one, "two": two, "plain": plain, "home": tool_home}


def test_codex_via_a_stopped_relay_is_written_once_and_the_checks_say_how_to_start_it(providers, run_cli):
    done = run_cli("connect", "codex", "--via", "relay")
    assert done.returncode == 0, done.stderr
    assert "is not running — start it: llmswitch relay" in done.stdout
    assert "export LLMSWITCH_RELAY_TOKEN=" in done.stdout
    path = providers["home"] / ".codex" / "config.toml"
    text = path.read_text()
    data = tomllib.loads(text)
    assert data["model"] == "default"
    assert f"http://127.0.0.1:{relaystate.DEFAULT_PORT}/v1" in text and "LLMSWITCH_RELAY_TOKEN" in text
    assert "sk-" not in text and "llmswitch-relay-" not in text  # a reference, never a key or the token
    checked = run_cli("connections", "--check")
    assert checked.returncode != 0
    assert f"the relay at http://127.0.0.1:{relaystate.DEFAULT_PORT} is not running — start it: llmswitch relay" \
        in checked.stdout + checked.stderr
    doctor = run_cli("doctor")
    assert "is not running" in doctor.stdout + doctor.stderr and "start it: llmswitch relay" in doctor.stdout + doctor.stderr
    assert run_cli("use", "plain/m1").returncode == 0
    assert path.read_text() == text  # a switch never rewrites a tool pointed at the relay


def test_claude_code_via_a_running_relay_is_verified_and_follows_every_switch(providers):
    from llmswitch.relay import token as relay_token
    from llmswitch.tools.connect import engine

    with relay_running(token=relay_token.ensure()) as relay:
        relaystate.started("127.0.0.1", relay.port)  # as `llmswitch relay` records it
        report = engine.connect("claude-code", via="relay")
        assert report.verdicts and all(v.ok for v in report.verdicts)
        settings = json.loads((providers["home"] / ".claude" / "settings.json").read_text())
        assert settings["env"]["ANTHROPIC_BASE_URL"] == relay.url
        assert settings["env"]["ANTHROPIC_MODEL"] == "default"
        helper = settings["apiKeyHelper"]
        assert shlex.split(helper)[-2:] == ["relay", "token"]
        token = subprocess.run(shlex.split(helper), capture_output=True, text=True, env=dict(os.environ)).stdout.strip()
        import anthropic  # here, not at the top: every worker would pay its ~1.5 s import at collection

        client = anthropic.Anthropic(base_url=settings["env"]["ANTHROPIC_BASE_URL"], api_key=token)
        ask = {"model": settings["env"]["ANTHROPIC_MODEL"], "max_tokens": 8, "messages": [{"role": "user",
                                                                                              "content": "hi"}]}
        first = client.messages.with_raw_response.create(**ask)
        use("two/claude-two")
        assert engine.follow() == []
        second = client.messages.with_raw_response.create(**ask)
        relaystate.stopped()
    assert first.headers["x-llmswitch-served-by"] == "one/claude-one"
    assert second.headers["x-llmswitch-served-by"] == "two/claude-two"
    assert json.loads((providers["home"] / ".claude" / "settings.json").read_text()) == settings
    assert providers["two"].requests_to("/v1/messages")[-1].headers["x-api-key"] == CLAUDE_KEY
    reports = engine.status(check=False)
    assert reports[0].matches, reports[0].drift


def test_aider_via_a_running_relay_runs_with_the_relay_token_and_follows_a_switch(providers, run_cli_process):
    """aider reads a fixed variable its launcher sets: ``exec --via relay`` sets it to the relay token (never a
    provider key), the base URL to the relay and the model to the role; a switch reaches the next run unchanged."""
    import yaml

    from llmswitch.relay import token as relay_token
    from llmswitch.tools.connect import engine

    asks = ("import os, openai; c = openai.OpenAI(); r = c.chat.completions.with_raw_response.create("
            "model=os.environ['OPENAI_MODEL'], messages=[{'role': 'user', 'content': 'hi'}]); "
            "print(r.headers['x-llmswitch-served-by'])")
    use("plain/m1")
    with relay_running(token=relay_token.ensure()) as relay:
        relaystate.started("127.0.0.1", relay.port)
        report = engine.connect("aider", via="relay")
        assert report.verdicts and all(v.ok for v in report.verdicts)
        assert report.launch == "llmswitch exec --via relay -- aider"
        path = providers["home"] / ".aider.conf.yml"
        text = path.read_text()
        assert yaml.safe_load(text)["openai-api-base"] == relay.v1 and yaml.safe_load(text)["model"] == "openai/default"
        env = {k: v for k, v in os.environ.items() if not k.startswith("OPENAI_")}
        first = run_cli_process("exec", "--via", "relay", "--", sys.executable, "-c", asks, env=env)
        assert first.returncode == 0, first.stderr
        use("two/claude-two")
        second = run_cli_process("exec", "--via", "relay", "--", sys.executable, "-c",
                                 "import os; print(os.environ['OPENAI_API_KEY'].startswith('llmswitch-relay-'), "
                                 "os.environ['OPENAI_BASE_URL'], os.environ['OPENAI_MODEL'])", env=env)
        relaystate.stopped()
    assert first.stdout.strip() == "plain/m1"
    assert second.stdout.split() == ["True", relay.v1, "default"]
    assert path.read_text() == text  # a switch never rewrites a tool pointed at the relay
    assert "sk-" not in text and "llmswitch-relay-" not in text


def test_exec_via_a_stopped_relay_still_runs_and_says_how_to_start_it(providers, run_cli_process):
    done = run_cli_process("exec", "--via", "relay", "--", sys.executable, "-c",
                           "import os; print(os.environ['OPENAI_BASE_URL'], os.environ['OPENAI_MODEL'])")
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == [f"http://127.0.0.1:{relaystate.DEFAULT_PORT}/v1", "default"]
    assert f"the relay at http://127.0.0.1:{relaystate.DEFAULT_PORT} is not running — start it: llmswitch relay" \
        in done.stderr
