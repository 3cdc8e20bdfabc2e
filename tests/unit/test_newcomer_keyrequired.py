"""Issue 14: what a probe saw about the key is learned, and every reader of ``key_required`` uses it."""

from __future__ import annotations

import json

from llmswitch.store import selection, state
from llmswitch.store.config import load
from upstreams import FAKE_KEY, MISSING_KEY_ERROR, Reply, models_body, ollama_like, openai_error, openai_like, sequence


def _box(config_dir, url: str) -> None:
    config_dir.mkdir(parents=True, exist_ok=True)
    (config_dir / "config.toml").write_text(f'[providers.box]\nbase_url = "{url}/v1"\n')


def test_a_loopback_server_that_answered_401_needs_a_key_thereafter(upstream, config_dir, run_cli):
    server = openai_like(upstream())
    _box(config_dir, server.url)
    assert load().provider("box").key_required is False  # loopback custom server: optional until it says otherwise
    assert run_cli("use", "box/gpt-4o").returncode == 0
    assert "(optional)" in run_cli("current").stdout

    probed = run_cli("probe", "box")
    assert probed.returncode != 0, probed.stdout

    assert state.needs_key("box", f"{server.url}/v1") is True
    assert load().provider("box").key_required is True
    where = run_cli("key", "where", "box")
    assert "no key — run: llmswitch key set box" in where.stdout, where.stdout
    assert json.loads(run_cli("key", "where", "box", "--json").stdout)["required"] is True
    current = run_cli("current")
    assert "(optional)" not in current.stdout, current.stdout  # the role written before the probe was refreshed
    assert selection.read().key_required is True
    switched = run_cli("use", "box/gpt-4o")
    assert "no API key found" in switched.stderr, switched.stderr  # the switch warns about the missing key


def test_what_was_learned_is_unlearned_when_the_server_answers_without_a_key(upstream, config_dir, run_cli):
    server = upstream()
    server.get("/v1/models", sequence(openai_error(MISSING_KEY_ERROR), Reply.json(models_body(["m"]))))
    _box(config_dir, server.url)
    run_cli("probe", "box")
    assert load().provider("box").key_required is True
    again = run_cli("probe", "box")  # now it lists without a key
    assert "without one" in again.stdout, again.stdout
    assert state.needs_key("box", f"{server.url}/v1") is False
    assert load().provider("box").key_required is False


def test_what_was_learned_at_one_url_does_not_follow_the_provider_to_another(upstream, config_dir, run_cli):
    server = openai_like(upstream())
    _box(config_dir, server.url)
    run_cli("probe", "box")
    assert load().provider("box").key_required is True
    _box(config_dir, ollama_like(upstream()).url)
    assert load().provider("box").key_required is False


def test_a_key_written_in_config_wins_over_what_was_learned(upstream, config_dir, run_cli):
    server = openai_like(upstream())
    _box(config_dir, server.url)
    run_cli("probe", "box")
    (config_dir / "config.toml").write_text(f'[providers.box]\nbase_url = "{server.url}/v1"\nkey_required = false\n')
    assert load().provider("box").key_required is False


def test_a_preset_probed_at_its_url_learns_too(upstream, run_cli, monkeypatch):
    server = openai_like(upstream(), key=FAKE_KEY)
    monkeypatch.setenv("OLLAMA_BASE_URL", f"{server.url}/v1")
    assert load().provider("ollama").key_required is False
    run_cli("probe", "ollama")
    assert load().provider("ollama").key_required is True
    where = run_cli("key", "where", "ollama")
    assert "optional" not in where.stdout, where.stdout
