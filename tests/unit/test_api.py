"""The Python API: active(), client() keeps base_url, keys and headers; live pick-up."""

from __future__ import annotations

import json

import pytest

import llmswitch
from llmswitch.services.switch import switch
from llmswitch.store import keys, selection
from llmswitch.store.keys import MissingKey

FAKE = "sk-test-not-a-real-key-0077"


def test_active_reads_the_selection():
    with pytest.raises(llmswitch.NoSelection, match="llmswitch use"):
        llmswitch.active()
    switch("groq/llama-3.1-8b-instant", check_key=False)
    sel = llmswitch.active()
    assert sel.ref == "groq/llama-3.1-8b-instant" and sel.base_url == "https://api.groq.com/openai/v1"


def test_client_never_loses_the_base_url(monkeypatch):
    monkeypatch.setenv("OPENAI_BASE_URL", "https://api.openai.com/v1")
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-wrong-key-for-openai")
    keys.store("groq", FAKE)
    switch("groq/llama-3.1-8b-instant")
    client = llmswitch.client()
    assert str(client.base_url) == "https://api.groq.com/openai/v1/"
    assert client.api_key == FAKE
    aclient = llmswitch.async_client()
    assert str(aclient.base_url) == "https://api.groq.com/openai/v1/" and aclient.api_key == FAKE


def test_client_sends_configured_headers(config_dir):
    config_dir.mkdir(parents=True)
    (config_dir / "config.toml").write_text('[providers.box]\nbase_url = "http://127.0.0.1:9/v1"\n'
                                            'headers = { "X-Title" = "llmswitch" }\n')
    switch("box/some-model")
    client = llmswitch.client()
    assert client.default_headers["X-Title"] == "llmswitch"
    assert client.api_key == keys.KEYLESS_PLACEHOLDER  # loopback custom server: key optional


def test_missing_key_is_an_error_not_an_unauthenticated_request():
    switch("groq/llama-3.1-8b-instant", check_key=False)
    with pytest.raises(MissingKey, match="run: llmswitch key set groq"):
        llmswitch.client()


def test_keyless_local_server_gets_the_documented_placeholder():
    switch("ollama/llama3")
    assert llmswitch.client().api_key == "llmswitch-keyless"


def test_environment_mapping():
    switch("ollama/llama3")
    env = llmswitch.environment(llmswitch.active(), None)
    assert env["OPENAI_BASE_URL"] == env["OPENAI_API_BASE"] == "http://localhost:11434/v1"
    assert env["OPENAI_MODEL"] == "llama3" and "OPENAI_API_KEY" not in env


def test_watcher_picks_up_a_switch_made_by_another_process(run_cli):
    switch("ollama/llama3")
    watcher = llmswitch.watch()
    assert watcher.current().model == "llama3" and not watcher.changed()
    assert run_cli("use", "ollama/qwen2.5:7b").returncode == 0
    assert watcher.changed()
    assert watcher.current().model == "qwen2.5:7b" and not watcher.changed()


def test_selection_dict_is_the_documented_contract():
    switch("ollama/llama3")
    data = selection.read().as_dict()
    assert set(data) == {"role", "provider", "model", "base_url", "api_kind", "key_source", "keyring_service",
                         "keyring_username", "key_env", "key_required", "updated", "headers"}
    assert (data["keyring_service"], data["keyring_username"], data["key_env"]) == ("llmswitch", "ollama", ["OLLAMA_API_KEY"])
    assert json.dumps(data)


def test_watcher_survives_a_failed_read(run_cli, config_dir):
    switch("ollama/llama3")
    watcher = llmswitch.watch()
    assert watcher.current().model == "llama3"
    original = (config_dir / "active.toml").read_text()
    (config_dir / "active.toml").write_text("version = [")
    with pytest.raises(llmswitch.SelectionError):
        watcher.current()
    assert watcher.changed()  # the broken state was not marked as seen
    (config_dir / "active.toml").write_text(original.replace('"llama3"', '"qwen2.5:7b"'))
    assert watcher.current().model == "qwen2.5:7b"
