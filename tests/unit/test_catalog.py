"""Presets: one table for hosted catalog providers and local servers."""

from __future__ import annotations

import pytest

from llmswitch.store import catalog
from llmswitch.store.config import load


def test_local_presets_have_defaults_and_env_overrides(monkeypatch):
    expected = {
        "ollama": ("OLLAMA_BASE_URL", "http://localhost:11434/v1"),
        "lm_studio": ("LMSTUDIO_BASE_URL", "http://127.0.0.1:1234/v1"),
        "vllm": ("VLLM_BASE_URL", "http://127.0.0.1:8000/v1"),
        "llamacpp": ("LLAMACPP_BASE_URL", "http://127.0.0.1:8080/v1"),
        "litellm": ("LITELLM_PROXY_URL", "http://127.0.0.1:4000/v1"),
        "openai-compat": ("OPENAI_COMPAT_BASE_URL", None),
    }
    for pid, (env, default) in expected.items():
        preset = catalog.preset(pid)
        assert (preset.url_env, preset.resolved_base_url()) == (env, default)
        assert preset.local and not preset.key_required
        monkeypatch.setenv(env, "http://10.0.0.5:9999/v1/")
        assert catalog.preset(pid).resolved_base_url() == "http://10.0.0.5:9999/v1"


def test_prefixes_resolve_through_the_same_table():
    assert catalog.preset("lm_studio") is catalog.preset("lmstudio")
    assert catalog.preset("llamacpp") is catalog.preset("llama.cpp")
    assert catalog.preset("openai-compat") is catalog.preset("openai_compat")
    config = load()
    for prefix in ("ollama", "lm_studio", "vllm", "llamacpp", "openai-compat", "litellm"):
        assert config.provider(prefix).id == catalog.preset(prefix).id


def test_hosted_presets_come_from_the_bundled_catalog():
    router = catalog.preset("openrouter")
    assert router.base_url == "https://openrouter.ai/api/v1" and router.key_env == ("OPENROUTER_API_KEY",)
    assert router.key_check_path == "/key"
    assert len(router.models) > 100
    groq = catalog.preset("groq")
    assert groq.base_url == "https://api.groq.com/openai/v1"
    info = catalog.model_info("groq", "llama-3.1-8b-instant")
    assert info.context and info.context >= 8000 and info.input_price is not None
    assert len(catalog.all_models()) > 4000
    assert catalog.preset("anthropic").kind == "anthropic"


def test_works_without_the_catalog(monkeypatch):
    monkeypatch.setattr(catalog, "_hosted", lambda: {})
    derived = (catalog._local_model_catalog, catalog._presets, catalog._alias_table)
    for cached in derived:
        cached.cache_clear()
    try:
        assert catalog.preset("openrouter") is None
        assert catalog.preset("ollama").base_url == "http://localhost:11434/v1"
        assert catalog.model_info("ollama", "llama3") is None
    finally:
        for cached in derived:
            cached.cache_clear()


@pytest.mark.cold_catalog
def test_the_provider_index_is_cached_and_rebuilt_when_broken(monkeypatch):
    import os

    assert os.environ["LLMSWITCH_CACHE_DIR"] in str(catalog._index_path())
    import json

    for cached in (catalog._index, catalog._hosted, catalog._presets, catalog._alias_table):
        cached.cache_clear()
    try:
        path = catalog._index_path()
        assert not path.exists()
        assert catalog.preset("openrouter").base_url == "https://openrouter.ai/api/v1"
        index = json.loads(path.read_text())
        assert index["openrouter"]["env"] == ["OPENROUTER_API_KEY"] and "models" not in index["openrouter"]
        for cached in (catalog._index, catalog._hosted, catalog._presets, catalog._alias_table):
            cached.cache_clear()
        with monkeypatch.context() as patched:
            patched.setattr(catalog, "_raw", lambda: (_ for _ in ()).throw(AssertionError("parsed the catalog")))
            assert catalog.preset("groq").base_url == "https://api.groq.com/openai/v1"  # from the index alone
        path.write_text("{not json")
        for cached in (catalog._index, catalog._hosted, catalog._presets, catalog._alias_table):
            cached.cache_clear()
        assert catalog.preset("groq") is not None and json.loads(path.read_text())["groq"]
    finally:
        for cached in (catalog._index, catalog._hosted, catalog._presets, catalog._alias_table):
            cached.cache_clear()


def test_local_presets_need_no_catalog(monkeypatch):
    monkeypatch.setattr(catalog, "_hosted", lambda: (_ for _ in ()).throw(AssertionError("loaded the catalog")))
    assert catalog.preset("ollama").id == "ollama" and catalog.preset("lmstudio").id == "lm_studio"
