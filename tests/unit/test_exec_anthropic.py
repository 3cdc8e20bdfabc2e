"""``exec``/``env`` hand Anthropic-protocol tools (Claude Code, the Anthropic SDKs) what they read."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import llmswitch
from llmswitch import api

FAKE = "sk-test-anthropic-not-real-0042"
GATEWAY_FAKE = "sk-test-gateway-not-real-0042"
NAMES = ("ANTHROPIC_BASE_URL", "ANTHROPIC_API_KEY", "ANTHROPIC_AUTH_TOKEN", "ANTHROPIC_MODEL",
         "ANTHROPIC_DEFAULT_HAIKU_MODEL", "ANTHROPIC_SMALL_FAST_MODEL", "OPENAI_API_KEY")
SHOW = "import os, sys, json; print(json.dumps({k: os.environ.get(k) for k in sys.argv[1:]}))"


def exec_env(run, *extra: str, env: dict[str, str] | None = None) -> dict[str, str | None]:
    done = run("exec", *extra, "--", sys.executable, "-c", SHOW, *NAMES, env=env)
    assert done.returncode == 0, done.stderr
    assert FAKE not in done.stderr
    return json.loads(done.stdout)


def test_an_anthropic_selection_sets_the_anthropic_variables(run_cli, run_cli_process):
    run_cli("key", "set", "anthropic", input=FAKE)
    assert run_cli("use", "anthropic/claude-sonnet-4-5").returncode == 0
    got = exec_env(run_cli_process)
    assert got == {"ANTHROPIC_BASE_URL": "https://api.anthropic.com",  # the SDKs append /v1/messages
                   "ANTHROPIC_API_KEY": FAKE, "ANTHROPIC_AUTH_TOKEN": None,  # x-api-key, as llmswitch sends it
                   "ANTHROPIC_MODEL": "claude-sonnet-4-5",
                   "ANTHROPIC_DEFAULT_HAIKU_MODEL": "claude-sonnet-4-5", "ANTHROPIC_SMALL_FAST_MODEL": "claude-sonnet-4-5",
                   "OPENAI_API_KEY": FAKE}


def test_the_small_role_becomes_the_fast_model_only_on_the_same_endpoint(run_cli, run_cli_process):
    run_cli("key", "set", "anthropic", input=FAKE)
    run_cli("use", "anthropic/claude-sonnet-4-5")
    run_cli("use", "--role", "small", "anthropic/claude-haiku-4-5")
    got = exec_env(run_cli_process)
    assert got["ANTHROPIC_MODEL"] == "claude-sonnet-4-5"
    assert got["ANTHROPIC_DEFAULT_HAIKU_MODEL"] == got["ANTHROPIC_SMALL_FAST_MODEL"] == "claude-haiku-4-5"
    run_cli("use", "--role", "small", "ollama/llama3")  # another endpoint: Claude Code sends everything to one
    got = exec_env(run_cli_process)
    assert got["ANTHROPIC_DEFAULT_HAIKU_MODEL"] == got["ANTHROPIC_SMALL_FAST_MODEL"] == "claude-sonnet-4-5"


def test_a_messages_gateway_gets_a_bearer_token_at_its_root(run_cli, run_cli_process):
    assert run_cli("providers", "add", "gw", "--preset", "litellm", "--base-url", "http://127.0.0.1:4999/v1",
                   "--key-source", "keyring").returncode == 0
    run_cli("key", "set", "gw", input=GATEWAY_FAKE)
    assert run_cli("use", "gw/claude-sonnet-4-5").returncode == 0, run_cli("current").stderr
    got = exec_env(run_cli_process)
    assert got["ANTHROPIC_BASE_URL"] == "http://127.0.0.1:4999"
    assert got["ANTHROPIC_AUTH_TOKEN"] == GATEWAY_FAKE and got["ANTHROPIC_API_KEY"] is None  # never both
    assert got["ANTHROPIC_MODEL"] == "claude-sonnet-4-5"


def test_any_other_selection_clears_what_an_earlier_anthropic_one_set(run_cli, run_cli_process):
    run_cli("use", "ollama/llama3")
    inherited = {name: "left-over" for name in NAMES}
    got = exec_env(run_cli_process, env=inherited)
    assert {name: got[name] for name in NAMES if name.startswith("ANTHROPIC")} == dict.fromkeys(NAMES[:-1])
    assert got["OPENAI_API_KEY"] == "llmswitch-keyless"


def test_env_evaluated_by_bash_sets_the_key_through_key_get(run_cli):
    run_cli("key", "set", "anthropic", input=FAKE)
    run_cli("use", "anthropic/claude-sonnet-4-5")
    printed = run_cli("env", "--shell", "bash")
    assert printed.returncode == 0, printed.stderr
    assert FAKE not in printed.stdout and "export ANTHROPIC_API_KEY=\"$(" in printed.stdout
    script = ('export ANTHROPIC_AUTH_TOKEN=stale; eval "$(llmswitch env --shell bash)"; '
              'printf "%s|%s|%s|%s" "$ANTHROPIC_BASE_URL" "$ANTHROPIC_API_KEY" "${ANTHROPIC_AUTH_TOKEN-unset}" '
              '"$ANTHROPIC_MODEL"')
    import subprocess

    bin_dir = str(Path(sys.executable).parent)
    done = subprocess.run(["bash", "-c", script], capture_output=True, text=True, timeout=60,
                          env={**os.environ, "PATH": bin_dir + os.pathsep + os.environ["PATH"]})
    assert done.stdout == f"https://api.anthropic.com|{FAKE}|unset|claude-sonnet-4-5", done.stderr
    dotenv = run_cli("env", "--shell", "dotenv").stdout
    assert "# ANTHROPIC_API_KEY left out" in dotenv and FAKE not in dotenv


def test_env_for_an_openai_selection_unsets_the_anthropic_variables(run_cli):
    run_cli("use", "ollama/llama3")
    printed = run_cli("env", "--shell", "bash").stdout
    unset = next(line for line in printed.splitlines() if line.startswith("unset "))
    assert {"ANTHROPIC_BASE_URL", "ANTHROPIC_API_KEY", "ANTHROPIC_AUTH_TOKEN", "ANTHROPIC_MODEL"} <= set(unset.split())
    assert "ANTHROPIC_BASE_URL=" not in printed


def test_environment_api_needs_the_provider_only_for_gateways():
    from llmswitch.services.switch import switch

    switch("anthropic/claude-sonnet-4-5", check_key=False)
    env = llmswitch.environment(llmswitch.active(), None)
    assert env["ANTHROPIC_BASE_URL"] == "https://api.anthropic.com" and "ANTHROPIC_API_KEY" not in env
    assert set(env) - {"LLMSWITCH_HEADERS", "OPENAI_API_TYPE", "OPENAI_API_VERSION"} <= set(api.OWNED_VARS)


def test_openrouter_is_a_messages_gateway_at_its_api_root(run_cli, run_cli_process):
    run_cli("key", "set", "openrouter", input=GATEWAY_FAKE)
    assert run_cli("use", "openrouter/anthropic/claude-sonnet-4.5").returncode == 0
    got = exec_env(run_cli_process)
    assert got["ANTHROPIC_BASE_URL"] == "https://openrouter.ai/api"  # OpenRouter's documented Claude Code root
    assert got["ANTHROPIC_AUTH_TOKEN"] == GATEWAY_FAKE and got["ANTHROPIC_API_KEY"] is None
    assert got["ANTHROPIC_MODEL"] == "anthropic/claude-sonnet-4.5"


def test_a_plain_openai_compatible_provider_gets_no_anthropic_variables(run_cli, run_cli_process):
    run_cli("key", "set", "groq", input=GATEWAY_FAKE)
    run_cli("use", "groq/llama-3.1-8b-instant")
    got = exec_env(run_cli_process)
    assert all(got[name] is None for name in NAMES if name.startswith("ANTHROPIC"))
    assert got["OPENAI_API_KEY"] == GATEWAY_FAKE


def test_every_variable_set_is_one_api_owns():
    from llmswitch.net import anthropic_env
    from llmswitch.store.selection import ActiveSelection

    sel = ActiveSelection("default", "anthropic", "m", "https://api.anthropic.com/v1", api_kind="anthropic")
    small = ActiveSelection("small", "anthropic", "s", "https://api.anthropic.com/v1", api_kind="anthropic")
    setting = anthropic_env.variables(sel, "k", "https://api.anthropic.com", small)
    assert set(setting) | {"ANTHROPIC_AUTH_TOKEN"} == set(api.ANTHROPIC_VARS) <= set(api.OWNED_VARS)
