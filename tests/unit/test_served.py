"""What a server really serves: context windows read from each server's own routes, the protocol fingerprint,
the day it is kept, the filters, and connect deciding from it — against in-process fakes built from the
servers' published API references (Ollama's docs/api.md, vLLM's ``ModelCard``, LM Studio's REST API v0,
llama.cpp's server README). The real llama-server and LiteLLM proxy: tests/integration/test_served_real.py.
"""

from __future__ import annotations

import asyncio
import json
import os
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from llmswitch.base.errors import LlmswitchError
from llmswitch.base.outcome import PROTOCOLS, ProbeTarget, ServedContext
from llmswitch.net.probe import probe
from llmswitch.net.probe.served import MAX_TOKENS, from_listing
from llmswitch.services.matching import Filter, Needs, search
from llmswitch.services.models import make_row, provider_rows
from llmswitch.services.served import context_view, details
from llmswitch.store import served, state
from llmswitch.store.catalog import ModelInfo
from llmswitch.store.config import load
from llmswitch.store.config.model import Config, ProviderConfig
from llmswitch.store.refs import selection_for
from llmswitch.tools import connect
from llmswitch.tools.connect import engine
from llmswitch.tools.connect.base import Target
from upstreams import FAKE_KEY, Reply, chat_completions, llamacpp_like, models_body, openai_like, vllm_like

CHAT_ONLY = {"chat": True, "responses": False, "messages": False, "count_tokens": False, "embeddings": False,
             "gemini": False}


def run(coro):
    return asyncio.run(coro)


def target(server, *, key: str | None = None, model: str | None = None, provider: str = "it") -> ProbeTarget:
    return ProbeTarget(provider, server.url + "/v1", key=key, key_required=key is not None, model=model, timeout=5)


def contexts(result) -> dict[str, tuple[int | None, int | None]]:
    return {c.model: (c.served, c.model_max) for c in result.served}


# -- fakes from the published API references ------------------------------------------------

def ollama(server, *, loaded: dict[str, int], shown: dict[str, dict]):
    """Ollama (docs/api.md): ``/v1/models`` (owned_by library), ``/api/ps`` (``context_length`` of loaded models),
    ``POST /api/show`` (``parameters`` text with ``num_ctx``, ``model_info["<arch>.context_length"]``)."""
    models = list(shown)
    server.get("/v1/models", Reply.json(models_body(models, "library")))
    server.get("/api/ps", Reply.json({"models": [
        {"name": m, "model": m, "size": 5137025024, "digest": "a80c4f17acd5", "expires_at": "2026-12-06T14:38:31Z",
         "size_vram": 5137025024, "context_length": ctx,
         "details": {"parent_model": "", "format": "gguf", "family": "llama", "families": ["llama"],
                     "parameter_size": "7.2B", "quantization_level": "Q4_0"}} for m, ctx in loaded.items()]}))

    def show(request):
        asked = request.json().get("model")
        info = shown.get(asked)
        if info is None:
            return Reply.json({"error": f"model '{asked}' not found"}, 404)
        return Reply.json({"modelfile": "# Modelfile", "parameters": info.get("parameters", ""),
                           "template": "{{ .Prompt }}", "details": {"format": "gguf", "family": info["arch"]},
                           "model_info": {"general.architecture": info["arch"],
                                          f"{info['arch']}.context_length": info["trained"],
                                          "general.parameter_count": 8030261248},
                           "capabilities": ["completion", "tools"]})

    server.post("/api/show", show)
    server.post("/v1/chat/completions", chat_completions())
    return server


def lm_studio(server):
    """LM Studio (REST API v0): ``/api/v0/models`` with ``state``, ``max_context_length`` and, for a loaded model,
    ``loaded_context_length``; unknown routes answer 200 with ``{"error": "Unexpected endpoint or method. …"}``."""
    server.get("/v1/models", Reply.json({"object": "list", "data": [
        {"id": m, "object": "model", "owned_by": "organization_owner"}
        for m in ("qwen2.5-7b-instruct", "llama-3.2-1b-instruct")]}))
    server.get("/api/v0/models", Reply.json({"object": "list", "data": [
        {"id": "qwen2.5-7b-instruct", "object": "model", "type": "llm", "publisher": "lmstudio-community",
         "arch": "qwen2", "compatibility_type": "gguf", "quantization": "Q4_K_M", "state": "loaded",
         "max_context_length": 32768, "loaded_context_length": 4096},
        {"id": "llama-3.2-1b-instruct", "object": "model", "type": "llm", "arch": "llama", "state": "not-loaded",
         "max_context_length": 131072}]}))

    def unexpected(request):
        return Reply.json({"error": f"Unexpected endpoint or method. ({request.method} {request.path})"})

    server.route("GET", "*", unexpected).route("POST", "*", unexpected)
    server.post("/v1/chat/completions", chat_completions())
    return server


# -- the context each server says it serves --------------------------------------------------

def test_llamacpp_props_says_the_context_it_was_started_with(upstream):
    server = llamacpp_like(upstream(), models=("tiny.gguf",))  # an older build: /models has only n_ctx_train
    server.get("/props", Reply.json({"default_generation_settings": {"n_ctx": 1024, "temperature": 0.8},
                                     "total_slots": 1, "model_alias": "tiny.gguf", "model_path": "/m/tiny.gguf"}))
    result = run(probe(target(server)))
    assert result.server == "llama.cpp" and contexts(result) == {"tiny.gguf": (1024, 2048)}
    [said] = result.served
    assert said.served_source == "llama.cpp /props n_ctx"
    assert said.model_max_source == "llama.cpp /models meta.n_ctx_train"


def test_vllm_max_model_len_is_the_served_context(upstream):
    result = run(probe(target(vllm_like(upstream()))))
    assert result.server == "vLLM"
    assert contexts(result) == {"Qwen/Qwen2.5-0.5B-Instruct": (32768, None)}
    assert result.served[0].served_source == "vLLM /models max_model_len"


def test_ollama_loaded_context_and_modelfile_num_ctx(upstream):
    server = ollama(upstream(), loaded={"llama3.1:8b": 4096}, shown={
        "llama3.1:8b": {"arch": "llama", "trained": 131072},
        "qwen2.5:7b": {"arch": "qwen2", "trained": 32768, "parameters": 'num_ctx                        8192\nstop "<|im_end|>"'},
        "phi3:mini": {"arch": "phi3", "trained": 4096}})
    result = run(probe(target(server, model="qwen2.5:7b")))
    assert result.server == "Ollama"
    assert contexts(result) == {"llama3.1:8b": (4096, 131072), "qwen2.5:7b": (8192, 32768), "phi3:mini": (None, 4096)}
    by_model = {c.model: c for c in result.served}
    assert by_model["llama3.1:8b"].served_source == "Ollama /api/ps context_length (loaded)"
    assert by_model["qwen2.5:7b"].served_source == "Ollama /api/show num_ctx"
    assert by_model["qwen2.5:7b"].model_max_source == "Ollama /api/show model_info qwen2.context_length"
    assert sorted(r.json()["model"] for r in server.requests_to("/api/show")) == ["llama3.1:8b", "phi3:mini",
                                                                                   "qwen2.5:7b"]


def test_ollama_asks_at_most_its_cap_and_always_the_selected_model(upstream):
    """The /api/show requests go out together, so the server sees them in any order: what is fixed is which."""
    from llmswitch.net.probe.served import SHOWN_MODELS

    names = [f"model-{i:02d}:7b" for i in range(SHOWN_MODELS + 4)]
    server = ollama(upstream(), loaded={}, shown={n: {"arch": "llama", "trained": 8192} for n in names})
    selected = names[-1]  # listed last: without its place first in the line it would miss the cap
    run(probe(target(server, model=selected)))
    assert server.wait_idle()  # a request the probe sent and stopped waiting for (a busy machine) is counted too
    asked = [r.json()["model"] for r in server.requests_to("/api/show")]
    assert len(asked) == SHOWN_MODELS and selected in asked and len(set(asked)) == SHOWN_MODELS


def test_lm_studio_loaded_and_max_context(upstream):
    result = run(probe(target(lm_studio(upstream()))))
    assert result.server == "LM Studio"
    assert contexts(result) == {"qwen2.5-7b-instruct": (4096, 32768), "llama-3.2-1b-instruct": (None, 131072)}


def test_any_listing_with_context_length_or_context_window(upstream):
    server = upstream()
    server.get("/v1/models", Reply.json({"object": "list", "data": [
        {"id": "a", "object": "model", "context_length": 65536}, {"id": "b", "object": "model",
                                                                  "context_window": 8192},
        {"id": "c", "object": "model"}]}))
    result = run(probe(target(server)))
    assert contexts(result) == {"a": (65536, None), "b": (8192, None)}
    assert [c.served_source for c in result.served] == ["server /models context_length", "server /models context_window"]


@settings(max_examples=200, deadline=None)
@given(st.recursive(st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
                    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(
                        st.sampled_from(["data", "id", "meta", "n_ctx", "n_ctx_train", "max_model_len",
                                         "context_length", "context_window", "max_input_tokens"]), inner, max_size=5),
                    max_leaves=30))
def test_a_hostile_listing_never_breaks_the_reading(data):
    for said in from_listing(data, None):
        assert isinstance(said.model, str) and said.model
        for value in (said.served, said.model_max):
            assert value is None or (type(value) is int and 0 < value <= MAX_TOKENS)


# -- the protocol fingerprint ------------------------------------------------------------------

def test_a_chat_only_server_is_not_credited_with_responses_or_messages(upstream):
    server = openai_like(upstream())
    result = run(probe(target(server, key=FAKE_KEY)))
    assert result.protocols == CHAT_ONLY and result.protocols_checked
    fingerprint = [r for r in server.requests if r.method == "POST"]
    assert {r.path for r in fingerprint} == {"/v1/chat/completions", "/v1/responses", "/v1/messages",
                                             "/v1/messages/count_tokens", "/v1/embeddings"}
    assert all(r.body == b"{}" for r in fingerprint)  # no model, no prompt: nothing can run or be billed
    assert all(r.headers.get("authorization") == f"Bearer {FAKE_KEY}" for r in fingerprint)  # its own host only


def test_lm_studio_unexpected_endpoint_is_not_served(upstream):
    result = run(probe(target(lm_studio(upstream()))))
    assert result.protocols == CHAT_ONLY


def test_a_refused_key_or_a_silent_server_is_not_known_rather_than_not_served(upstream):
    server = upstream()
    server.get("/v1/models", Reply.json(models_body(["m1"])))
    server.post("/v1/chat/completions", Reply.json({"error": {"message": "Incorrect API key provided"}}, 401))
    server.post("/v1/responses", Reply.json({"error": {"message": "Rate limit reached"}}, 429))
    server.post("/v1/embeddings", Reply.text("Internal Server Error", 500))
    server.post("/v1/messages", Reply.json({"type": "error", "error": {"type": "invalid_request_error",
                                                                       "message": "messages: field required"}}, 400))
    server.post("/v1/messages/count_tokens", Reply.json({"error": "Method Not Allowed"}, 405))
    server.get("/v1beta/models", Reply.json({"models": [{"name": "models/gemini-2.5-flash"}]}))
    result = run(probe(target(server)))
    assert result.protocols == {"chat": None, "responses": None, "messages": True, "count_tokens": False,
                                "embeddings": None, "gemini": True}


def test_the_fingerprint_is_taken_once_a_day_and_again_when_asked(upstream, run_cli, config_dir: Path):
    server = openai_like(upstream(), models=("m1",))
    assert run_cli("providers", "add", "chatonly", "--base-url", server.url + "/v1",
                   "--key-source", "env:CHATONLY_KEY").returncode == 0
    env = {"CHATONLY_KEY": FAKE_KEY}

    def probed(*args: str) -> tuple[dict, int]:
        before = len(server.requests)
        done = run_cli("probe", "--json", *args, "chatonly", env=env)
        [result] = json.loads(done.stdout)
        return result, len([r for r in server.requests[before:] if r.method == "POST"])

    first, posted = probed()
    assert first["protocols"] == CHAT_ONLY and posted == 5  # the first probe of the URL takes it
    again, posted = probed()
    assert again["protocols"] == CHAT_ONLY and posted == 0  # a plain probe shows the kept one
    assert again["protocols_checked"] == first["protocols_checked"]
    _, posted = probed("--protocols")
    assert posted == 5
    kept = Path(os.environ["LLMSWITCH_STATE_DIR"]) / "served" / "chatonly.json"
    document = json.loads(kept.read_text())
    document["protocols_checked"] = "2026-01-01T00:00:00+00:00"  # more than a day ago
    kept.write_text(json.dumps(document))
    _, posted = probed()
    assert posted == 5
    table = run_cli("probe", "chatonly", env=env).stdout
    assert "serves: chat ✓ · responses ✗ · messages ✗ · count_tokens ✗ · embeddings ✗ · gemini ✗" in table
    listed = run_cli("list", "chatonly", env=env).stdout
    assert "serves: chat ✓ · responses ✗ · messages ✗ · count_tokens ✗ · embeddings ✗ · gemini ✗ (checked " in listed
    assert json.loads(run_cli("list", "chatonly", "--json", env=env).stdout)["protocols"] == CHAT_ONLY


def test_serves_is_the_fingerprint_else_the_presets_table(upstream):
    server = openai_like(upstream())
    provider = ProviderConfig(id="openai", name="OpenAI", base_url=server.url + "/v1", preset="openai")
    assert served.serves(provider, "responses") is True  # documented: OpenAI serves Responses
    assert served.serves(provider, "count_tokens") is None  # the table does not speak of it
    state.remember(run(probe(target(server, key=FAKE_KEY, provider="openai"))), provider.base_url)
    assert served.serves(provider, "responses") is False  # this server answered 404: the fingerprint wins
    assert served.serves(provider, "chat") is True
    moved = ProviderConfig(id="openai", name="OpenAI", base_url=server.url + "/other/v1", preset="openai")
    assert served.serves(moved, "responses") is True  # kept per base URL


# -- connect decides from it ---------------------------------------------------------------------

def _probed_provider(server, pid: str, tmp_path: Path, monkeypatch) -> tuple[ProviderConfig, Config]:
    monkeypatch.setenv("SERVED_KEY", FAKE_KEY)
    provider = ProviderConfig(id=pid, name=pid, base_url=server.url + "/v1", key_source="env",
                              key_env=("SERVED_KEY",))
    state.remember(run(probe(target(server, key=FAKE_KEY, provider=pid))), provider.base_url)
    return provider, Config(path=tmp_path / "config.toml", exists=False, providers={pid: provider})


def test_codex_is_refused_for_a_server_without_responses(upstream, tool_home, tmp_path, monkeypatch):
    server = openai_like(upstream(), models=("m1",))
    provider, config = _probed_provider(server, "chatonly", tmp_path, monkeypatch)
    tool = connect.tool("codex")
    before = len(server.requests)
    with pytest.raises(LlmswitchError) as refused:
        engine.check_protocol(tool, {"main": Target("main", "default", selection_for(provider, "m1"), provider)},
                              config)
    assert "chatonly does not serve the Responses API (its probe found no such route)" in refused.value.cause
    assert "e.g. " in (refused.value.fix or "") and "openai" in (refused.value.fix or "")  # who has it
    assert len(server.requests) == before  # refused from the fingerprint: nothing more was sent


def test_claude_code_is_warned_where_count_tokens_is_missing(upstream, tool_home, tmp_path, monkeypatch):
    server = openai_like(upstream(), models=("m1",))
    server.post("/v1/messages", Reply.json({"type": "error", "error": {"type": "invalid_request_error",
                                                                       "message": "messages: Field required"}}, 400))
    provider, config = _probed_provider(server, "halfway", tmp_path, monkeypatch)
    assert served.serves(provider, "messages") is True and served.serves(provider, "count_tokens") is False
    tool = connect.tool("claude-code")
    targets = {"main": Target("main", "default", selection_for(provider, "m1"), provider)}
    [note] = engine.protocol_notes(tool, targets, config)
    assert note.startswith("halfway serves Anthropic Messages but not /v1/messages/count_tokens")
    assert "; a provider that has it: anthropic" in note  # Anthropic's own API, named first


# -- what front ends show, and the filters ---------------------------------------------------------

def test_the_picker_line_and_its_warning(upstream, run_cli):
    server = llamacpp_like(upstream(), models=("tiny.gguf",))
    server.get("/props", Reply.json({"default_generation_settings": {"n_ctx": 512}, "model_alias": "tiny.gguf"}))
    assert run_cli("providers", "add", "mine", "--base-url", server.url + "/v1", "--key-source", "none").returncode == 0
    [result] = json.loads(run_cli("probe", "--json", "mine").stdout)
    assert (result["context_served"], result["context_catalog"]) == (512, 2048)
    assert result["context_served_source"] == "server: llama.cpp /props n_ctx"
    assert result["context_catalog_source"] == "server: llama.cpp /models meta.n_ctx_train"
    text, warning = details(load().provider("mine"), "tiny.gguf")
    assert text == "served 512 of 2k · llama.cpp /props n_ctx, just now"
    assert warning == ("mine/tiny.gguf is served with 512 tokens of context, less than the 2k it can take (server: "
                       "llama.cpp /models meta.n_ctx_train) — restart llama-server with a larger --ctx-size "
                       "(e.g. --ctx-size 2048)")
    [listed] = json.loads(run_cli("list", "mine", "--json").stdout)["models"]
    assert listed["context_served"] == 512 and listed["provenance"]["context_served"]["source"] == "server"
    assert json.loads(run_cli("list", "mine", "--json", "--min-context", "1k").stdout)["models"] == []


def test_the_catalog_is_what_the_served_context_is_compared_with(upstream, run_cli):
    server = vllm_like(upstream(), models=("gpt-4o",))  # vLLM serving a model the catalog knows, with 32k
    assert run_cli("providers", "add", "v", "--base-url", server.url + "/v1", "--key-source", "none").returncode == 0
    run_cli("probe", "v")
    provider = load().provider("v")
    row = make_row("v", "gpt-4o", ModelInfo(id="gpt-4o", name="GPT-4o", context=128000, input_price=2.5,
                                            output_price=10.0, tools=True, vision=True))
    view = context_view(provider, "gpt-4o", row)
    assert (view.served, view.catalog, view.catalog_source) == (32768, 128000, "catalog")
    assert view.line() == "served 33k of 128k"
    assert "restart vLLM with a larger --max-model-len (e.g. --max-model-len 128000)" in (view.warning() or "")
    assert view.warning(need=16000) is not None and context_view(provider, "nope").warning() is None


def _rows():
    big = ModelInfo(id="big", name="Big", context=200000, input_price=3.0, output_price=15.0, tools=True,
                    vision=True, reasoning=True)
    cheap = ModelInfo(id="cheap", name="Cheap", context=128000, input_price=0.15, output_price=0.6, tools=True)
    small = ModelInfo(id="small-vision", name="Small Vision", context=8192, input_price=0.05, vision=True)
    rows = [make_row("p", m.id, m) for m in (big, cheap, small)]
    served_small = make_row("local", "llama", ModelInfo(id="llama", name="Llama", context=131072, tools=True))
    from dataclasses import replace

    return [*rows, replace(served_small, served=ServedContext("llama", 4096, "llama.cpp /props n_ctx"))]


@pytest.mark.parametrize(("query", "found"), [
    ("ctx>=100k tools", ["p/big", "p/cheap"]),
    ("ctx>=100k", ["p/big", "p/cheap"]),  # local/llama: the catalog says 128k, the server serves 4k
    ("tools price<=1", ["p/cheap"]),
    ("vision", ["p/big", "p/small-vision"]),
    ("reasoning big", ["p/big"]),
    ("ctx>=4k llama", ["local/llama"]),
    ("price<1 ctx>", ["p/cheap", "p/small-vision"]),  # a word still being typed asks nothing yet
])
def test_filter_words_in_the_picker_and_the_repl(query, found):
    rows = _rows()
    assert sorted(r.ref for r in Filter(rows).matches(query)) == found
    band, matched = search(rows, query)
    assert sorted(r.ref for r in matched) == found and band >= 0


def test_a_limit_typed_on_can_widen_the_picker_filter():
    picker = Filter(_rows())
    assert [r.ref for r in picker.matches("price<=1")] == ["p/cheap", "p/small-vision"]
    assert sorted(r.ref for r in picker.matches("price<=10")) == ["p/big", "p/cheap", "p/small-vision"]


def test_needs_parse_what_the_cli_and_the_queries_share():
    needs, rest = Needs.split("Tools ctx>=1.5M gpt price<=0.5")
    assert needs.flags == {"tools"} and rest == "gpt"
    assert needs.limits == (("context", ">=", 1_500_000.0), ("price", "<=", 0.5))
    assert not Needs.split("gpt-4o")[0]


def test_list_filters_across_providers(upstream, run_cli):
    server = vllm_like(upstream(), models=("Qwen/Qwen2.5-0.5B-Instruct",))
    assert run_cli("providers", "add", "v", "--base-url", server.url + "/v1", "--key-source", "none").returncode == 0
    run_cli("probe", "v")
    found = json.loads(run_cli("list", "--min-context", "32k", "--json").stdout)
    assert [(m["provider"], m["id"], m["context_served"]) for m in found] == [("v", "Qwen/Qwen2.5-0.5B-Instruct",
                                                                               32768)]
    assert json.loads(run_cli("list", "--min-context", "33k", "--json").stdout) == []
    assert "no model of your providers meets the filters" in run_cli("list", "--tools").stdout
    bad = run_cli("list", "--min-context", "lots")
    assert bad.returncode == 2 and "is not a number of tokens" in bad.stderr and "Traceback" not in bad.stderr


def test_provider_rows_carry_what_the_server_said(upstream, run_cli):
    server = vllm_like(upstream())
    assert run_cli("providers", "add", "v", "--base-url", server.url + "/v1", "--key-source", "none").returncode == 0
    run_cli("probe", "v")
    [row] = provider_rows(load().provider("v"))
    assert row.served is not None and row.usable_context == 32768
    assert set(PROTOCOLS) == set(json.loads(run_cli("probe", "--json", "v").stdout)[0]["protocols"])


def test_the_repl_models_query_takes_filter_words(upstream, run_cli):
    from llmswitch.repl import ModelSwitcher

    server = vllm_like(upstream(), models=("Qwen/Qwen2.5-0.5B-Instruct", "Qwen/Qwen2.5-7B-Instruct"))
    assert run_cli("providers", "add", "v", "--base-url", server.url + "/v1", "--key-source", "none").returncode == 0
    run_cli("probe", "v")
    repl = ModelSwitcher(interactive=False)
    reply = repl.handle("/models ctx>=32k 7b")
    assert reply is not None and reply.choices == ("v/Qwen/Qwen2.5-7B-Instruct",)
    reply = repl.handle("/models ctx>=33k tools")  # none of yours: the catalog's models that meet it
    assert reply is not None and reply.choices and not any(ref.startswith("v/") for ref in reply.choices)
    assert "ctx  200k" in reply.text or "ctx  128k" in reply.text


def test_an_older_litellm_proxy_says_it_on_model_info_only(upstream, run_cli):
    from upstreams import litellm_gateway_like, litellm_model_info

    server = litellm_gateway_like(upstream(), entries=[litellm_model_info("team-large", "openai/gpt-4o",
                                                                          max_input_tokens=64000)])
    assert run_cli("providers", "add", "proxy", "--preset", "litellm", "--base-url", server.url + "/v1",
                   "--key-source", "env:PROXY_KEY").returncode == 0
    env = {"PROXY_KEY": FAKE_KEY}
    [result] = json.loads(run_cli("probe", "--json", "--model", "team-large", "proxy", env=env).stdout)
    assert result["context_served"] is None  # its /v1/models says nothing about contexts
    [row] = json.loads(run_cli("list", "proxy", "--json", env=env).stdout)["models"]  # list reads /model/info
    assert row["context_served"] == 64000
    assert row["context_served_source"] == "server: LiteLLM proxy /model/info max_input_tokens"
    assert row["provenance"]["context"]["source"] == "gateway"
