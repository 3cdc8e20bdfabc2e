"""Pi, Gemini CLI, Qwen Code and Kilo CLI (real npm packages), connected by ``llmswitch connect``, send what llmswitch selected.

Each tool is installed once from npm into the harness cache at the version its module says was verified
(:attr:`llmswitch.tools.connect.base.Tool.verified`: one home for the pin; ``LLMSWITCH_IT_<PACKAGE>_VERSION``
overrides), run non-interactively with telemetry and update checks off and a timeout, against the real
LiteLLM proxy behind the recording pass-through. Two providers are configured, both that proxy behind
their own recorder: ``it`` (key in the keyring) and ``it2`` (key in ``$IT2_KEY``), each of preset
``litellm`` (documented to serve chat completions and Google's Gemini API). Asserted at the server: the
path, the model and the credential of every model request; then ``llmswitch use it2/MODEL2`` — another
model on another provider — and the tool's next run, the same command line, goes there with no other step.

Opt-in: ``LLMSWITCH_INTEGRATION=1 pytest -m integration tests/integration/test_tools_npm_more.py``
(under CI required: a tool that cannot be installed fails the test).
"""

from __future__ import annotations

import json

import pytest
from harness import Recorder, npm_tool, quiet_env, requests_of, run_tool
from runcli import cli_command

from llmswitch.tools import connect

pytestmark = pytest.mark.integration

QUIET = {"PI_OFFLINE": "1", "PI_SKIP_VERSION_CHECK": "1", "PI_TELEMETRY": "0",  # Pi
         "KILO_DISABLE_AUTOUPDATE": "1", "KILO_TELEMETRY_LEVEL": "off", "KILO_DISABLE_SHARE": "1",  # Kilo CLI
         "GEMINI_CLI_TRUST_WORKSPACE": "true"}  # Gemini CLI's documented switch for headless runs (folder trust)
TELEMETRY_OFF = {"general": {"enableAutoUpdate": False, "enableAutoUpdateNotification": False},
                 "privacy": {"usageStatisticsEnabled": False}}
"""The user's own settings.json for Gemini CLI and Qwen Code (update checks and usage statistics off); connect keeps them."""


def installed(name: str):
    """The tool's executable, installed once at the version its module names."""
    tool = connect.tool(name)
    assert tool.verified, f"{name} names no verified version"
    return npm_tool(tool.package.removeprefix("npm:"), tool.command, tool.verified)


@pytest.fixture
def providers(recorder, real_server, run_cli, tool_home, tmp_path, monkeypatch):
    """``it`` (keyring) at ``recorder`` and ``it2`` ($IT2_KEY) at a second recorder; ``it/MODEL`` active.

    Returns ``(home, second, switch)``; ``switch()`` runs ``llmswitch use it2/MODEL2``.
    """
    second = Recorder(real_server.url)
    monkeypatch.setenv("IT2_KEY", real_server.key)
    for args in (("providers", "add", "it", "--preset", "litellm", "--base-url", recorder.url + "/v1"),
                 ("providers", "add", "it2", "--preset", "litellm", "--base-url", second.url + "/v1", "--key-source",
                  "env:IT2_KEY"),
                 ("use", f"it/{real_server.model}")):
        done = run_cli(*args)
        assert done.returncode == 0, done.stderr
    assert run_cli("key", "set", "it", input=real_server.key).returncode == 0
    (tmp_path / "work").mkdir()

    def switch() -> None:
        done = run_cli("use", f"it2/{real_server.model2}")
        assert done.returncode == 0, done.stderr
        assert "was not updated" not in done.stderr, done.stderr

    try:
        yield tool_home, second, switch
    finally:
        second.close()


def no_key_in_files(home, key: str) -> None:
    for path in home.rglob("*"):
        if path.is_file() and path.stat().st_size < 1_000_000:
            assert key not in path.read_text(errors="replace"), path


def follows(name, ask, recorder, second, switch, real_server, run_cli, *, paths, auth):
    """The first run at ``it``, then ``use it2/MODEL2``, then the same command at ``it2`` (none at ``it``)."""
    seen = requests_of(recorder, ask, name)
    assert {s.path.partition("?")[0] for s in seen} <= paths(real_server.model), seen
    assert {s.model for s in seen} == {real_server.model}
    assert {(s.auth_header, s.auth) for s in seen} == {auth}
    switch()
    recorder.clear()
    seen = requests_of(second, ask, f"{name} after llmswitch use it2/{real_server.model2}")
    assert {s.path.partition("?")[0] for s in seen} <= paths(real_server.model2), seen
    assert {s.model for s in seen} == {real_server.model2}
    assert {(s.auth_header, s.auth) for s in seen} == {auth}
    assert not recorder.model_requests(), "the old provider still got requests"
    status = run_cli("connections")
    assert f"{connect.tool(name).name}: matches the selection" in status.stdout, status.stdout + status.stderr


def chat(model: str) -> set[str]:
    return {"/v1/chat/completions"}


def gemini_api(model: str) -> set[str]:
    return {f"/v1beta/models/{model}:{method}" for method in ("streamGenerateContent", "generateContent", "countTokens")}


def test_pi_uses_the_selection_and_follows_another_provider(providers, recorder, real_server, run_cli, tmp_path):
    pi = installed("pi")
    home, second, switch = providers
    done = run_cli("connect", "pi")
    assert done.returncode == 0, done.stderr
    assert "run it   pi" in done.stdout and "key get it" in done.stdout  # Pi runs the helper for the key
    no_key_in_files(home, real_server.key)

    def ask():  # started directly: models.json's apiKey is "!llmswitch key get it", then "IT2_KEY"
        return run_tool([str(pi), "-p", "Say OK."], quiet_env(home, **QUIET), cwd=tmp_path / "work", timeout=120)

    follows("pi", ask, recorder, second, switch, real_server, run_cli, paths=chat,
            auth=("authorization", f"Bearer {real_server.key}"))
    models = json.loads((home / ".pi" / "agent" / "models.json").read_text())
    assert models["providers"]["llmswitch"]["apiKey"] == "IT2_KEY"  # it2's own variable, named
    no_key_in_files(home, real_server.key)


def test_qwen_code_uses_the_selection_and_follows_another_provider(providers, recorder, real_server, run_cli,
                                                                  tmp_path):
    qwen = installed("qwen-code")
    home, second, switch = providers
    settings = home / ".qwen" / "settings.json"
    settings.parent.mkdir()
    settings.write_text(json.dumps({"$version": 4, **TELEMETRY_OFF,
                                    "security": {"auth": {"selectedType": "qwen-oauth"}}}, indent=2))
    done = run_cli("connect", "qwen")
    assert done.returncode == 0, done.stderr
    assert "run it   llmswitch exec -- qwen" in done.stdout
    no_key_in_files(home, real_server.key)

    def ask():  # the same command both times: exec sets OPENAI_API_KEY (it's envKey); it2's envKey is IT2_KEY
        argv = [*cli_command(), "exec", "--", str(qwen), "-p", "Say OK."]
        return run_tool(argv, quiet_env(home, **QUIET), cwd=tmp_path / "work", timeout=120)

    follows("qwen", ask, recorder, second, switch, real_server, run_cli, paths=chat,
            auth=("authorization", f"Bearer {real_server.key}"))
    data = json.loads(settings.read_text())
    assert data["modelProviders"]["openai"][0]["envKey"] == "IT2_KEY" and data["privacy"] == TELEMETRY_OFF["privacy"]


def test_kilo_uses_the_selection_and_follows_another_provider(providers, recorder, real_server, run_cli, tmp_path):
    kilo = installed("kilo")
    home, second, switch = providers
    done = run_cli("connect", "kilo")
    assert done.returncode == 0, done.stderr
    assert "run it   llmswitch exec -- kilo" in done.stdout
    config = home / ".config" / "kilo" / "kilo.json"
    assert json.loads(config.read_text())["model"] == f"llmswitch/{real_server.model}"
    no_key_in_files(home, real_server.key)

    def ask():  # the same command both times: exec sets OPENAI_API_KEY; it2's apiKey is {env:IT2_KEY}
        argv = [*cli_command(), "exec", "--", str(kilo), "run", "Say OK."]
        return run_tool(argv, quiet_env(home, **QUIET), cwd=tmp_path / "work", timeout=180)

    follows("kilo", ask, recorder, second, switch, real_server, run_cli, paths=chat,
            auth=("authorization", f"Bearer {real_server.key}"))
    assert json.loads(config.read_text())["provider"]["llmswitch"]["options"]["apiKey"] == "{env:IT2_KEY}"


def test_gemini_cli_uses_the_selection_and_follows_another_provider(providers, recorder, real_server, run_cli,
                                                                   tmp_path):
    gemini = installed("gemini-cli")
    home, second, switch = providers
    folder = home / ".gemini"
    folder.mkdir()
    (folder / "settings.json").write_text(json.dumps({**TELEMETRY_OFF,
                                                      "security": {"auth": {"selectedType": "oauth-personal"}}}))
    (folder / ".env").write_text("GEMINI_API_KEY=AIza-a-google-key-that-must-stay-home\n")
    done = run_cli("connect", "gemini")
    assert done.returncode == 0, done.stderr
    assert "run it   llmswitch exec -- gemini" in done.stdout
    assert f"/v1beta/models/{real_server.model}:generateContent" in done.stdout  # probed at the Gemini route
    no_key_in_files(home, real_server.key)

    def ask():  # the launcher hands it GEMINI_API_KEY (and the base URL); a saved Google login cannot win
        argv = [*cli_command(), "exec", "--", str(gemini), "-p", "Say OK."]
        return run_tool(argv, quiet_env(home, **QUIET), cwd=tmp_path / "work", timeout=180)

    follows("gemini", ask, recorder, second, switch, real_server, run_cli, paths=gemini_api,
            auth=("x-goog-api-key", real_server.key))

    def direct():  # without the launcher: the base URL comes from ~/.gemini/.env, the model from settings.json
        env = quiet_env(home, **QUIET, GEMINI_API_KEY=real_server.key)
        return run_tool([str(gemini), "-p", "Say OK."], env, cwd=tmp_path / "work", timeout=180)

    seen = requests_of(second, direct, "gemini started directly")
    assert {s.model for s in seen} == {real_server.model2}
    assert {(s.auth_header, s.auth) for s in seen} == {("x-goog-api-key", real_server.key)}
    assert "AIza-a-google-key" not in {s.auth for s in second.seen + recorder.seen}


def test_gemini_cli_is_refused_where_the_gemini_api_is_not_served(recorder, real_server, run_cli, tool_home):
    """A provider of no preset (the same proxy, but nothing documents its Gemini route): one sentence, nothing written."""
    assert run_cli("providers", "add", "bare", "--base-url", recorder.url + "/v1").returncode == 0
    assert run_cli("key", "set", "bare", input=real_server.key).returncode == 0
    assert run_cli("use", f"bare/{real_server.model}").returncode == 0
    done = run_cli("connect", "gemini")
    assert done.returncode == 1 and "Gemini CLI speaks only Google's Gemini API" in done.stderr
    assert "litellm" in done.stderr and not (tool_home / ".gemini").exists()
    assert not recorder.model_requests()
