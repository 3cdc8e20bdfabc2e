"""llmswitch connect continue: entries at the top of config.yaml's models list, secrets reference, roles."""

from __future__ import annotations

import pytest
import yaml

from upstreams import FAKE_KEY, openai_like

ORIGINAL = ("name: My Config\nversion: 1.0.0\nschema: v1\n# my models\nmodels:\n  - name: Mine\n    provider: ollama\n"
            "    model: llama3\n    roles:\n      - chat\ncontext:\n  - provider: code\n")


@pytest.fixture
def home(tmp_path, monkeypatch):
    home = tmp_path / "tool-home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.delenv("CONTINUE_GLOBAL_DIR", raising=False)
    return home


@pytest.fixture
def provider(upstream, run_cli, home):
    server = openai_like(upstream())
    assert run_cli("providers", "add", "up", "--base-url", server.url + "/v1").returncode == 0
    assert run_cli("key", "set", "up", input=FAKE_KEY).returncode == 0
    assert run_cli("use", "up/gpt-4o").returncode == 0
    return server


def config(home):
    return home / ".continue" / "config.yaml"


def test_connect_puts_its_entry_first_keeps_the_rest_and_disconnect_restores(provider, run_cli, home):
    path = config(home)
    path.parent.mkdir()
    path.write_text(ORIGINAL)
    done = run_cli("connect", "continue-cli")
    assert done.returncode == 0, done.stderr
    text = path.read_text()
    assert FAKE_KEY not in text and "# my models" in text
    data = yaml.safe_load(text)
    first, mine = data["models"]
    assert first == {"name": "llmswitch", "provider": "openai", "model": "gpt-4o", "apiBase": provider.url + "/v1",
                     "apiKey": "${{ secrets.OPENAI_API_KEY }}", "roles": ["chat", "edit", "apply", "summarize"]}
    assert mine["name"] == "Mine" and data["context"] == [{"provider": "code"}]
    assert "llmswitch exec -- cn" in done.stdout
    assert run_cli("disconnect", "continue-cli").returncode == 0
    assert path.read_text() == ORIGINAL


def test_roles_map_to_autocomplete_and_embed_and_use_follows(provider, run_cli, home):
    assert run_cli("use", "--role", "small", "up/gpt-4o-mini").returncode == 0
    assert run_cli("use", "--role", "embedding", "up/text-embedding-3-small").returncode == 0
    done = run_cli("connect", "continue-cli", "--role", "autocomplete=small", "--role", "embed=embedding")
    assert done.returncode == 0, done.stderr
    models = yaml.safe_load(config(home).read_text())["models"]
    assert [(m["name"], m["model"], m["roles"]) for m in models] == [
        ("llmswitch", "gpt-4o", ["chat", "edit", "apply", "summarize"]),
        ("llmswitch autocomplete", "gpt-4o-mini", ["autocomplete"]),
        ("llmswitch embed", "text-embedding-3-small", ["embed"])]
    assert run_cli("use", "up/gpt-4.1").returncode == 0
    assert yaml.safe_load(config(home).read_text())["models"][0]["model"] == "gpt-4.1"
    assert "continue-cli: matches the selection" in run_cli("connections").stdout


def test_a_new_file_gets_the_schema_header(provider, run_cli, home):
    assert run_cli("connect", "continue-cli").returncode == 0
    data = yaml.safe_load(config(home).read_text())
    assert (data["schema"], data["models"][0]["name"]) == ("v1", "llmswitch")
    assert run_cli("disconnect", "continue-cli").returncode == 0
    assert not config(home).exists()


def test_an_env_key_source_is_the_secret_name(upstream, run_cli, home, monkeypatch):
    server = openai_like(upstream())
    monkeypatch.setenv("UP_KEY", FAKE_KEY)
    assert run_cli("providers", "add", "up", "--base-url", server.url + "/v1", "--key-source",
                   "env:UP_KEY").returncode == 0
    assert run_cli("use", "up/gpt-4o").returncode == 0
    assert run_cli("connect", "continue-cli").returncode == 0
    assert yaml.safe_load(config(home).read_text())["models"][0]["apiKey"] == "${{ secrets.UP_KEY }}"
