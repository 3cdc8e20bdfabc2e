"""A header whose value comes from a key source reaches the server, from the probe and from client()."""

from __future__ import annotations

import pytest

from llmswitch import api
from llmswitch.net.probe import probe
from llmswitch.net.probe.targets import for_provider
from llmswitch.services import switch
from llmswitch.store import keys
from llmswitch.store.config import load
from upstreams import FAKE_KEY, openai_like

SECRET = "hc-test-not-a-real-secret-4242"


def gateway(config_dir, server) -> None:
    config_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    (config_dir / "config.toml").write_text(
        f'[providers.gw]\nbase_url = "{server.url}/v1"\nkey_source = "env:GW_TEST_KEY"\n\n'
        f'[providers.gw.headers]\n"X-Title" = "my app"\n"Helicone-Auth" = {{ env = "HC_TEST_SECRET", prefix = "Bearer " }}\n')
    (config_dir / "config.toml").chmod(0o600)


async def test_the_probe_sends_the_resolved_secret_header(upstream, config_dir, monkeypatch):
    server = upstream()
    openai_like(server, prefix="/v1")
    gateway(config_dir, server)
    monkeypatch.setenv("GW_TEST_KEY", FAKE_KEY)
    monkeypatch.setenv("HC_TEST_SECRET", SECRET)
    target, problem = for_provider(load().provider("gw"))
    assert problem is None
    result = await probe(target)
    sent = server.requests[0].headers
    assert sent["helicone-auth"] == f"Bearer {SECRET}" and sent["x-title"] == "my app"
    assert SECRET not in result.request_line() and SECRET not in repr(result)


def test_client_sends_it_and_active_toml_never_holds_it(upstream, config_dir, monkeypatch):
    server = upstream()
    openai_like(server, prefix="/v1")
    gateway(config_dir, server)
    monkeypatch.setenv("GW_TEST_KEY", FAKE_KEY)
    monkeypatch.setenv("HC_TEST_SECRET", SECRET)
    switch.switch("gw/gpt-4o")
    assert SECRET not in (config_dir / "active.toml").read_text()
    client = api.client()
    client.models.list()
    assert server.requests[-1].headers["helicone-auth"] == f"Bearer {SECRET}"


def test_a_secret_header_with_nothing_behind_it_is_a_sentence(upstream, config_dir, monkeypatch):
    server = upstream()
    openai_like(server, prefix="/v1")
    gateway(config_dir, server)
    monkeypatch.setenv("GW_TEST_KEY", FAKE_KEY)
    monkeypatch.delenv("HC_TEST_SECRET", raising=False)
    switch.switch("gw/gpt-4o")
    with pytest.raises(keys.KeyProblem) as missing:
        api.client()
    assert missing.value.cause == "header Helicone-Auth takes its value from env HC_TEST_SECRET, which holds nothing" \
        or "HC_TEST_SECRET" in missing.value.cause
    assert missing.value.fix == "export HC_TEST_SECRET with the value in this shell"
    assert server.requests == []
