"""Pi, Gemini CLI and Qwen Code through the real CLI; the names people type; ``connect --list`` and ``--all``.

Fake upstreams on 127.0.0.1 stand in for the servers; a test PATH with fake executables stands in for
what is installed (what is tested is PATH discovery, not the tools: tests/integration runs the real ones).
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest

from llmswitch.tools import connect
from upstreams import FAKE_KEY, Reply, openai_like

OK = Reply.json({"id": "x", "object": "response", "status": "completed", "output": [], "choices": [],
                 "type": "message", "role": "assistant", "content": [], "model": "m",
                 "candidates": [{"content": {"parts": [{"text": "OK"}], "role": "model"}}]})


@pytest.fixture
def home(tool_home):
    return tool_home


@pytest.fixture
def gateway(upstream, run_cli, home):
    """Provider ``gw``: a LiteLLM proxy (preset ``litellm``: documented to serve the Gemini API), key stored; gw/gpt-4o."""
    server = openai_like(upstream())
    for route in ("/v1/responses", "/v1/messages", "/v1beta/models/gpt-4o:generateContent",
                  "/v1beta/models/gpt-4o-mini:generateContent"):
        server.post(route, OK)
    assert run_cli("providers", "add", "gw", "--preset", "litellm", "--base-url", server.url + "/v1").returncode == 0
    assert run_cli("key", "set", "gw", input=FAKE_KEY).returncode == 0
    assert run_cli("use", "gw/gpt-4o").returncode == 0
    return server


@pytest.fixture
def plain(upstream, run_cli, home):
    """Provider ``plain``: an OpenAI-compatible server of no preset (chat completions only), key in $PLAIN_KEY."""
    server = openai_like(upstream())
    done = run_cli("providers", "add", "plain", "--base-url", server.url + "/v1", "--key-source", "env:PLAIN_KEY")
    assert done.returncode == 0, done.stderr
    return server


def fake_path(tmp_path: Path, *commands: str) -> str:
    """A PATH holding fake executables named ``commands`` (and the directory of the Python that runs llmswitch)."""
    bin_dir = tmp_path / "fake-bin"
    bin_dir.mkdir(exist_ok=True)
    for command in commands:
        exe = bin_dir / command
        exe.write_text("#!/bin/sh\nexit 0\n")
        exe.chmod(0o755)
    return os.pathsep.join([str(bin_dir), str(Path(sys.executable).parent), "/usr/bin", "/bin"])


def all_text(home: Path) -> str:
    return "".join(p.read_text() for p in home.rglob("*") if p.is_file())


# --- the names people type ------------------------------------------------------------------------

def test_every_module_declares_the_command_people_run_and_no_two_collide():
    commands = connect.commands()
    assert len(commands) == len(connect.names())
    assert {"claude": "claude-code", "cn": "continue-cli", "gemini": "gemini-cli", "qwen": "qwen-code", "pi": "pi",
            "codex": "codex", "opencode": "opencode", "aider": "aider", "llm": "llm"}.items() <= commands.items()
    assert all(connect.tool(command).name == name for command, name in commands.items())


def test_connect_and_disconnect_accept_the_command(gateway, run_cli, home):
    done = run_cli("connect", "qwen")
    assert done.returncode == 0, done.stderr
    assert "connected qwen-code" in done.stdout
    assert run_cli("connections", "--json").stdout.count('"tool": "qwen-code"') == 1
    assert run_cli("connect", "qwen", "--check").returncode == 0
    done = run_cli("disconnect", "qwen")
    assert done.returncode == 0 and "disconnected qwen-code" in done.stdout
    assert not (home / ".qwen" / "settings.json").exists()


def test_an_unknown_tool_names_the_tools_and_their_commands(run_cli, home):
    done = run_cli("connect", "claud")
    assert done.returncode == 2
    assert "llmswitch cannot connect 'claud'" in done.stderr and "claude (claude-code)" in done.stderr
    assert "connect --list" in done.stderr and "Traceback" not in done.stderr


# --- the three tools' files -----------------------------------------------------------------------

def test_pi_writes_its_two_files_with_a_key_helper_and_disconnect_gives_them_back(gateway, run_cli, home):
    agent = home / ".pi" / "agent"
    agent.mkdir(parents=True)
    settings = '{\n  "theme": "light",\n  "defaultProvider": "anthropic",\n  "defaultModel": "claude-x"\n}\n'
    (agent / "settings.json").write_text(settings)
    done = run_cli("connect", "pi")
    assert done.returncode == 0, done.stderr
    assert "POST " + gateway.url + "/v1/chat/completions model gpt-4o: HTTP 200" in done.stdout
    models = json.loads((agent / "models.json").read_text())["providers"]["llmswitch"]
    assert models["baseUrl"] == gateway.url + "/v1" and models["api"] == "openai-completions"
    assert models["apiKey"].startswith("!") and models["apiKey"].endswith("key get gw")  # Pi runs it for the key
    assert models["models"] == [{"id": "gpt-4o"}]
    data = json.loads((agent / "settings.json").read_text())
    assert (data["defaultProvider"], data["defaultModel"], data["theme"]) == ("llmswitch", "gpt-4o", "light")
    assert FAKE_KEY not in all_text(home)
    assert run_cli("use", "gw/gpt-4o-mini").returncode == 0  # follows
    assert json.loads((agent / "settings.json").read_text())["defaultModel"] == "gpt-4o-mini"
    assert run_cli("disconnect", "pi").returncode == 0
    assert (agent / "settings.json").read_text() == settings and not (agent / "models.json").exists()


def test_pi_and_qwen_name_the_providers_own_env_var(plain, run_cli, home, monkeypatch):
    monkeypatch.setenv("PLAIN_KEY", FAKE_KEY)
    assert run_cli("use", "plain/gpt-4o").returncode == 0
    assert run_cli("connect", "pi").returncode == 0
    assert json.loads((home / ".pi/agent/models.json").read_text())["providers"]["llmswitch"]["apiKey"] == "PLAIN_KEY"
    assert run_cli("use", "--role", "cheap", "plain/gpt-4o-mini").returncode == 0
    done = run_cli("connect", "qwen", "--role", "fast=cheap")
    assert done.returncode == 0, done.stderr
    data = json.loads((home / ".qwen" / "settings.json").read_text())
    assert data["security"]["auth"]["selectedType"] == "openai" and data["model"]["name"] == "gpt-4o"
    assert data["fastModel"] == "gpt-4o-mini" and data["$version"] == 4  # a file of ours: Qwen does not migrate it
    assert [(e["id"], e["baseUrl"], e["envKey"]) for e in data["modelProviders"]["openai"]] == [
        ("gpt-4o", plain.url + "/v1", "PLAIN_KEY"), ("gpt-4o-mini", plain.url + "/v1", "PLAIN_KEY")]
    assert FAKE_KEY not in all_text(home)


def test_qwen_keeps_the_users_providers_and_login_and_gives_them_back(gateway, run_cli, home):
    path = home / ".qwen" / "settings.json"
    path.parent.mkdir()
    original = json.dumps({"$version": 4, "security": {"auth": {"selectedType": "qwen-oauth"}},
                           "model": {"name": "qwen3-coder-plus", "generationConfig": {"timeout": 5}},
                           "modelProviders": {"openai": [{"id": "mine", "envKey": "MINE"}]}}, indent=2) + "\n"
    path.write_text(original)
    done = run_cli("connect", "qwen-code")
    assert done.returncode == 0, done.stderr
    assert "llmswitch exec -- qwen" in done.stdout  # a keyring key: the launcher sets OPENAI_API_KEY (envKey)
    data = json.loads(path.read_text())
    assert data["model"] == {"name": "gpt-4o", "generationConfig": {"timeout": 5}}
    assert data["modelProviders"]["openai"][0]["envKey"] == "OPENAI_API_KEY"
    data["model"]["name"] = "mine"  # the user picks another model in qwen's /model
    path.write_text(json.dumps(data, indent=2))
    done = run_cli("use", "gw/gpt-4o-mini")
    assert f"qwen-code was not updated: {path}:" in done.stderr and "member model.name was changed" in done.stderr
    assert run_cli("disconnect", "qwen").returncode == 0
    back = json.loads(path.read_text())
    assert back["security"]["auth"]["selectedType"] == "qwen-oauth"
    assert back["modelProviders"] == {"openai": [{"id": "mine", "envKey": "MINE"}]} and back["model"]["name"] == "mine"


def test_gemini_cli_is_isolated_from_a_saved_login_and_a_google_key(gateway, run_cli, home):
    folder = home / ".gemini"
    folder.mkdir()
    (folder / "settings.json").write_text('{\n  // mine\n  "security": {"auth": {"selectedType": "oauth-personal"}},\n'
                                          '  "ui": {"theme": "Dracula"}\n}\n')
    env = "# my keys\nGEMINI_API_KEY=AIza-my-google-key\nOTHER=1\n"
    (folder / ".env").write_text(env)
    done = run_cli("connect", "gemini")
    assert done.returncode == 0, done.stderr
    assert f"verified POST {gateway.url}/v1beta/models/gpt-4o:generateContent model gpt-4o: HTTP 200" in done.stdout
    sent = gateway.requests_to("/v1beta/models/gpt-4o:generateContent")[-1]
    assert sent.headers["x-goog-api-key"] == FAKE_KEY and "authorization" not in sent.headers
    assert "run it   llmswitch exec -- gemini" in done.stdout
    settings = (folder / "settings.json").read_text()
    assert '"selectedType": "gemini-api-key"' in settings and "// mine" in settings and "Dracula" in settings
    written = (folder / ".env").read_text()
    assert f'GOOGLE_GEMINI_BASE_URL="{gateway.url}"' in written  # the API root: the SDK adds /v1beta/models/…
    assert "# llmswitch-displaced: [gemini-cli] GEMINI_API_KEY=AIza-my-google-key" in written  # never to the gateway
    assert FAKE_KEY not in all_text(home)
    assert run_cli("disconnect", "gemini").returncode == 0
    assert (folder / ".env").read_text() == env and "oauth-personal" in (folder / "settings.json").read_text()


def test_gemini_cli_is_refused_for_a_provider_without_the_gemini_api(plain, run_cli, home, monkeypatch):
    monkeypatch.setenv("PLAIN_KEY", FAKE_KEY)
    assert run_cli("use", "plain/gpt-4o").returncode == 0
    done = run_cli("connect", "gemini")
    assert done.returncode == 1
    message = done.stderr.strip()
    assert message.count("\n") == 0 and "Gemini CLI speaks only Google's Gemini API" in message
    assert "plain is not documented to serve it" in message and "litellm" in message and "google" in message
    assert not (home / ".gemini").exists() and not plain.requests_to("/v1beta/models/gpt-4o:generateContent")


def test_gemini_cli_stays_put_when_the_selection_moves_where_it_cannot_follow(gateway, plain, run_cli, home,
                                                                             monkeypatch):
    assert run_cli("connect", "gemini").returncode == 0
    before = {p: p.read_text() for p in (home / ".gemini").iterdir()}
    monkeypatch.setenv("PLAIN_KEY", FAKE_KEY)
    done = run_cli("use", "plain/gpt-4o")
    assert done.returncode == 0
    assert "gemini-cli was not updated: gemini-cli: Gemini CLI speaks only Google's Gemini API" in done.stderr
    assert {p: p.read_text() for p in (home / ".gemini").iterdir()} == before  # no gateway URL for another server
    assert run_cli("use", "gw/gpt-4o-mini").returncode == 0  # back where it can: it follows again
    assert '"name": "gpt-4o-mini"' in (home / ".gemini" / "settings.json").read_text()


def test_exec_and_env_hand_gemini_tools_the_gateway_and_clear_it_for_others(gateway, plain, run_cli, run_cli_process, home,
                                                                           monkeypatch):
    show = [sys.executable, "-c", "import os; print(os.environ.get('GOOGLE_GEMINI_BASE_URL'), "
                                  "os.environ.get('GEMINI_API_KEY'))"]
    done = run_cli_process("exec", "--", *show, env={"GEMINI_API_KEY": "AIza-google", "GOOGLE_GEMINI_BASE_URL": "https://x"})
    assert done.stdout.split() == [gateway.url, FAKE_KEY]
    assert 'export GEMINI_API_KEY="$(' in run_cli("env", "--shell", "bash").stdout
    monkeypatch.setenv("PLAIN_KEY", FAKE_KEY)
    assert run_cli("use", "plain/gpt-4o").returncode == 0
    done = run_cli_process("exec", "--", *show, env={"GEMINI_API_KEY": "sk-gateway", "GOOGLE_GEMINI_BASE_URL": "https://gw"})
    assert done.stdout.split() == ["None", "None"]  # a gateway's key never reaches Google, nor Google's a gateway


# --- damage --------------------------------------------------------------------------------------

def test_a_deleted_marker_in_geminis_env_stops_follow_until_repair(gateway, run_cli, home):
    assert run_cli("connect", "gemini").returncode == 0
    env = home / ".gemini" / ".env"
    lines = env.read_text().splitlines(keepends=True)
    broken = "".join(line for line in lines if not line.startswith("# <<< llmswitch")) + "MINE=1\n"
    env.write_text(broken)
    done = run_cli("use", "gw/gpt-4o-mini")
    assert done.returncode == 0 and f"gemini-cli was not updated: {env}:1:" in done.stderr
    assert env.read_text() == broken and '"gpt-4o"' in (home / ".gemini" / "settings.json").read_text()
    assert run_cli("connect", "gemini", "--repair", "--yes").returncode == 0
    assert '"gpt-4o-mini"' in (home / ".gemini" / "settings.json").read_text() and "MINE=1" in env.read_text()


def test_an_unreadable_pi_settings_file_is_refused_with_its_line(gateway, run_cli, home):
    settings = home / ".pi" / "agent" / "settings.json"
    settings.parent.mkdir(parents=True)
    settings.write_text('{\n  "theme": "dark",\n  "defaultModel": \n}\n')
    done = run_cli("connect", "pi")
    assert done.returncode == 1 and f"{settings}:4: Pi cannot read it" in done.stderr
    assert settings.read_text() == '{\n  "theme": "dark",\n  "defaultModel": \n}\n'
    assert not (settings.parent / "models.json").exists()


# --- connect --list and --all ----------------------------------------------------------------------

def test_list_shows_every_tool_what_is_installed_how_it_connects_and_the_verified_version(gateway, run_cli, home,
                                                                                          tmp_path):
    path = fake_path(tmp_path, "gemini", "qwen", "claude")
    done = run_cli("connect", "--list", env={"PATH": path})
    assert done.returncode == 0, done.stderr
    rows = {line.split()[0]: line for line in done.stdout.splitlines()[1:] if line and not line.startswith(" ")}
    assert set(connect.names()) <= set(rows)
    assert rows["gemini-cli"].split()[1:3] == ["gemini", "yes"] and rows["pi"].split()[1:3] == ["pi", "no"]
    assert "Google's Gemini API" in rows["gemini-cli"] and "llmswitch exec sets $GEMINI_API_KEY" in rows["gemini-cli"]
    assert rows["pi"].endswith("0.73.1") and rows["qwen-code"].endswith("0.15.10")
    assert f"gemini-cli: {tmp_path / 'fake-bin' / 'gemini'}; run it: llmswitch exec -- gemini" in done.stdout
    data = {e["tool"]: e for e in json.loads(run_cli("connect", "--list", "--json", env={"PATH": path}).stdout)}
    assert data["qwen-code"]["installed"] == str(tmp_path / "fake-bin" / "qwen") and data["pi"]["installed"] is None
    assert data["claude-code"]["key"]["kind"] == "HELPER" and data["gemini-cli"]["protocol"] == "Google's Gemini API"
    assert all(e["verified"] == connect.tool(name).verified for name, e in data.items())
    assert not (home / ".qwen").exists()  # --list writes nothing


def test_list_says_why_a_tool_would_be_refused(plain, run_cli, home, tmp_path, monkeypatch):
    monkeypatch.setenv("PLAIN_KEY", FAKE_KEY)
    assert run_cli("use", "plain/gpt-4o").returncode == 0
    done = run_cli("connect", "--list", env={"PATH": fake_path(tmp_path, "gemini")})
    assert "refused: gemini-cli: Gemini CLI speaks only Google's Gemini API" in done.stdout
    assert json.loads(run_cli("connect", "--list", "--json").stdout)[0]["refusal"] is None  # aider can follow


def test_all_connects_each_installed_tool_and_reports_a_refusal_without_stopping(plain, run_cli, home, tmp_path,
                                                                                 monkeypatch):
    monkeypatch.setenv("PLAIN_KEY", FAKE_KEY)
    assert run_cli("use", "plain/gpt-4o").returncode == 0
    path = fake_path(tmp_path, "gemini", "qwen", "pi")  # gemini first in name order: refused, the others go on
    done = run_cli("connect", "--all", env={"PATH": path})
    assert done.returncode == 1, done.stderr
    assert "connected pi" in done.stdout and "connected qwen-code" in done.stdout
    assert "not connected gemini-cli" in done.stdout and "gemini-cli: " in done.stderr
    assert "codex" not in done.stdout  # not installed: not touched
    assert not (home / ".gemini").exists() and (home / ".qwen" / "settings.json").exists()
    outcomes = {o["tool"]: o for o in json.loads(run_cli("connect", "--all", "--json", env={"PATH": path}).stdout)}
    assert set(outcomes) == {"gemini-cli", "pi", "qwen-code"}
    assert outcomes["gemini-cli"]["refusal"].startswith("gemini-cli: Gemini CLI speaks only")
    assert outcomes["pi"]["connected"] and outcomes["pi"]["report"]["tool"] == "pi"


def test_all_with_nothing_installed_and_list_or_all_with_a_tool_are_sentences(gateway, run_cli, home, tmp_path):
    done = run_cli("connect", "--all", env={"PATH": fake_path(tmp_path)})
    assert done.returncode == 3 and "no tool llmswitch connects is on PATH" in done.stderr
    assert "connect --list" in done.stderr
    done = run_cli("connect", "--all", "pi")
    assert done.returncode == 2 and "connect --all takes no TOOL" in done.stderr
    done = run_cli("connect")
    assert done.returncode == 2 and "connect needs a tool" in done.stderr


def test_the_verified_version_is_the_one_the_integration_tier_installs():
    """A module's ``verified`` and the integration tier's pin for its package cannot drift apart."""
    import ast

    integration = Path(__file__).parents[1] / "integration"
    pins: dict[str, str] = {}
    for path in integration.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Assign) and isinstance(node.value, ast.Dict) and any(
                    isinstance(t, ast.Name) and t.id.endswith("VERSIONS") for t in node.targets):
                pins.update(ast.literal_eval(node.value))
    for name in connect.names():
        tool = connect.tool(name)
        package = tool.package.partition(":")[2]
        if package in pins:
            assert tool.verified == pins[package], (name, tool.verified, pins[package])
        elif tool.verified is not None:  # pinned by the module itself: the integration test installs tool.verified
            assert any(f'"{name}"' in p.read_text() for p in integration.glob("test_*.py")), name


def test_import_finds_what_the_three_tools_are_set_up_with(run_cli, home):
    (home / ".pi" / "agent").mkdir(parents=True)
    (home / ".pi" / "agent" / "models.json").write_text(json.dumps({"providers": {"box": {
        "baseUrl": "http://10.0.0.5:8000/v1", "api": "openai-completions", "apiKey": "!pass show box",
        "models": [{"id": "qwen3"}]}}}))
    (home / ".qwen").mkdir()
    (home / ".qwen" / "settings.json").write_text(json.dumps({"modelProviders": {"openai": [
        {"id": "deepseek-chat", "baseUrl": "https://api.deepseek.com/v1", "envKey": "DEEPSEEK_API_KEY"}]}}))
    found = {f["source"]: f for f in json.loads(run_cli("import", "--json").stdout)}
    assert found["pi"]["base_url"] == "http://10.0.0.5:8000/v1" and found["pi"]["key"]["kind"] == "command"
    assert found["pi"]["models"] == ["qwen3"]
    assert found["qwen-code"]["key"] == {"kind": "env", "name": "DEEPSEEK_API_KEY",
                                         "file": str(home / ".qwen" / "settings.json"), "line": None}


def test_kilo_writes_the_global_file_it_reads_last(gateway, run_cli, home):
    folder = home / ".config" / "kilo"
    folder.mkdir(parents=True)
    (folder / "kilo.json").write_text('{"theme": "mine"}\n')
    (folder / "opencode.json").write_text('{\n  // later than kilo.json: its model wins\n  "model": "anthropic/x",\n}\n')
    done = run_cli("connect", "kilo")
    assert done.returncode == 0, done.stderr
    assert f"wrote    {folder / 'opencode.json'}" in done.stdout and "llmswitch exec -- kilo" in done.stdout
    assert (folder / "kilo.json").read_text() == '{"theme": "mine"}\n'
    text = (folder / "opencode.json").read_text()
    assert '"model": "llmswitch/gpt-4o"' in text and "// later than kilo.json" in text
    assert run_cli("disconnect", "kilo").returncode == 0
    assert '"model": "anthropic/x"' in (folder / "opencode.json").read_text()
