"""``llmswitch relay`` in front of real servers: the LiteLLM proxy (OpenAI routes and ``/v1/messages``) and a
real llama.cpp ``llama-server``, driven by the openai and anthropic SDKs; a switch between them reaches the
next request; a declared chain carries a role from a dead provider to the real llama-server.

Opt-in: ``LLMSWITCH_INTEGRATION=1 pytest -m integration tests/integration/test_relay_real.py``.
"""

from __future__ import annotations

import socket

import anthropic
import openai
import pytest
from relayhelp import provider_toml, relay_running, use, write_config

pytestmark = pytest.mark.integration


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def both(real_server, llamacpp, config_dir, monkeypatch):
    monkeypatch.setenv("GW_KEY", real_server.key)
    write_config(config_dir, provider_toml("gw", real_server.url + "/v1", key_env="GW_KEY", preset="litellm", timeout=60)
                 + provider_toml("llama", llamacpp.url, preset="llamacpp", timeout=120)
                 + provider_toml("dead", f"http://127.0.0.1:{_closed_port()}/v1")
                 + f'[failover]\nsmall = ["llama/{llamacpp.model}"]\n')
    use(f"gw/{real_server.model}")
    use(f"dead/{llamacpp.model}", role="small")
    return real_server, llamacpp


def test_openai_sdk_through_the_relay_to_litellm_then_llamacpp_after_a_switch(both):
    gw, llama = both
    with relay_running() as relay:
        client = openai.OpenAI(base_url=relay.v1, api_key=relay.token, timeout=120)
        ask = {"model": "default", "messages": [{"role": "user", "content": "Say OK."}], "max_tokens": 8}
        first = client.chat.completions.with_raw_response.create(**ask)
        streamed = list(client.chat.completions.create(**ask, stream=True))
        use(f"llama/{llama.model}")
        second = client.chat.completions.with_raw_response.create(**ask)
        pieces = [c.choices[0].delta.content or "" for c in client.chat.completions.create(**ask, stream=True)
                  if c.choices]
    assert first.headers["x-llmswitch-served-by"] == f"gw/{gw.model}" and first.parse().choices[0].message.content
    assert streamed and any(c.choices and c.choices[0].delta.content for c in streamed)
    assert second.headers["x-llmswitch-served-by"] == f"llama/{llama.model}"
    assert second.parse().choices[0].message.content is not None and len(pieces) > 1


def test_anthropic_sdk_through_the_relay_to_litellms_messages_route(both):
    gw, _ = both
    ask = {"max_tokens": 8, "messages": [{"role": "user", "content": "Say OK."}]}

    def events(client: anthropic.Anthropic, model: str) -> list[str]:
        with client.messages.stream(model=model, **ask) as stream:
            return [event.type for event in stream]

    direct = events(anthropic.Anthropic(base_url=gw.url, api_key=gw.key, timeout=120), gw.model)
    with relay_running() as relay:
        client = anthropic.Anthropic(base_url=relay.url, api_key=relay.token, timeout=120)
        raw = client.messages.with_raw_response.create(model="default", **ask)
        relayed = events(client, "default")
    assert raw.headers["x-llmswitch-served-by"] == f"gw/{gw.model}" and raw.parse().content
    assert relayed == direct  # the same events as the proxy sends directly (its mock model streams none the SDK shows)


def test_a_declared_chain_carries_a_role_from_a_dead_provider_to_llamacpp(both):
    _, llama = both
    with relay_running() as relay:
        client = openai.OpenAI(base_url=relay.v1, api_key=relay.token, timeout=120, max_retries=0)
        raw = client.chat.completions.with_raw_response.create(
            model="small", messages=[{"role": "user", "content": "Say OK."}], max_tokens=8)
    assert raw.headers["x-llmswitch-served-by"] == f"llama/{llama.model}"
    assert "could not be reached" in raw.headers["x-llmswitch-failover"]
    assert raw.parse().choices[0].message.content is not None
