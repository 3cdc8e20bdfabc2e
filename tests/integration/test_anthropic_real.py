"""The ``anthropic`` kind and key verification against the real LiteLLM proxy (its ``/v1/messages`` route).

Opt-in: ``pytest -m integration`` (see tests/integration/conftest.py). The proxy's mock
model answers "OK"; it has no database, so a wrong key gets 400 "No connected db." and a
keyless ``/v1/models`` gets HTTP 500 — the probe must still verify the master key.
"""

from __future__ import annotations

import httpx
import pytest

import llmswitch
from llmswitch.net.probe import Outcome, ProbeTarget, probe
from llmswitch.net.probe.deep import deep_check
from llmswitch.net.probe.verify import REFUSES_A_WRONG_KEY
from llmswitch.services.switch import switch
from llmswitch.store import keys

pytestmark = pytest.mark.integration

WRONG = "sk-test-wrong-key-0002"


def anthropic(server, **kw) -> ProbeTarget:
    kw.setdefault("key", server.key)
    return ProbeTarget("claude", server.url + "/v1", api_kind="anthropic", key_required=True, timeout=30,
                       model=server.model, **kw)


async def test_the_master_key_is_verified_though_a_keyless_list_is_a_500(real_server):
    result = await probe(anthropic(real_server))
    assert result.outcome is Outcome.OK, result.sentence()
    assert result.key_verified is True and result.verified_by == REFUSES_A_WRONG_KEY
    assert result.request_headers.get("x-api-key", "").startswith("sk-test-")
    assert real_server.key not in repr(result)


async def test_deep_check_asks_v1_messages(real_server):
    result = await probe(anthropic(real_server), deep=True)
    assert result.outcome is Outcome.OK, result.sentence()
    assert result.deep is not None and result.deep.ok, result.deep
    assert result.deep.reported_model == real_server.model
    assert result.deep.ttft_ms is not None


async def test_deep_check_with_a_wrong_key_is_rejected_with_the_master_key_hint(real_server):
    async with httpx.AsyncClient() as client:
        deep, failure = await deep_check(anthropic(real_server, key=WRONG), client)
    assert not deep.ok and deep.status_code == 400
    assert failure is not None and failure.outcome is Outcome.AUTH_REJECTED
    assert "master key" in (failure.fix or "")


async def test_a_wrong_key_on_the_list_is_rejected(real_server):
    result = await probe(anthropic(real_server, key=WRONG), deep=True)
    assert result.outcome is Outcome.AUTH_REJECTED, result.sentence()
    assert result.deep is None  # refused at /models already: no chat sent


def test_client_of_an_anthropic_provider_talks_to_the_proxy(real_server, config_dir):
    config_dir.mkdir(parents=True, exist_ok=True)
    (config_dir / "config.toml").write_text(
        f'[providers.claude]\nkind = "anthropic"\nbase_url = "{real_server.url}/v1"\nkey_required = true\n')
    keys.store("claude", real_server.key)
    switch(f"claude/{real_server.model}")
    answer = llmswitch.client().chat.completions.create(
        model=real_server.model, messages=[{"role": "user", "content": "Say OK."}], max_tokens=1)
    assert answer.choices[0].message.content == "OK"
