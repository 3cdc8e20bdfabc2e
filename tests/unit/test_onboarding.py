"""Onboarding without a screen: detection against real 127.0.0.1 servers, and the all-or-nothing write."""

from __future__ import annotations

import tomllib

import pytest

from llmswitch.base import paths
from llmswitch.base.outcome import Outcome
from llmswitch.net.probe import probe_sync
from llmswitch.services import onboarding
from llmswitch.store import keys, selection
from upstreams import FAKE_KEY, OTHER_KEY, free_port, litellm_like, ollama_like

LOCAL_URL_VARS = ("OLLAMA_BASE_URL", "LMSTUDIO_BASE_URL", "VLLM_BASE_URL", "LLAMACPP_BASE_URL", "LITELLM_PROXY_URL")


@pytest.fixture
def servers(upstream, monkeypatch):
    """Ollama (keyless) and a LiteLLM proxy (master key) answering; nothing at the other local ports."""
    for name in LOCAL_URL_VARS:
        monkeypatch.setenv(name, f"http://127.0.0.1:{free_port()}/v1")
    ollama = ollama_like(upstream())
    litellm = litellm_like(upstream())
    monkeypatch.setenv("OLLAMA_BASE_URL", ollama.url + "/v1")
    monkeypatch.setenv("LITELLM_PROXY_URL", litellm.url + "/v1")
    return {"ollama": ollama, "litellm": litellm}


async def test_detects_the_local_servers_that_answer(servers):
    found = await onboarding.detect_local()
    assert set(found.found) == {"ollama", "litellm"}
    assert set(found.missing) == {"lm_studio", "vllm", "llamacpp"}
    assert found.found["ollama"].outcome is Outcome.KEYLESS
    assert found.found["litellm"].outcome is Outcome.AUTH_MISSING  # there, but wants its master key
    assert not onboarding.wants_key("ollama", found.found["ollama"])
    assert onboarding.wants_key("litellm", found.found["litellm"])
    assert onboarding.wants_key("openrouter")  # hosted: always
    assert not onboarding.wants_key("vllm")  # nothing answered: a local server needs no key


def test_local_targets_are_keyless_short_and_follow_the_env_overrides(servers):
    targets = {t.provider: t for t in onboarding.local_targets()}
    assert list(targets) == list(onboarding.LOCAL_IDS)
    assert targets["ollama"].base_url == servers["ollama"].url + "/v1"
    assert all(t.key is None and not t.key_required and t.timeout == onboarding.DETECT_TIMEOUT
               for t in targets.values())
    assert targets["ollama"].preset == "ollama"


def test_env_keys_name_the_variable_never_the_key():
    found = onboarding.env_keys({"OPENROUTER_API_KEY": FAKE_KEY, "GROQ_API_KEY": "  ", "LMSTUDIO_API_KEY": "x"})
    assert found == {"openrouter": "OPENROUTER_API_KEY"}  # blank values and local servers are not keys


def test_a_typed_key_is_probed_before_anything_is_stored(servers):
    choices = [onboarding.choice_for("litellm"), onboarding.choice_for("ollama")]
    choices[0].key = FAKE_KEY
    targets = onboarding.probe_targets(choices)
    results = {r.provider: r for r in probe_sync(targets)}
    assert results["litellm"].usable and results["ollama"].usable
    assert keys.stored("litellm") is None
    assert FAKE_KEY not in repr(choices[0])


def test_choice_keeps_a_base_url_moved_by_an_env_override(servers):
    assert onboarding.choice_for("ollama").base_url == servers["ollama"].url + "/v1"
    assert onboarding.choice_for("openrouter").base_url is None  # the preset's own URL is not written


def config_text() -> str | None:
    path = paths.config_file()
    return path.read_text() if path.exists() else None


def test_finish_writes_keys_providers_and_roles(servers):
    litellm, ollama = onboarding.choice_for("litellm"), onboarding.choice_for("ollama")
    litellm.key = FAKE_KEY
    written = onboarding.finish([litellm, ollama], {"default": "ollama/llama3.2:latest", "small": "litellm/gpt-4o"})
    assert written.keys == ["litellm"] and written.providers == ["litellm", "ollama"]
    assert written.roles == ["default", "small"]
    assert FAKE_KEY not in repr(written)
    assert keys.stored("litellm") == FAKE_KEY
    assert set(tomllib.loads(config_text())["providers"]) == {"litellm", "ollama"}
    assert selection.read("small").ref == "litellm/gpt-4o"


@pytest.fixture
def before(isolated):
    """A config.toml with a provider and a comment, an active default and a stored key, all kept as they are."""
    from llmswitch.services.switch import switch
    from llmswitch.store.config import add_provider

    add_provider("acme", {"base_url": "http://127.0.0.1:9/v1", "key_source": "none"})
    path = paths.config_file()
    path.write_text(path.read_text() + "# my own note, kept verbatim\n")
    switch("acme/alpha", "default", check_key=False)
    keys.store("litellm", OTHER_KEY)
    return {"config": path.read_bytes(), "active": paths.active_file().read_bytes()}


def unchanged(before: dict[str, bytes]) -> bool:
    return (paths.config_file().read_bytes() == before["config"]
            and paths.active_file().read_bytes() == before["active"]
            and keys.stored("litellm") == OTHER_KEY and keys.stored("ollama") is None)


def test_a_provider_refused_in_the_middle_puts_everything_back(servers, before):
    litellm, ollama = onboarding.choice_for("litellm"), onboarding.choice_for("ollama")
    litellm.key, ollama.key = FAKE_KEY, "sk-ollama-test-key-0003"
    ollama.base_url = "ftp://127.0.0.1/v1"  # refused by config validation after litellm was added
    with pytest.raises(onboarding.SetupFailed) as failed:
        onboarding.finish([litellm, ollama], {"default": "litellm/gpt-4o"})
    assert "http" in failed.value.cause and "nothing was written" in failed.value.fix
    assert unchanged(before)  # litellm's table gone, its old key back, ollama's key deleted


def test_a_key_refused_in_the_middle_puts_the_first_key_back(servers, before):
    litellm, ollama = onboarding.choice_for("litellm"), onboarding.choice_for("ollama")
    litellm.key, ollama.key = FAKE_KEY, "two words"
    with pytest.raises(onboarding.SetupFailed) as failed:
        onboarding.finish([litellm, ollama], {"default": "ollama/llama3.2:latest"})
    assert "U+0020 SPACE" in failed.value.cause
    assert unchanged(before)
    assert FAKE_KEY not in failed.value.sentence() and "two words" not in failed.value.sentence()


def test_a_refused_selection_write_puts_config_and_keys_back(servers, before, tmp_path):
    target = tmp_path / "elsewhere.toml"
    target.write_bytes(before["active"])
    active = paths.active_file()
    active.unlink()
    active.symlink_to(target)  # llmswitch never writes through a symlink
    litellm = onboarding.choice_for("litellm")
    litellm.key = FAKE_KEY
    with pytest.raises(onboarding.SetupFailed) as failed:
        onboarding.finish([litellm], {"default": "litellm/gpt-4o"})
    assert "symlink" in failed.value.cause
    assert "nothing was written" in failed.value.fix
    assert paths.config_file().read_bytes() == before["config"]
    assert keys.stored("litellm") == OTHER_KEY
    assert active.is_symlink() and target.read_bytes() == before["active"]


def test_a_new_config_file_is_removed_again(servers, isolated):
    with pytest.raises(onboarding.SetupFailed) as failed:
        onboarding.finish([onboarding.choice_for("litellm")], {"default": "ghost-provider-xyz/model"})
    assert "ghost-provider-xyz" in failed.value.cause
    assert not paths.config_file().exists() and not paths.active_file().exists()


def test_a_find_from_another_tool_keeps_its_key_reference_never_a_plaintext_key(tmp_path):
    from llmswitch.tools.importing import Found, FoundKey

    file = tmp_path / "conf"
    by_env = onboarding.choice_for_found(Found("opencode", file, "groq", None, key=FoundKey("env", file, "GROQ_KEY")))
    assert (by_env.pid, by_env.env_var, by_env.settings()) == ("groq", "GROQ_KEY", {"key_source": "env:GROQ_KEY"})
    by_command = onboarding.choice_for_found(Found("codex", file, "corp", "https://llm.corp.example/v1",
                                                   key=FoundKey("command", file, "pass show corp")))
    assert by_command.settings() == {"key_source": "command:pass show corp", "name": "corp (from codex)",
                                     "base_url": "https://llm.corp.example/v1"}
    plain = onboarding.choice_for_found(Found("aider", file, "local", "http://127.0.0.1:8080/v1",
                                              key=FoundKey("plaintext", file, secret="sk-test-plain-0001")))
    assert plain.key is None and plain.env_var is None and plain.local
    assert "sk-test-plain-0001" not in repr(plain.settings())
