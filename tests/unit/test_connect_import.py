"""llmswitch import: what other tools are set up with becomes llmswitch configuration; keys move only when asked."""

from __future__ import annotations

import json

import pytest

from llmswitch.tools import importing

PLAIN = "sk-test-plaintext-import-0042"
OTHER = "sk-test-other-import-0077"


@pytest.fixture
def home(tool_home, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    return tool_home


def write(path, text):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_every_tool_is_found_with_its_key_reference(home, tmp_path):
    write(home / ".aider.conf.yml", f"model: openai/llama3\nopenai-api-base: http://127.0.0.1:8123/v1\n"
                                    f"openai-api-key: {PLAIN}\n")
    write(home / ".config" / "opencode" / "opencode.json", json.dumps({"provider": {"groq": {
        "npm": "@ai-sdk/openai-compatible", "options": {"baseURL": "https://api.groq.com/openai/v1",
                                                        "apiKey": "{env:GROQ_API_KEY}"},
        "models": {"llama-3.1-8b-instant": {}}}}}))
    write(home / ".codex" / "config.toml", 'model = "gpt-5"\nmodel_provider = "or"\n[model_providers.or]\n'
                                           'base_url = "https://openrouter.ai/api/v1"\nenv_key = "OPENROUTER_API_KEY"\n')
    write(home / ".claude" / "settings.json", json.dumps({"apiKeyHelper": "pass show anthropic",
                                                          "env": {"ANTHROPIC_MODEL": "claude-sonnet-4-5"}}))
    write(home / ".continue" / "config.yaml", "models:\n  - name: Mine\n    provider: openai\n    model: gpt-4o\n"
                                              "    apiKey: ${{ secrets.OPENAI_API_KEY }}\n")
    write(tmp_path / ".env", f"OPENAI_API_KEY={PLAIN}\nOPENAI_BASE_URL=https://api.together.xyz/v1\n"
                             f"OPENAI_MODEL=meta-llama/Llama-3-8b\n")
    found = {f.source: f for f in importing.discover()}
    assert set(found) == {"aider", "opencode", "codex", "claude-code", "continue-cli", "env"}
    aider = found["aider"]
    assert (aider.provider, aider.base_url, aider.models) == ("local", "http://127.0.0.1:8123/v1", ("llama3",))
    assert (aider.key.kind, aider.key.line, aider.key.file) == ("plaintext", 3, home / ".aider.conf.yml")
    assert PLAIN not in repr(aider) and PLAIN not in json.dumps(aider.as_dict())
    assert (found["opencode"].provider, found["opencode"].key.name) == ("groq", "GROQ_API_KEY")
    assert found["opencode"].base_url is None  # the preset's own URL
    assert (found["codex"].provider, found["codex"].models, found["codex"].key.name) == (
        "openrouter", ("gpt-5",), "OPENROUTER_API_KEY")
    assert (found["claude-code"].provider, found["claude-code"].key.kind, found["claude-code"].kind) == (
        "anthropic", "command", "anthropic")
    assert (found["continue-cli"].provider, found["continue-cli"].key.kind) == ("openai", "env")
    assert (found["env"].provider, found["env"].models) == ("togetherai", ("meta-llama/Llama-3-8b",))


def test_llmswitch_own_connections_are_not_imported(home, run_cli):
    write(home / ".continue" / "config.yaml", 'models:\n  - name: "llmswitch"\n    provider: openai\n    model: x\n')
    write(home / ".claude" / "settings.json", json.dumps({"apiKeyHelper": "/usr/bin/llmswitch key get gw"}))
    assert importing.discover() == []


def test_import_lists_then_adds_without_moving_the_plaintext_key(home, run_cli, config_dir):
    aider = write(home / ".aider.conf.yml", f"model: openai/llama3\nopenai-api-base: http://127.0.0.1:8123/v1\n"
                                            f"openai-api-key: {PLAIN}\n")
    listed = run_cli("import", "aider")
    assert listed.returncode == 0 and PLAIN not in listed.stdout + listed.stderr
    assert f"a plaintext key in {aider} (line 3)" in listed.stdout
    assert not (config_dir / "config.toml").exists()  # listing writes nothing
    added = run_cli("import", "aider", "--add")
    assert added.returncode == 0, added.stderr
    assert PLAIN not in added.stdout + added.stderr
    assert f"{aider} (line 3) holds a plaintext key for local; it was not moved" in added.stdout
    assert "llmswitch use local/llama3" in added.stdout
    assert "http://127.0.0.1:8123/v1" in (config_dir / "config.toml").read_text()
    assert run_cli("key", "get", "local").stdout.strip() != PLAIN
    assert aider.read_text().endswith(f"{PLAIN}\n")  # their file is never edited


def test_move_keys_stores_it_and_names_the_file_still_holding_it(home, run_cli):
    env_file = write(home / ".env", f"# mine\nGROQ_API_KEY={PLAIN}\n")
    done = run_cli("import", "env", "--add", "--move-keys")
    assert done.returncode == 0, done.stderr
    assert PLAIN not in done.stdout + done.stderr
    assert f"moved the key for groq into the keyring; {env_file} (line 2) still holds the plaintext copy" in done.stdout
    assert run_cli("key", "get", "groq").stdout.strip() == PLAIN
    assert env_file.read_text() == f"# mine\nGROQ_API_KEY={PLAIN}\n"


def test_a_different_key_already_in_the_keyring_is_kept(home, run_cli):
    run_cli("key", "set", "groq", input=OTHER)
    write(home / ".env", f"GROQ_API_KEY={PLAIN}\n")
    done = run_cli("import", "env", "--add", "--move-keys")
    assert "the keyring already holds another key for groq: it was kept" in done.stdout
    assert run_cli("key", "get", "groq").stdout.strip() == OTHER


def test_key_references_become_the_key_source(home, run_cli, config_dir):
    write(home / ".codex" / "config.toml", '[model_providers.box]\nbase_url = "http://127.0.0.1:9000/v1"\n'
                                           'env_key = "BOX_TOKEN"\n')
    write(home / ".claude" / "settings.json", json.dumps({"apiKeyHelper": "pass show anthropic"}))
    done = run_cli("import", "codex", "claude-code", "--add", "--json")
    assert done.returncode == 0, done.stderr
    text = (config_dir / "config.toml").read_text()
    assert 'key_source = "env:BOX_TOKEN"' in text and 'key_source = "command:pass show anthropic"' in text
    assert {r["provider"] for r in json.loads(done.stdout)} == {"local", "anthropic"}
    assert run_cli("import", "nowhere").returncode == 2


def test_each_tool_module_discovers_its_own_files_and_importing_names_none_of_them(tmp_path):
    """A new tool is one module: it has its own discover, and importing.py knows no tool's file or location variable."""
    import inspect
    import re
    from pathlib import Path

    from llmswitch.tools import connect
    from llmswitch.tools.connect.base import Tool

    source = Path(inspect.getfile(importing)).read_text()
    environ = {"HOME": str(tmp_path)}
    assert set(importing.SOURCES) == {*connect.names(), "env"}
    for name in connect.names():
        tool = connect.tool(name)
        assert type(tool).discover is not Tool.discover, f"{name} has no discover of its own"
        module = Path(inspect.getfile(type(tool))).read_text()
        names = {path.name for path in tool.files(environ).values()}
        names |= {path.relative_to(tmp_path).parts[0] for path in tool.files(environ).values()}
        names |= set(re.findall(r"environ(?:\.get\(|\[)\"([A-Z_]+)\"", module)) - {"HOME"}
        names |= {value for value in vars(inspect.getmodule(type(tool))).values()
                  if isinstance(value, str) and re.fullmatch(r"\.?[\w.-]+\.(json|jsonc|toml|ya?ml|txt)|\.\w+", value)}
        names.discard(".env")  # a .env file is import's own source too (a tool names its own in env_files)
        for fact in names:
            assert not re.search(rf"(?<![\w.]){re.escape(fact)}(?!\w)", source), \
                f"importing.py names {name}'s {fact!r}; it belongs in {name}'s module"
