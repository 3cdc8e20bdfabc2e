"""What a preset serves is a preset field (``Preset.serves``); connect and ``exec`` read it, nothing else decides it."""

from __future__ import annotations

from pathlib import Path

import pytest

from llmswitch.base.errors import LlmswitchError
from llmswitch.net import anthropic_env
from llmswitch.store import catalog
from llmswitch.store.config.model import Config, ProviderConfig
from llmswitch.store.refs import selection_for
from llmswitch.tools import connect
from llmswitch.tools.connect import engine, verify
from llmswitch.tools.connect.base import Protocol, Target
from upstreams import Reply

FAKE_KEY = "sk-serves-fake-0123456789"


def test_the_protocol_names_are_connects():
    assert tuple(p.name.lower() for p in Protocol) == catalog.PROTOCOLS
    assert all(p.serves <= set(catalog.PROTOCOLS) for p in catalog.presets().values())
    assert all(served <= set(catalog.PROTOCOLS) for served in catalog.KIND_SERVES.values())


def test_the_documented_facts():
    chat, responses, messages, gemini = catalog.PROTOCOLS
    assert catalog.preset("openai").serves == {chat, responses}
    assert catalog.preset("azure").serves == {chat, responses}
    assert catalog.preset("anthropic").serves == {messages}
    assert catalog.preset("openrouter").serves == {chat, responses, messages}
    assert catalog.preset("litellm").serves == {chat, responses, messages, gemini}  # /v1beta/models/M:generateContent
    assert catalog.preset("google").serves == {chat, gemini}
    assert catalog.preset("ollama").serves == frozenset() and catalog.preset("groq").serves == frozenset()


def test_served_by_is_the_field_for_every_id_and_alias_without_the_hosted_catalog():
    table = catalog.presets()
    names = [(name, p) for p in table.values() for name in (p.id, *p.aliases)] + [("lmstudio", table["lm_studio"])]
    for cached in (catalog._hosted, catalog._index, catalog._presets, catalog._alias_table):
        cached.cache_clear()
    for name, preset in names:
        assert catalog.served_by(name) == preset.serves, name
    assert catalog._index.cache_info().currsize == 0  # exec's Messages check never loads the hosted catalog
    assert catalog.served_by("no-such-preset") == frozenset() and catalog.served_by(None) == frozenset()


@pytest.mark.parametrize("pid", catalog.preset_ids())
def test_connect_knows_what_the_field_says(pid):
    preset = catalog.preset(pid)
    provider = ProviderConfig(id="mine", name="mine", base_url="http://127.0.0.1:9/v1", kind=preset.kind, preset=pid)
    documented = preset.serves or catalog.KIND_SERVES.get(preset.kind)
    assert verify.known(provider) == (verify.protocols(documented) if documented else None)
    gateway = {"chat", "messages"} <= preset.serves
    assert anthropic_env.is_messages_gateway(pid) is gateway


DECIDED = [pid for pid in catalog.preset_ids()
           if catalog.preset(pid).serves or catalog.preset(pid).kind in catalog.KIND_SERVES]


@pytest.mark.parametrize("pid", DECIDED)
def test_connect_refuses_exactly_what_the_preset_does_not_serve(pid, upstream, monkeypatch, tmp_path: Path):
    """Through the engine's real check and a real server: refused before any request, or probed at the route."""
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("SERVES_KEY", FAKE_KEY)
    server = upstream()
    for protocol in Protocol:
        server.post(protocol.route("/v1", "m1"), Reply.json({"id": "ok"}))
    preset = catalog.preset(pid)
    served = verify.protocols(preset.serves or catalog.KIND_SERVES[preset.kind])
    provider = ProviderConfig(id="mine", name="mine", base_url=server.url + "/v1", kind=preset.kind, preset=pid,
                              key_source="env", key_env=("SERVES_KEY",))
    config = Config(path=tmp_path / "config.toml", exists=False, providers={"mine": provider})
    checked = 0
    for name in connect.names():
        tool = connect.tool(name)
        target = Target("main", "default", selection_for(provider, "m1"), provider)
        if tool.problem(target):
            continue  # refused for its API kind, before protocols matter
        checked += 1
        before = len(server.requests)
        if tool.protocol in served:
            assert [v.ok for v in engine.check_protocol(tool, {"main": target}, config)] == [True], name
            assert [r.path for r in server.requests[before:]] == [tool.protocol.route("/v1", "m1")], name
        else:
            with pytest.raises(LlmswitchError) as refused:
                engine.check_protocol(tool, {"main": target}, config)
            assert f"mine does not serve {tool.protocol.label}" in refused.value.cause, name
            assert len(server.requests) == before, name  # refused from the field alone: nothing was sent
    assert checked or preset.kind == "azure", pid
