"""llmswitch connect/disconnect/connections through the real CLI, against fake upstreams on 127.0.0.1."""

from __future__ import annotations

import json
import os

import pytest

from upstreams import FAKE_KEY, Reply, chat_completions, openai_like

RESPONSES_OK = Reply.json({"id": "resp_1", "object": "response", "status": "completed", "output": []})


@pytest.fixture
def home(tmp_path, monkeypatch):
    home = tmp_path / "tool-home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    for name in ("CODEX_HOME", "LLM_USER_PATH"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    return home


@pytest.fixture
def provider(upstream, run_cli, home):
    """Provider ``up`` (an OpenAI-like server that also serves /responses), key stored, up/gpt-4o active."""
    server = openai_like(upstream())
    server.post("/v1/responses", RESPONSES_OK)
    assert run_cli("providers", "add", "up", "--base-url", server.url + "/v1").returncode == 0
    assert run_cli("key", "set", "up", input=FAKE_KEY).returncode == 0
    assert run_cli("use", "up/gpt-4o").returncode == 0
    return server


def files_text(home):
    return "".join(p.read_text() for p in home.rglob("*") if p.is_file())


def test_codex_connect_keeps_user_settings_is_idempotent_and_disconnect_restores(provider, run_cli, home):
    config = home / ".codex" / "config.toml"
    config.parent.mkdir()
    original = '# my settings\nmodel = "o3"\napproval_policy = "never"\n\n[mcp_servers.docs]\ncommand = "docs"\n'
    config.write_text(original)
    done = run_cli("connect", "codex")
    assert done.returncode == 0, done.stderr
    written = config.read_text()
    assert 'approval_policy = "never"' in written and '[mcp_servers.docs]' in written
    assert "# llmswitch-displaced: [codex] model = \"o3\"" in written
    import tomllib

    data = tomllib.loads(written)
    assert data["model"] == "gpt-4o" and data["model_provider"] == "llmswitch"
    assert data["model_providers"]["llmswitch"]["base_url"] == provider.url + "/v1"
    assert data["model_providers"]["llmswitch"]["wire_api"] == "responses"
    posted = provider.requests_to("/v1/responses")
    assert posted and posted[-1].json()["model"] == "gpt-4o"
    assert posted[-1].headers["authorization"] == f"Bearer {FAKE_KEY}"
    assert run_cli("connect", "codex").returncode == 0
    assert config.read_text() == written  # idempotent
    done = run_cli("disconnect", "codex")
    assert done.returncode == 0, done.stderr
    assert config.read_text() == original


def test_codex_is_refused_for_a_chat_only_server_and_nothing_is_written(upstream, run_cli, home):
    server = openai_like(upstream())  # no /responses route: 404 {"detail": "Not Found"}
    assert run_cli("providers", "add", "chat", "--base-url", server.url + "/v1").returncode == 0
    assert run_cli("key", "set", "chat", input=FAKE_KEY).returncode == 0
    assert run_cli("use", "chat/gpt-4o").returncode == 0
    done = run_cli("connect", "codex")
    assert done.returncode == 1
    assert "OpenAI Codex CLI needs the Responses API and chat does not serve the Responses API" in done.stderr
    assert "nothing was written" in done.stderr and "e.g. openai" in done.stderr
    assert not (home / ".codex").exists()


def test_the_key_never_lands_in_a_tool_file_or_the_registry(provider, run_cli, home, tmp_path):
    for tool in ("codex", "aider", "llm"):
        done = run_cli("connect", tool)
        assert done.returncode == 0, done.stderr
        assert FAKE_KEY not in done.stdout + done.stderr
    assert FAKE_KEY not in files_text(home)
    state = os.environ["LLMSWITCH_STATE_DIR"]
    assert FAKE_KEY not in "".join(p.read_text() for p in __import__("pathlib").Path(state).rglob("*") if p.is_file())


def test_use_updates_connected_tools_in_the_same_step(provider, run_cli, home):
    assert run_cli("connect", "aider").returncode == 0
    assert run_cli("connect", "llm").returncode == 0
    done = run_cli("use", "up/gpt-4o-mini")
    assert done.returncode == 0, done.stderr
    assert 'model: "openai/gpt-4o-mini"' in (home / ".aider.conf.yml").read_text()
    llm_dir = home / ".config" / "io.datasette.llm"
    assert 'model_name: "gpt-4o-mini"' in (llm_dir / "extra-openai-models.yaml").read_text()
    assert (llm_dir / "default_model.txt").read_text() == "llmswitch\n"
    done = run_cli("connections", "--json")
    assert done.returncode == 0, done.stdout + done.stderr
    reports = json.loads(done.stdout)
    assert {r["tool"]: r["matches"] for r in reports} == {"aider": True, "llm": True}
    assert reports[0]["pointing"]["main"]["model"] == "openai/gpt-4o-mini"


def test_aider_roles_map_to_weak_and_editor_models(provider, run_cli, home):
    assert run_cli("use", "--role", "cheap", "up/gpt-4o-mini").returncode == 0
    done = run_cli("connect", "aider", "--role", "weak=cheap", "--role", "editor=cheap")
    assert done.returncode == 0, done.stderr
    text = (home / ".aider.conf.yml").read_text()
    assert 'weak-model: "openai/gpt-4o-mini"' in text and 'editor-model: "openai/gpt-4o-mini"' in text
    done = run_cli("connect", "aider", "--role", "nope")
    assert done.returncode == 2 and "aider has no role 'nope'" in done.stderr


def test_a_hand_edit_is_drift_and_disconnect_keeps_it(provider, run_cli, home):
    conf = home / ".aider.conf.yml"
    conf.write_text("dark-mode: true\nmodel: gpt-4\n")
    assert run_cli("connect", "aider").returncode == 0
    conf.write_text(conf.read_text().replace('"openai/gpt-4o"', '"openai/other"') + "auto-commits: false\n")
    done = run_cli("connections")
    assert done.returncode == 1
    assert "was edited since llmswitch wrote it" in done.stderr
    assert "main points at openai/other" in done.stderr
    done = run_cli("disconnect", "aider")
    assert done.returncode == 0, done.stderr
    assert conf.read_text() == "dark-mode: true\nmodel: gpt-4\nauto-commits: false\n"
    assert "the original is at" in done.stdout


def test_an_env_key_reference_that_resolves_to_nothing_is_drift(upstream, run_cli, home, monkeypatch):
    server = openai_like(upstream())
    server.post("/v1/responses", RESPONSES_OK)
    monkeypatch.setenv("UP_KEY", FAKE_KEY)
    assert run_cli("providers", "add", "envup", "--base-url", server.url + "/v1", "--key-source",
                   "env:UP_KEY").returncode == 0
    assert run_cli("use", "envup/gpt-4o").returncode == 0
    assert run_cli("connect", "codex").returncode == 0
    assert 'env_key = "UP_KEY"' in (home / ".codex" / "config.toml").read_text()
    monkeypatch.delenv("UP_KEY")
    done = run_cli("connections")
    assert done.returncode == 1 and "$UP_KEY resolves to nothing" in done.stderr


def test_a_failed_follow_is_a_warning_and_the_switch_stands(provider, run_cli, home):
    assert run_cli("connect", "aider").returncode == 0
    conf = home / ".aider.conf.yml"
    elsewhere = home / "elsewhere.yml"
    elsewhere.write_text(conf.read_text())
    conf.unlink()
    conf.symlink_to(elsewhere)  # llmswitch refuses to write through a symlink
    done = run_cli("use", "up/gpt-4o-mini")
    assert done.returncode == 0, done.stderr
    assert "aider was not updated" in done.stderr and "llmswitch connect aider" in done.stderr
    assert run_cli("current", "--field", "model").stdout.strip() == "gpt-4o-mini"


def test_doctor_reports_a_connected_tools_drift(provider, run_cli, home):
    assert run_cli("connect", "codex").returncode == 0
    (home / ".codex" / "config.toml").write_text('model = "o3"\n')
    done = run_cli("doctor", "--no-probe")
    assert "codex: " in done.stdout + done.stderr and "was edited since llmswitch wrote it" in done.stdout + done.stderr


def test_llm_default_model_comes_back_on_disconnect(provider, run_cli, home):
    llm_dir = home / ".config" / "io.datasette.llm"
    llm_dir.mkdir(parents=True)
    (llm_dir / "default_model.txt").write_text("gpt-4o-mini")
    (llm_dir / "extra-openai-models.yaml").write_text("- model_id: mine\n  model_name: x\n")
    assert run_cli("connect", "llm").returncode == 0
    assert run_cli("use", "up/gpt-4o-mini").returncode == 0  # the file changes after connect: no exact restore
    assert run_cli("disconnect", "llm").returncode == 0
    assert (llm_dir / "default_model.txt").read_text() == "gpt-4o-mini"
    assert (llm_dir / "extra-openai-models.yaml").read_text() == "- model_id: mine\n  model_name: x\n"


def test_chat_probe_uses_the_exact_model(provider, run_cli, home):
    provider.post("/v1/chat/completions", chat_completions(key=FAKE_KEY))
    assert run_cli("connect", "aider").returncode == 0
    asked = provider.requests_to("/v1/chat/completions")
    assert asked and asked[-1].json()["model"] == "gpt-4o"


def test_provider_headers_go_where_the_tool_can_send_them_and_are_refused_elsewhere(upstream, run_cli, home):
    server = openai_like(upstream())
    server.post("/v1/responses", RESPONSES_OK)
    server.post("/v1/chat/completions", chat_completions(key=FAKE_KEY))
    assert run_cli("providers", "add", "hdr", "--base-url", server.url + "/v1", "--header",
                   "X-Team: blue").returncode == 0
    assert run_cli("key", "set", "hdr", input=FAKE_KEY).returncode == 0
    assert run_cli("use", "hdr/gpt-4o").returncode == 0
    assert run_cli("connect", "codex").returncode == 0
    import tomllib

    provider = tomllib.loads((home / ".codex" / "config.toml").read_text())["model_providers"]["llmswitch"]
    assert provider["http_headers"] == {"X-Team": "blue"}
    assert run_cli("connect", "llm").returncode == 0
    assert '    "X-Team": "blue"' in (home / ".config" / "io.datasette.llm" / "extra-openai-models.yaml").read_text()
    done = run_cli("connect", "aider")
    assert done.returncode == 1
    assert "hdr needs the headers X-Team, which aider's config file cannot send" in done.stderr
    assert not (home / ".aider.conf.yml").exists()


def test_an_anthropic_provider_is_refused_by_chat_tools(run_cli, home):
    assert run_cli("providers", "add", "ant", "--base-url", "http://127.0.0.1:9/v1", "--kind",
                   "anthropic").returncode == 0
    assert run_cli("use", "ant/claude-x").returncode == 0
    done = run_cli("connect", "llm")
    assert done.returncode == 1
    assert "llm's config file reaches openai endpoints and ant is of kind anthropic" in done.stderr


def test_connect_check_probes_again_and_reports_a_route_that_went_away(provider, run_cli, home):
    assert run_cli("connect", "codex").returncode == 0
    done = run_cli("connect", "codex", "--check")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "codex: matches the selection" in done.stdout and "HTTP 200" in done.stdout
    provider.post("/v1/responses", Reply.json({"detail": "Not Found"}, 404))
    done = run_cli("connect", "codex", "--check", "--json")
    assert done.returncode == 1
    [report] = json.loads(done.stdout)
    assert report["matches"] is False
    assert "does not serve the Responses API" in report["verified"][0]["problem"]
    assert run_cli("connect", "aider", "--check").returncode == 3  # not connected
