"""What real servers serve: a llama.cpp ``llama-server`` started with ``--ctx-size 512`` and the LiteLLM proxy.

The served context is read from the server itself and the protocol fingerprint is checked route by route
against each real server: what llmswitch concludes from an answer is what the server answers to the same
empty request, and no request of the fingerprint names a model (so nothing is generated, nothing is billed).
Opt-in: ``pytest -m integration``.
"""

from __future__ import annotations

import json

import httpx
import pytest
from harness import Recorder

from llmswitch.net.probe.protocols import ROUTES, gemini_models_url, verdict
from llmswitch.services.served import details
from llmswitch.store.config import load

pytestmark = pytest.mark.integration

LLAMACPP_SERVES = {"chat": True, "responses": True, "messages": True, "count_tokens": True, "embeddings": False,
                   "gemini": False}
"""llama-server (llama-cpp-python 0.3.36's llama.cpp) without ``--embeddings``."""
LITELLM_SERVES = {"chat": True, "responses": True, "messages": True, "count_tokens": True, "embeddings": True,
                  "gemini": False}


def probe_json(run_cli, *args: str, env: dict[str, str] | None = None) -> dict:
    done = run_cli("probe", "--json", *args, env=env)
    [result] = json.loads(done.stdout)
    return result


def ask_each_route(base_url: str, headers: dict[str, str] | None = None) -> dict[str, tuple[int, bool | None]]:
    """Each fingerprint request sent by hand: (status, what llmswitch concludes from that answer)."""
    root = base_url.removesuffix("/v1")
    found = {}
    with httpx.Client(timeout=30, headers=headers or {}) as client:
        for protocol, path in ROUTES.items():
            url = (root if path.startswith("/v1/messages") else base_url) + path
            answer = client.post(url, json={})
            found[protocol] = (answer.status_code, verdict(protocol, answer.status_code, answer.content))
        answer = client.get(gemini_models_url(base_url))
        found["gemini"] = (answer.status_code, verdict("gemini", answer.status_code, answer.content))
    return found


def test_llamacpp_started_with_512_tokens_is_served_512_of_4k(llamacpp_512, run_cli):
    assert run_cli("add", str(llamacpp_512.port)).returncode == 0
    result = probe_json(run_cli, "llamacpp")
    assert result["outcome"] == "keyless", result["sentence"]
    assert result["model"] == llamacpp_512.model
    assert result["context_served"] == 512 and result["context_catalog"] == 4096
    assert "llama.cpp" in result["context_served_source"] and "n_ctx" in result["context_served_source"]
    assert "n_ctx_train" in result["context_catalog_source"]
    assert result["protocols"] == LLAMACPP_SERVES

    with httpx.Client(timeout=10) as client:  # the number is the one the server was started with
        props = client.get(llamacpp_512.url.removesuffix("/v1") + "/props").json()
    assert props["default_generation_settings"]["n_ctx"] == 512

    table = run_cli("probe", "llamacpp").stdout
    assert "served 512 of 4k" in table
    assert "warning: llamacpp/tiny-random-llama is served with 512 tokens of context, less than the 4k" in table
    assert "--ctx-size 4096" in table  # the fix names llama-server's own flag
    listed = run_cli("list", "llamacpp").stdout
    assert "served 512 of 4k" in listed and "warning:" in listed
    assert llamacpp_512.model in run_cli("list", "llamacpp", "--min-context", "512").stdout
    assert llamacpp_512.model not in run_cli("list", "llamacpp", "--min-context", "1k").stdout  # served, not trained

    text, warning = details(load().provider("llamacpp"), llamacpp_512.model)  # what the picker shows
    assert text.startswith("served 512 of 4k · llama.cpp /models meta.n_ctx")
    assert warning is not None and "served with 512 tokens" in warning


def test_llamacpp_route_by_route(llamacpp_512, run_cli):
    answered = ask_each_route(llamacpp_512.url)
    assert {p: v for p, (_, v) in answered.items()} == LLAMACPP_SERVES
    assert all(status >= 400 for status, _ in answered.values()), answered  # refused before any model ran
    assert answered["messages"][0] == 500 and answered["embeddings"][0] == 501  # what this llama-server answers


def test_the_fingerprint_names_no_model_so_nothing_runs(llamacpp_512, run_cli):
    recorder = Recorder(llamacpp_512.url.removesuffix("/v1"))
    try:
        done = run_cli("providers", "add", "rec", "--base-url", recorder.url + "/v1", "--key-source", "none")
        assert done.returncode == 0, done.stderr
        result = probe_json(run_cli, "--protocols", "rec")
        assert result["protocols"] == LLAMACPP_SERVES
        assert recorder.model_requests() == []
        posted = {s.path for s in recorder.seen if s.method == "POST"}
        assert posted == {"/v1/chat/completions", "/v1/responses", "/v1/messages", "/v1/messages/count_tokens",
                          "/v1/embeddings"}
        assert all(s.body == {} for s in recorder.seen if s.method == "POST")

        recorder.clear()  # a plain probe keeps the day-old answer: nothing is POSTed again
        assert probe_json(run_cli, "rec")["protocols"] == LLAMACPP_SERVES
        assert [s.method for s in recorder.seen if s.method == "POST"] == []
    finally:
        recorder.close()


def test_litellm_proxy_route_by_route(real_server, run_cli):
    base = real_server.url + "/v1"
    done = run_cli("providers", "add", "proxy", "--base-url", base, "--key-source", "env:PROXY_KEY")
    assert done.returncode == 0, done.stderr
    result = probe_json(run_cli, "--model", real_server.model, "proxy", env={"PROXY_KEY": real_server.key})
    assert result["outcome"] == "ok", result["sentence"]
    assert result["protocols"] == LITELLM_SERVES
    assert result["context_served"] == 128000
    assert result["context_served_source"] == "server: LiteLLM proxy /models max_input_tokens"

    answered = ask_each_route(base, {"authorization": f"Bearer {real_server.key}"})
    assert {p: v for p, (_, v) in answered.items()} == LITELLM_SERVES
    assert all(status >= 400 for status, _ in answered.values()), answered
