"""opencode, Claude Code and Continue CLI (real npm packages), connected by ``llmswitch connect``, send what llmswitch selected.

Each tool is installed once from npm into the harness cache (keyed by version), run
non-interactively with telemetry and update checks off and a timeout, against the real
LiteLLM proxy behind the recording pass-through. Asserted at the server: the path, the
model and the credential of every model request; then ``llmswitch use`` another model and
the tool's next run follows with no other step.
Opt-in: ``LLMSWITCH_INTEGRATION=1 pytest -m integration tests/integration/test_tools_npm.py``.
"""

from __future__ import annotations

import json

import pytest
from harness import npm_tool, quiet_env, requests_of, run_tool
from runcli import cli_command

pytestmark = pytest.mark.integration

NPM_VERSIONS = {"opencode-ai": "1.18.33", "@anthropic-ai/claude-code": "2.1.332", "@continuedev/cli": "1.5.47"}
"""What this file installs (docs/connect.md's rows cite these; tests/unit/test_docs.py compares); ``LLMSWITCH_IT_<PACKAGE>_VERSION`` overrides."""


def tool(package: str, executable: str):
    return npm_tool(package, executable, NPM_VERSIONS[package])


def work_dir(tmp_path):
    work = tmp_path / "work"
    work.mkdir(exist_ok=True)
    return work


def test_opencode_uses_the_selection_and_follows_use(through_recorder, recorder, real_server, run_cli, tmp_path,
                                                     monkeypatch):
    opencode = tool("opencode-ai", "opencode")
    home, use = through_recorder
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))  # where quiet_env points opencode
    done = run_cli("connect", "opencode")
    assert done.returncode == 0, done.stderr
    assert "llmswitch exec -- opencode" in done.stdout
    config = json.loads((home / ".config" / "opencode" / "opencode.json").read_text())
    assert real_server.key not in json.dumps(config)

    def ask():
        argv = [*cli_command(), "exec", "--", str(opencode), "run", "Say OK."]
        return run_tool(argv, quiet_env(home), cwd=work_dir(tmp_path), timeout=120)

    seen = requests_of(recorder, ask, "opencode")
    assert {s.path for s in seen} == {"/v1/chat/completions"}
    assert {s.model for s in seen} == {real_server.model}  # titles too: small_model is the same model
    assert {s.auth for s in seen} == {f"Bearer {real_server.key}"}

    use(real_server.model2)
    seen = requests_of(recorder, ask, "opencode after the switch")
    assert {s.model for s in seen} == {real_server.model2}
    assert "opencode: matches the selection" in run_cli("connections").stdout


def test_claude_code_uses_the_selection_and_follows_use(through_recorder, recorder, real_server, run_cli, tmp_path):
    claude = tool("@anthropic-ai/claude-code", "claude")
    home, use = through_recorder
    done = run_cli("connect", "claude-code")
    assert done.returncode == 0, done.stderr
    assert "/v1/messages" in done.stdout and "llmswitch exec" not in done.stdout
    settings = (home / ".claude" / "settings.json").read_text()
    assert real_server.key not in settings and json.loads(settings)["apiKeyHelper"].endswith("key get it")

    def ask():  # started directly: the key comes from apiKeyHelper (llmswitch key get it)
        return run_tool([str(claude), "-p", "Say OK."], quiet_env(home), cwd=work_dir(tmp_path), timeout=120)

    seen = requests_of(recorder, ask, "claude")
    assert {s.path.partition("?")[0] for s in seen} <= {"/v1/messages", "/v1/messages/count_tokens"}
    assert any(s.path.startswith("/v1/messages") for s in seen)
    assert {s.model for s in seen} == {real_server.model}  # the haiku/small-fast model is the same one
    assert {s.auth for s in seen} <= {f"Bearer {real_server.key}", real_server.key}

    use(real_server.model2)
    seen = requests_of(recorder, ask, "claude after the switch")
    assert {s.model for s in seen} == {real_server.model2}
    assert "claude-code: matches the selection" in run_cli("connections").stdout


def test_continue_cli_uses_the_selection_and_follows_use(through_recorder, recorder, real_server, run_cli,
                                                         tmp_path):
    cn = tool("@continuedev/cli", "cn")
    home, use = through_recorder
    done = run_cli("connect", "continue-cli")
    assert done.returncode == 0, done.stderr
    assert "llmswitch exec -- cn" in done.stdout
    assert real_server.key not in (home / ".continue" / "config.yaml").read_text()

    def ask():
        argv = [*cli_command(), "exec", "--", str(cn), "-p", "Say OK."]
        return run_tool(argv, quiet_env(home), cwd=work_dir(tmp_path), timeout=120)

    seen = requests_of(recorder, ask, "cn")
    assert {s.path for s in seen} == {"/v1/chat/completions"}
    assert {s.model for s in seen} == {real_server.model}
    assert {s.auth for s in seen} == {f"Bearer {real_server.key}"}

    use(real_server.model2)
    seen = requests_of(recorder, ask, "cn after the switch")
    assert {s.model for s in seen} == {real_server.model2}
    assert "continue-cli: matches the selection" in run_cli("connections").stdout


def test_claude_code_is_refused_for_a_server_without_messages(chat_only_selected, run_cli):
    """A chat-only server (404 on /v1/messages) is refused before anything is written, naming one that serves it."""
    home = chat_only_selected
    done = run_cli("connect", "claude-code")
    assert done.returncode == 1
    assert "needs Anthropic Messages" in done.stderr and "nothing was written" in done.stderr
    assert not (home / ".claude" / "settings.json").exists()


def test_exec_hands_claude_code_the_anthropic_environment(recorder, real_server, run_cli, tmp_path, monkeypatch):
    """No settings.json at all: ``llmswitch exec -- claude`` alone points it at a LiteLLM gateway's Messages route."""
    claude = tool("@anthropic-ai/claude-code", "claude")
    home = tmp_path / "tool-home"
    monkeypatch.setenv("HOME", str(home))
    assert run_cli("providers", "add", "gw", "--preset", "litellm", "--base-url", recorder.url + "/v1").returncode == 0
    assert run_cli("key", "set", "gw", input=real_server.key).returncode == 0
    assert run_cli("use", f"gw/{real_server.model}").returncode == 0

    def ask():
        argv = [*cli_command(), "exec", "--", str(claude), "-p", "Say OK."]
        return run_tool(argv, quiet_env(home), cwd=work_dir(tmp_path), timeout=120)

    seen = requests_of(recorder, ask, "claude through exec")
    assert {s.path.partition("?")[0] for s in seen} <= {"/v1/messages", "/v1/messages/count_tokens"}
    assert {s.model for s in seen} == {real_server.model}
    assert {(s.auth_header, s.auth) for s in seen} == {("authorization", f"Bearer {real_server.key}")}  # AUTH_TOKEN
    assert not (home / ".claude" / "settings.json").exists() or "ANTHROPIC" not in (
        home / ".claude" / "settings.json").read_text()
