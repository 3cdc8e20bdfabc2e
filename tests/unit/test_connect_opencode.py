"""llmswitch connect opencode: the JSONC members it owns, the {env:…} key reference, roles, restore."""

from __future__ import annotations

import json

import pytest

from llmswitch.tools.connect import _jsonmembers as jsonmembers
from upstreams import FAKE_KEY, openai_like

ORIGINAL = ('{\n  "$schema": "https://opencode.ai/config.json",\n  // my theme\n  "theme": "tokyonight",\n'
            '  "model": "anthropic/claude-sonnet-4-5",\n  "provider": {\n    "mine": {"npm": "@ai-sdk/openai", '
            '"options": {}}\n  }\n}\n')


@pytest.fixture
def home(tmp_path, monkeypatch):
    home = tmp_path / "tool-home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    return home


@pytest.fixture
def provider(upstream, run_cli, home):
    server = openai_like(upstream())
    assert run_cli("providers", "add", "up", "--base-url", server.url + "/v1").returncode == 0
    assert run_cli("key", "set", "up", input=FAKE_KEY).returncode == 0
    assert run_cli("use", "up/gpt-4o").returncode == 0
    return server


def config_path(home):
    return home / ".config" / "opencode" / "opencode.json"


def test_connect_writes_its_members_keeps_the_rest_and_disconnect_restores(provider, run_cli, home):
    path = config_path(home)
    path.parent.mkdir(parents=True)
    path.write_text(ORIGINAL)
    done = run_cli("connect", "opencode")
    assert done.returncode == 0, done.stderr
    text = path.read_text()
    assert "// my theme" in text and FAKE_KEY not in text
    data = jsonmembers.loads_jsonc(text)
    assert data["theme"] == "tokyonight" and "mine" in data["provider"]
    assert data["model"] == "llmswitch/gpt-4o"
    ours = data["provider"]["llmswitch"]
    assert ours["npm"] == "@ai-sdk/openai-compatible" and ours["options"]["baseURL"] == provider.url + "/v1"
    assert ours["options"]["apiKey"] == "{env:OPENAI_API_KEY}" and "gpt-4o" in ours["models"]
    assert "llmswitch exec -- opencode" in done.stdout
    posted = provider.requests_to("/v1/chat/completions")
    assert posted and posted[-1].json()["model"] == "gpt-4o"  # verified: the exact route and model
    assert run_cli("connect", "opencode").returncode == 0
    assert path.read_text() == text  # idempotent
    assert run_cli("disconnect", "opencode").returncode == 0
    assert path.read_text() == ORIGINAL


def test_use_re_points_model_and_small_model(provider, run_cli, home):
    assert run_cli("use", "--role", "small", "up/gpt-4o-mini").returncode == 0
    assert run_cli("connect", "opencode", "--role", "small").returncode == 0
    data = json.loads(config_path(home).read_text())
    assert (data["model"], data["small_model"]) == ("llmswitch/gpt-4o", "llmswitch/gpt-4o-mini")
    assert run_cli("use", "up/gpt-4.1").returncode == 0
    data = json.loads(config_path(home).read_text())
    assert data["model"] == "llmswitch/gpt-4.1" and set(data["provider"]["llmswitch"]["models"]) == {
        "gpt-4.1", "gpt-4o-mini"}
    done = run_cli("connections", "--json")
    assert json.loads(done.stdout)[0]["matches"] is True, done.stdout
    assert run_cli("disconnect", "opencode").returncode == 0
    assert not config_path(home).exists()  # it did not exist before


def test_an_env_key_source_is_referenced_by_name(upstream, run_cli, home, monkeypatch):
    server = openai_like(upstream())
    monkeypatch.setenv("UP_KEY", FAKE_KEY)
    assert run_cli("providers", "add", "up", "--base-url", server.url + "/v1", "--key-source",
                   "env:UP_KEY").returncode == 0
    assert run_cli("use", "up/gpt-4o").returncode == 0
    done = run_cli("connect", "opencode")
    assert done.returncode == 0, done.stderr
    data = json.loads(config_path(home).read_text())
    assert data["provider"]["llmswitch"]["options"]["apiKey"] == "{env:UP_KEY}"
    assert "llmswitch exec" not in done.stdout


def test_a_jsonc_file_is_the_one_written(provider, run_cli, home):
    jsonc = home / ".config" / "opencode" / "opencode.jsonc"
    jsonc.parent.mkdir(parents=True)
    jsonc.write_text('{\n  // comments stay\n  "autoupdate": false,\n}\n')
    assert run_cli("connect", "opencode").returncode == 0
    assert not config_path(home).exists()
    text = jsonc.read_text()
    assert "// comments stay" in text and jsonmembers.loads_jsonc(text)["model"] == "llmswitch/gpt-4o"


def test_an_anthropic_provider_is_refused_before_writing(run_cli, home):
    run_cli("key", "set", "anthropic", input=FAKE_KEY)
    assert run_cli("use", "anthropic/claude-sonnet-4-5").returncode == 0
    done = run_cli("connect", "opencode")
    assert done.returncode != 0 and "reaches openai endpoints" in done.stderr
    assert not config_path(home).exists()


def test_jsonc_reader_follows_the_format():
    assert jsonmembers.loads_jsonc('{"a": "x // not a comment", /* c */ "b": [1, 2,],}') == {
        "a": "x // not a comment", "b": [1, 2]}
    with pytest.raises(ValueError):
        jsonmembers.loads_jsonc('{"a": /* open')
