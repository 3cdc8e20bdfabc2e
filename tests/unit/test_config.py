"""The providers file: every rule of validation, and edits that keep the user's text."""

from __future__ import annotations

from pathlib import Path

import pytest

from llmswitch.store import config
from llmswitch.store.config import ConfigError, check_model_id, load, normalize_base_url


def write(config_dir: Path, text: str) -> Path:
    config_dir.mkdir(parents=True, exist_ok=True)
    path = config_dir / "config.toml"
    path.write_text(text)
    return path


def problems_of(config_dir: Path, text: str) -> list[config.Problem]:
    write(config_dir, text)
    with pytest.raises(ConfigError) as caught:
        load()
    return caught.value.problems


def test_missing_file_is_an_empty_config_and_creates_nothing(config_dir):
    loaded = load()
    assert loaded.exists is False and loaded.providers == {}
    assert not config_dir.exists()


def test_a_valid_file_loads_with_preset_defaults(config_dir):
    write(config_dir, """
[preferences]
probe_timeout = 5

[providers.openrouter]
favorites = ["openai/gpt-4o-mini"]
headers = { "X-Title" = "llmswitch tests" }

[providers.box]
name = "Box"
base_url = "https://llm.example.com/v1/"
key_source = "env:BOX_TOKEN"
timeout = 30
""")
    loaded = load()
    router = loaded.providers["openrouter"]
    assert router.base_url == "https://openrouter.ai/api/v1"
    assert router.key_env == ("OPENROUTER_API_KEY",) and router.key_source == "keyring"
    assert router.key_check_path == "/key" and router.timeout == 5.0
    assert router.headers == {"X-Title": "llmswitch tests"}
    box = loaded.providers["box"]
    assert box.base_url == "https://llm.example.com/v1"  # trailing slash stripped, path kept
    assert (box.key_source, box.key_env, box.timeout) == ("env", ("BOX_TOKEN",), 30.0)


def test_flat_provider_and_model_keys_are_misplaced_with_line_and_fix(config_dir):
    found = problems_of(config_dir, 'PROVIDER = "openrouter"\nMODEL = "gpt-4o"\n')
    assert [(p.line, p.key) for p in found] == [(1, "PROVIDER"), (2, "MODEL")]
    assert all("llmswitch use PROVIDER/MODEL" in p.fix for p in found)
    assert str(found[0]).startswith(f"{config_dir / 'config.toml'}:1: PROVIDER:")


def test_provider_table_at_the_wrong_level(config_dir):
    found = problems_of(config_dir, '\n[openrouter]\nbase_url = "https://openrouter.ai/api/v1"\n')
    assert found[0].line == 2 and "[providers.openrouter]" in found[0].fix


def test_provider_setting_directly_under_providers(config_dir):
    found = problems_of(config_dir, '[providers]\nbase_url = "https://x.example/v1"\n')
    assert found[0].key == "providers.base_url" and found[0].line == 2
    assert "[providers.ID]" in found[0].fix


def test_top_level_provider_setting(config_dir):
    found = problems_of(config_dir, 'base_url = "https://x.example/v1"\n')
    assert "providers.ID" in found[0].fix


def test_unknown_key_gets_did_you_mean(config_dir):
    found = problems_of(config_dir, '[providers.groq]\nbase_ulr = "https://x.example"\n')
    assert found[0].line == 2 and found[0].key == "providers.groq.base_ulr"
    assert "did you mean 'base_url'?" in found[0].fix


def test_unknown_preference_gets_did_you_mean(config_dir):
    found = problems_of(config_dir, "[preferences]\nprobe_timout = 3\n")
    assert "probe_timeout" in found[0].fix


@pytest.mark.parametrize("line", ['api_key = "sk-test-not-a-real-key-0001"', 'key_source = "sk-test-not-a-real-key-0001"'])
def test_a_key_in_the_file_is_refused_without_echoing_it(config_dir, line):
    found = problems_of(config_dir, f"[providers.groq]\n{line}\n")
    assert "llmswitch key set groq" in found[0].fix
    assert all("not-a-real-key" not in str(p) for p in found)


def test_credential_header_is_refused(config_dir):
    found = problems_of(config_dir, '[providers.groq]\nheaders = { Authorization = "Bearer x" }\n')
    assert "credential header" in found[0].cause


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ('[providers.groq]\ntimeout = "10"\n', "number of seconds"),
        ('[providers.groq]\ntimeout = -1\n', "number of seconds"),
        ('[providers.groq]\nkind = "opneai"\n', "did you mean 'openai'"),
        ('[providers.groq]\nfavorites = "llama"\n', "list of model ids"),
        ('[providers.groq]\nfavorites = ["default"]\n', "placeholder"),
        ('[providers.groq]\nkey_required = "yes"\n', "true or false"),
        ('[providers.groq]\nkey_source = "vault"\n', "not a key source"),
        ('[providers.x]\nbase_url = 42\n', "must be a string"),
        ('[providers.x]\nname = "X"\n', "no base_url"),
        ('[providers.x]\nbase_url = "ftp://h/v1"\n', "http:// or https://"),
        ('[providers.x]\nbase_url = "https://user:pw@h/v1"\n', "credentials"),
        ('[providers.x]\nbase_url = "https://h/v1?x=1"\n', "query"),
        ('[providers.x]\npreset = "opnrouter"\n', "did you mean 'openrouter'"),
        ('[providers.Bad_ID]\nbase_url = "https://h"\n', "lowercase"),
        ('providers = 3\n', "table of providers"),
        ('version = 2\n', "unsupported version"),
    ],
)
def test_wrong_values_are_named(config_dir, text, fragment):
    found = problems_of(config_dir, text)
    assert any(fragment in str(p) for p in found), [str(p) for p in found]
    assert all(p.line for p in found if p.key), [str(p) for p in found]


def test_invalid_toml_reports_line_and_leaves_file_untouched(config_dir):
    path = write(config_dir, '[providers.groq]\ntimeout = = 3\n')
    before = path.read_bytes()
    found = problems_of(config_dir, before.decode())
    assert found[0].line == 2 and "invalid TOML" in found[0].cause
    with pytest.raises(ConfigError):
        config.add_provider("ollama", {})
    assert path.read_bytes() == before


def test_plain_http_to_a_remote_host_with_a_key_warns(config_dir):
    write(config_dir, '[providers.box]\nbase_url = "http://llm.example.com/v1"\nkey_required = true\n')
    loaded = load()
    assert loaded.warnings and "plain http" in loaded.warnings[0].cause
    write(config_dir, '[providers.box]\nbase_url = "http://127.0.0.1:9/v1"\n')
    assert load().warnings == ()
    assert load().providers["box"].key_required is False  # loopback custom URL: key optional


@pytest.mark.parametrize("model", ["", "default", "DEFAULT", "<model>", "{model}", "your-model", "model name", " x"])
def test_placeholder_model_ids_are_refused(model):
    assert check_model_id(model)


@pytest.mark.parametrize("model", ["gpt-4o-mini", "anthropic/claude-sonnet-4", "llama3.1:8b", "Qwen/Qwen2.5-7B"])
def test_real_model_ids_pass(model):
    assert check_model_id(model) is None


def test_normalize_base_url():
    assert normalize_base_url(" http://localhost:11434/v1/// ") == "http://localhost:11434/v1"
    for bad in ("localhost:11434", "file:///etc/passwd", "http://:80/v1", "https://h:99999/"):
        with pytest.raises(ValueError):
            normalize_base_url(bad)


def test_add_and_remove_keep_comments_and_other_providers(config_dir):
    path = write(config_dir, '# my providers\n[providers.groq]  # fast\ntimeout = 5\n\n# local box\n[providers.box]\n'
                             'base_url = "http://127.0.0.1:8000/v1"\n[providers.box.headers]\nX-Title = "me"\n')
    config.add_provider("ollama", {"timeout": 3})
    text = path.read_text()
    assert "# my providers" in text and "# fast" in text and "[providers.ollama]" in text
    config.remove_provider("box")
    text = path.read_text()
    assert "[providers.box" not in text and "X-Title" not in text
    assert "# my providers" in text and "[providers.groq]" in text and "[providers.ollama]" in text
    assert set(load().providers) == {"groq", "ollama"}


def test_add_refuses_duplicates_and_invalid_settings_without_writing(config_dir):
    path = write(config_dir, "[providers.groq]\n")
    before = path.read_bytes()
    with pytest.raises(ConfigError, match="already configured"):
        config.add_provider("groq", {})
    with pytest.raises(ConfigError, match="base_url"):
        config.add_provider("box", {"base_url": "ftp://nope"})
    assert path.read_bytes() == before
    config.add_provider("groq", {"timeout": 7}, replace=True)
    assert load().providers["groq"].timeout == 7


def test_file_written_by_add_is_private(config_dir):
    config.add_provider("ollama", {})
    assert (config_dir / "config.toml").stat().st_mode & 0o777 == 0o600
    assert config_dir.stat().st_mode & 0o777 == 0o700


@pytest.mark.parametrize("field", ["kind", "preset", "timeout", "version_in_provider", "name_as_key"])
def test_key_shaped_values_are_never_echoed_in_problems(config_dir, field):
    secret = "sk-test-not-a-real-key-0001"
    text = {
        "kind": f'[providers.groq]\nkind = "{secret}"\n',
        "preset": f'[providers.x]\npreset = "{secret}"\n',
        "timeout": f'[providers.groq]\ntimeout = "{secret}"\n',
        "version_in_provider": f'version = "{secret}"\n',
        "name_as_key": f'[providers.groq]\n"{secret}" = 1\n',
    }[field]
    found = problems_of(config_dir, text)
    assert found and all(secret not in str(p) for p in found)
    assert any("not shown" in str(p) for p in found)


def test_env_source_naming_a_key_is_refused(config_dir):
    found = problems_of(config_dir, '[providers.groq]\nkey_source = "env:gsk_secretvalue123456"\n')
    assert "names a key" in found[0].cause and "gsk_secretvalue123456" not in str(found[0])
    assert config.check_env_name("gsk_secretvalue123456") and config.check_env_name("GROQ_API_KEY") is None


def test_top_level_provider_key_variable_is_called_a_secret(config_dir):
    found = problems_of(config_dir, 'OPENAI_API_KEY = "sk-test-not-a-real-key-0001"\n')
    assert "keys never go in config.toml" in found[0].cause


def test_a_config_others_can_write_is_not_used(config_dir):
    path = write(config_dir, "[providers.groq]\n")
    path.chmod(0o666)
    with pytest.raises(ConfigError, match="chmod 600"):
        load()
    path.chmod(0o600)
    assert "groq" in load().providers


def test_keys_nested_in_values_are_not_echoed_either(config_dir):
    found = problems_of(config_dir, '[providers.x]\npreset = ["sk-test-not-a-real-key-0001"]\n')
    assert all("sk-test-not-a-real-key-0001" not in str(p) for p in found)
