"""Gateway metadata: a LiteLLM proxy's /model/info and OpenRouter's /models, merged into the model rows."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from upstreams import (
    FAKE_KEY,
    OTHER_KEY,
    litellm_gateway_like,
    litellm_model_info,
    openrouter_full_like,
)

LITELLM_ENTRIES = (
    litellm_model_info("team-large", "openai/gpt-4o", max_input_tokens=128000, max_output_tokens=16384,
                       input_cost_per_token=2.5e-06, output_cost_per_token=1e-05, mode="chat",
                       supports_function_calling=True, supports_vision=True),
    litellm_model_info("team-embed", "openai/text-embedding-3-small", max_input_tokens=8191,
                       input_cost_per_token=2e-08, output_cost_per_token=0.0, mode="embedding"),
    litellm_model_info("openai/*", "openai/*"),
)


def _config(config_dir, body: str):
    from llmswitch.store.config import load

    config_dir.mkdir(parents=True, exist_ok=True)
    (config_dir / "config.toml").write_text(body)
    return load()


def _litellm(config_dir, upstream, monkeypatch, entries=LITELLM_ENTRIES, **kw):
    server = litellm_gateway_like(upstream(), entries=entries, **kw)
    config = _config(config_dir, f'[providers.gw]\npreset = "litellm"\nbase_url = "{server.url}/v1"\n')
    monkeypatch.setenv("LLMSWITCH_KEY_GW", FAKE_KEY)
    return server, config.provider("gw")


def test_parse_litellm_reads_limits_prices_flags_mode_and_upstream_but_no_secret():
    from llmswitch.net.gateway import parse_litellm

    found = parse_litellm({"data": list(LITELLM_ENTRIES)})
    assert set(found) == {"team-large", "team-embed"}, "a wildcard route is not a model"
    large = found["team-large"]
    assert (large.context, large.max_output, large.input_price, large.output_price) == (128000, 16384, 2.5, 10.0)
    assert (large.tools, large.vision, large.reasoning, large.mode) == (True, True, None, "chat")
    assert large.upstream == "openai/gpt-4o"
    assert "sk-test-upstream" not in repr(found), "nothing of litellm_params but the model is kept"


def test_parse_litellm_refuses_garbage_values_and_combines_deployments():
    from llmswitch.net.gateway import parse_litellm

    entries = [litellm_model_info("a", "x/a", max_input_tokens=-5, input_cost_per_token="lots",
                                  output_cost_per_token=float("nan"), supports_vision="yes", mode=7),
               litellm_model_info("a", "x/a2", max_input_tokens=4096, input_cost_per_token=1e-06), "junk", {"x": 1}]
    found = parse_litellm({"data": entries})
    assert found["a"].context == 4096 and found["a"].input_price == 1.0, "the second deployment fills the gaps"
    assert found["a"].output_price is None and found["a"].vision is None and found["a"].mode is None
    assert found["a"].upstream == "x/a"
    assert parse_litellm({"error": "x"}) == {} and parse_litellm(None) == {}


def test_parse_openrouter_uses_context_pricing_parameters_and_modalities():
    from llmswitch.net.gateway import parse_openrouter

    data = {"data": [
        {"id": "new/model", "context_length": 200000, "pricing": {"prompt": "0.000003", "completion": "0.000015"},
         "supported_parameters": ["tools", "reasoning"], "architecture": {"input_modalities": ["text", "image"]},
         "top_provider": {"max_completion_tokens": 64000}},
        {"id": "openrouter/auto", "pricing": {"prompt": "-1", "completion": "-1"}}]}
    found = parse_openrouter(data)
    model = found["new/model"]
    assert (model.context, model.max_output, model.input_price, model.output_price) == (200000, 64000, 3.0, 15.0)
    assert (model.tools, model.reasoning, model.vision, model.mode) == (True, True, True, "chat")
    assert found["openrouter/auto"].input_price is None, "-1 means 'it depends', not a price"


def test_a_litellm_proxy_is_read_with_the_key_and_merged_into_the_rows(config_dir, upstream, monkeypatch):
    from llmswitch.net import gateway
    from llmswitch.services.models import LISTED, provider_rows
    from llmswitch.store import state

    server, provider = _litellm(config_dir, upstream, monkeypatch)
    state.remember_models("gw", provider.base_url, ["team-large", "team-embed"], "LiteLLM proxy")
    assert [r.metadata for r in provider_rows(provider)] == [None, None], "nothing before a fetch"
    info = gateway.refresh(provider)
    assert server.requests_to("/v1/model/info")[-1].headers["authorization"] == f"Bearer {FAKE_KEY}"
    assert info.kind == "litellm" and set(info.models) == {"team-large", "team-embed"}
    rows = {r.model: r for r in provider_rows(provider)}
    large = rows["team-large"]
    assert large.listing == LISTED and large.metadata == "gateway" and not large.in_catalog
    assert (large.context, large.input_price, large.output_price, large.tools) == (128000, 2.5, 10.0, True)
    assert large.as_dict()["upstream"] == "openai/gpt-4o" and large.as_dict()["metadata"] == "gateway"
    assert rows["team-embed"].mode == "embedding"
    stored = (config_dir.parent / "state" / "gateway" / "gw.json").read_text()
    assert FAKE_KEY not in stored and "sk-test-upstream" not in stored


def test_gateway_values_win_over_the_catalogs_and_the_catalog_fills_gaps(config_dir, upstream, monkeypatch):
    from llmswitch.net import gateway
    from llmswitch.net.gateway import GatewayModel
    from llmswitch.services.models import merge
    from llmswitch.store.catalog import ModelInfo

    known = [ModelInfo("m", "Model M", 8000, 1000, 1.0, 2.0, tools=True, vision=True)]
    row = merge("p", ["m"], known, said={"m": GatewayModel("m", context=32000, input_price=0.5, vision=False)})[0]
    assert (row.context, row.max_output, row.input_price, row.output_price) == (32000, 1000, 0.5, 2.0)
    assert (row.tools, row.vision, row.name) == (True, False, "Model M")
    assert {"embedding"} <= gateway.NOT_CHAT_MODES


def test_a_fingerprinted_proxy_under_any_name_is_a_gateway(config_dir, upstream, monkeypatch):
    from llmswitch.net import gateway
    from llmswitch.store import state

    server = litellm_gateway_like(upstream(), entries=LITELLM_ENTRIES)
    config = _config(config_dir, f'[providers.corp]\nbase_url = "{server.url}"\n')
    provider = config.provider("corp")
    assert gateway.kind_of(provider) is None
    state.remember_models("corp", provider.base_url, ["team-large"], "LiteLLM proxy")
    assert gateway.kind_of(provider) == "litellm"
    monkeypatch.setenv("LLMSWITCH_KEY_CORP", FAKE_KEY)
    gateway.refresh(provider)
    assert server.requests_to("/model/info"), "a root base_url asks /model/info at the root"


def test_a_probe_remembers_which_software_answered(config_dir):
    from llmswitch.base.outcome import Outcome, ProbeResult
    from llmswitch.store import state

    fields = {name: None for name in ProbeResult.__dataclass_fields__}
    fields.update(provider="gw", outcome=Outcome.OK, models=("a",), server="LiteLLM proxy")
    result = ProbeResult(**{k: v for k, v in fields.items() if k in ProbeResult.__dataclass_fields__})
    assert state.remember(result, "http://127.0.0.1:1/v1")
    assert state.known_server("gw", "http://127.0.0.1:1/v1") == "LiteLLM proxy"
    assert state.known_server("gw", "http://127.0.0.1:2/v1") is None


def test_a_wrong_key_is_one_sentence_without_the_key(config_dir, upstream, monkeypatch):
    from llmswitch.net import gateway

    _, provider = _litellm(config_dir, upstream, monkeypatch)
    monkeypatch.setenv("LLMSWITCH_KEY_GW", OTHER_KEY)
    with pytest.raises(gateway.GatewayUnavailable) as caught:
        gateway.refresh(provider)
    text = caught.value.sentence()
    assert "HTTP 400" in text and "No connected db." in text and OTHER_KEY not in text
    assert caught.value.fix and gateway.cached(provider) is None, "nothing is kept from a failure"


def test_an_unreachable_gateway_is_reported_not_raised_by_refresh_stale(config_dir, monkeypatch):
    from llmswitch.net import gateway
    from llmswitch.store import state
    from upstreams import free_port

    config = _config(config_dir, f'[providers.gw]\npreset = "litellm"\nbase_url = "http://127.0.0.1:{free_port()}/v1"\n')
    state.remember_models("gw", config.provider("gw").base_url, ["m"], "LiteLLM proxy")
    problems = gateway.refresh_stale([config.provider("gw")], timeout=2)
    assert len(problems) == 1 and "could not reach" in problems[0] and "llmswitch probe gw" in problems[0]


def test_the_cache_has_an_age_and_goes_stale(config_dir, upstream, monkeypatch):
    from llmswitch.net import gateway
    from llmswitch.store import state

    _, provider = _litellm(config_dir, upstream, monkeypatch)
    assert not gateway.stale(provider), "never probed: never due"
    state.remember_models("gw", provider.base_url, ["team-large"], "LiteLLM proxy")
    assert gateway.stale(provider)
    gateway.refresh(provider)
    assert not gateway.stale(provider)
    path = config_dir.parent / "state" / "gateway" / "gw.json"
    document = json.loads(path.read_text())
    document["fetched"] = (datetime.now(UTC) - timedelta(hours=2)).isoformat()
    path.write_text(json.dumps(document))
    info = gateway.cached(provider)
    assert info is not None and 7100 < info.age() < 7300 and gateway.stale(provider)
    assert gateway.fmt_age(info.age()) == "2 h ago"


def test_a_tampered_cache_is_ignored_not_trusted(config_dir, upstream, monkeypatch):
    from llmswitch.net import gateway

    _, provider = _litellm(config_dir, upstream, monkeypatch)
    gateway.refresh(provider)
    path = config_dir.parent / "state" / "gateway" / "gw.json"
    for text in ("not json", '{"fetched": "yesterday"}', json.dumps({"fetched": "2026-01-01T00:00:00+00:00",
                                                                     "base_url": "http://elsewhere", "models": []})):
        path.write_text(text)
        assert gateway.cached(provider) is None
    path.write_text(json.dumps({"fetched": "2026-01-01T00:00:00+00:00", "base_url": provider.base_url,
                                "models": [{"id": "x", "evil": 1}, {"id": "y", "context": 5}]}))
    info = gateway.cached(provider)
    assert info is not None and list(info.models) == ["y"]


def test_openrouter_models_fill_what_the_catalog_lacks(config_dir, upstream, monkeypatch):
    from llmswitch.net import gateway
    from llmswitch.services.models import provider_rows

    server = openrouter_full_like(upstream(), models=[
        {"id": "brand/new-model", "context_length": 262144, "prompt": "0.0000004", "completion": "0.0000016",
         "parameters": ["tools", "temperature"], "inputs": ["text", "image"]}])
    config = _config(config_dir, f'[providers.openrouter]\nbase_url = "{server.url}/api/v1"\n')
    provider = config.provider("openrouter")
    assert gateway.kind_of(provider) == "openrouter"
    gateway.refresh(provider)
    rows = {r.model: r for r in provider_rows(provider)}
    new = rows["brand/new-model"]
    assert (new.context, new.input_price, new.output_price, new.tools, new.vision) == (262144, 0.4, 1.6, True, True)
    assert new.metadata == "gateway"


def test_embedding_models_are_offered_for_the_embedding_role_only():
    from llmswitch.net.gateway import GatewayModel
    from llmswitch.services.models import for_role, merge

    said = {"chat": GatewayModel("chat", mode="chat"), "embed": GatewayModel("embed", mode="embedding")}
    rows = merge("gw", ["chat", "embed", "plain"], [], said=said)
    assert [r.model for r in for_role(rows, "default")] == ["chat", "plain"]
    assert [r.model for r in for_role(rows, "small")] == ["chat", "plain"]
    assert [r.model for r in for_role(rows, "embedding")] == ["embed", "plain"]


def test_non_gateways_are_never_fetched(config_dir):
    from llmswitch.net import gateway

    config = _config(config_dir, '[providers.box]\npreset = "ollama"\nbase_url = "http://127.0.0.1:9/v1"\n')
    assert gateway.kind_of(config.provider("box")) is None and not gateway.stale(config.provider("box"))
    with pytest.raises(gateway.GatewayUnavailable):
        gateway.refresh(config.provider("box"))


def test_the_repl_lists_a_gateways_aliases_with_context_and_prices(config_dir, upstream, monkeypatch):
    from llmswitch.net import gateway
    from llmswitch.repl import ModelSwitcher
    from llmswitch.services.switch import switch
    from llmswitch.store import state

    _, provider = _litellm(config_dir, upstream, monkeypatch)
    state.remember_models("gw", provider.base_url, ["team-large", "team-embed"], "LiteLLM proxy")
    gateway.refresh(provider)
    switch("gw/team-large")
    text = ModelSwitcher(interactive=False).handle("/models team").text
    assert "gw/team-large" in text and "ctx  128k  $2.5/$10 per M  [gateway → openai/gpt-4o]" in text
    assert "[gateway → openai/text-embedding-3-small, embedding]" in text


def test_use_warns_when_an_embedding_model_becomes_a_chat_default(config_dir, upstream, monkeypatch, run_cli):
    from llmswitch.net import gateway
    from llmswitch.store import state

    _, provider = _litellm(config_dir, upstream, monkeypatch)
    state.remember_models("gw", provider.base_url, ["team-large", "team-embed"], "LiteLLM proxy")
    gateway.refresh(provider)
    done = run_cli("use", "gw/team-embed")
    assert done.returncode == 0
    assert ("the gateway says gw/team-embed is an embedding model, not a chat model — for embeddings run: "
            "llmswitch use --role embedding gw/team-embed") in done.stderr
    assert "embedding model" not in run_cli("use", "--role", "embedding", "gw/team-embed").stderr
    assert "is not an embedding model (mode chat)" in run_cli("use", "--role", "embedding", "gw/team-large").stderr
