"""Issue 21: ``/model`` and ``/models`` in chat rank your configured, working, recently used models first.

Found as a new user would: a working local server and a proxy configured and used, a hosted
provider's key in the environment (so its catalog models are among "yours"), and once tried an
unconfigured preset's model — which was then listed first for ``/model mini`` and ``/model llama``,
and ``/models llama`` listed the catalog's ``llama`` provider instead of the model in use.
"""

from __future__ import annotations

import pytest

from llmswitch.net.probe import probe_sync
from llmswitch.net.probe.targets import for_provider
from llmswitch.repl import ModelSwitcher
from llmswitch.store import state
from upstreams import FAKE_KEY, Reply, chat_completions, litellm_like, models_body


@pytest.fixture
def yours(upstream, config_dir, monkeypatch):
    """``box`` (a llama.cpp server) and ``proxy`` (a LiteLLM proxy), configured, probed and used; a Groq and an
    OpenAI key in the environment; and an unconfigured preset's model tried more recently than both."""
    box = upstream()
    box.get("/v1/models", Reply.json(models_body(["tiny-random-llama"], owned_by="llamacpp")))
    box.post("/v1/chat/completions", chat_completions())
    proxy = litellm_like(upstream(), models=("gpt-4o-mini", "claude-haiku"))
    config_dir.mkdir(parents=True, exist_ok=True)
    (config_dir / "config.toml").write_text(
        f'[providers.box]\nbase_url = "{box.url}/v1"\nkey_source = "none"\n'
        f'[providers.proxy]\nbase_url = "{proxy.url}/v1"\nkey_source = "env:PROXY_KEY"\n')
    monkeypatch.setenv("PROXY_KEY", FAKE_KEY)
    monkeypatch.setenv("GROQ_API_KEY", "gsk_test_0123456789abcdef0123456789")
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-openai-0123456789abcdef0123")
    from llmswitch.store.config import load

    config = load()
    for pid in ("box", "proxy"):  # both work: their last probe was usable
        target, _ = for_provider(config.provider(pid))
        (result,) = probe_sync([target])
        assert result.usable, result.sentence()
        state.remember(result, target.base_url)
    from llmswitch.services.switch import switch

    switch("box/tiny-random-llama")
    state.add_recent("proxy/gpt-4o-mini")
    state.add_recent("groq/llama-3.1-8b-instant")  # tried once, never configured, and the most recent
    state.add_recent("openai/o4-mini")
    return box, proxy


def test_model_mini_ranks_the_configured_working_recent_model_first(yours):
    reply = ModelSwitcher(interactive=False).handle("/model mini")
    assert reply.choices[0] == "proxy/gpt-4o-mini", reply.text
    assert "openai/o4-mini" in reply.choices  # still offered, after yours


def test_model_llama_ranks_the_configured_working_model_first(yours):
    s = ModelSwitcher(interactive=False)
    s.handle("/model proxy/claude-haiku")  # the current provider is the other one of yours
    reply = s.handle("/model llama")
    assert reply.choices[0] == "box/tiny-random-llama", reply.text
    assert any(ref.startswith("groq/") for ref in reply.choices)
    assert s.handle("/model 1").selection.ref == "box/tiny-random-llama"


def test_models_llama_lists_matching_models_not_an_unconfigured_provider_named_llama(yours):
    reply = ModelSwitcher(interactive=False).handle("/models llama")
    assert reply.ok and reply.choices[0] == "box/tiny-random-llama", reply.text
    assert "(/models llama/ lists the provider llama)" in reply.text
    provider = ModelSwitcher(interactive=False).handle("/models llama/")
    assert provider.choices and all(ref.startswith("llama/") for ref in provider.choices)


def test_models_lists_yours_that_work_before_the_rest(yours):
    reply = ModelSwitcher(interactive=False).handle("/models")
    assert reply.choices[0] == "box/tiny-random-llama"  # the current one
    assert set(reply.choices[1:3]) == {"proxy/gpt-4o-mini", "proxy/claude-haiku"}, reply.text


def test_a_configured_provider_whose_probe_failed_ranks_after_one_that_works(yours):
    box, proxy = yours
    proxy.stop()  # the proxy is down now, and a probe saw it
    from llmswitch.store.config import load

    target, _ = for_provider(load().provider("proxy"))
    (result,) = probe_sync([target])
    assert not result.usable
    state.remember(result, target.base_url)
    s = ModelSwitcher(interactive=False)
    from llmswitch.repl.index import ModelIndex
    from llmswitch.services.matching import CONFIGURED, WORKING

    index = ModelIndex(load())
    assert index.standing["box"] == WORKING and index.standing["proxy"] == CONFIGURED
    assert "groq" not in index.standing
    assert s.handle("/model mini").choices[0] == "proxy/gpt-4o-mini"  # configured still beats a bare preset


def test_completion_offers_yours_that_work_first(yours):
    from llmswitch.repl.index import ModelIndex
    from llmswitch.store.config import load

    index = ModelIndex(load())
    assert index.complete_word("")[:2] == ["proxy/gpt-4o-mini", "box/tiny-random-llama"]  # recent first among them
