"""The probe against real HTTP servers on 127.0.0.1: one test per outcome, plus the rules.

Servers come from ``tests/upstreams.py`` (fixture ``upstream``); nothing here
leaves the machine. The only clocks asserted are generous upper bounds.
"""

from __future__ import annotations

import asyncio
import json
import socket

import pytest

from llmswitch.net.probe import (
    Outcome,
    ProbeResult,
    ProbeTarget,
    cancelled_result,
    probe,
    probe_all,
    probe_sync,
    render_json,
    render_table,
)
from llmswitch.net.probe.transport import RETRY_AFTER_CAP
from upstreams import (
    FAKE_KEY,
    OTHER_KEY,
    Reply,
    bearer,
    chat_completions,
    echo_headers,
    free_port,
    litellm_like,
    llamacpp_like,
    lmstudio_like,
    models_body,
    ollama_like,
    openai_error,
    openai_like,
    openrouter_like,
    redirect,
    sequence,
    vllm_like,
    without_fingerprint,
)


def target(server, path="/v1", **kw) -> ProbeTarget:
    kw.setdefault("provider", "acme")
    kw.setdefault("timeout", 5.0)
    return ProbeTarget(base_url=server.url + path, **kw)


def models_server(upstream, path="/v1/models", ids=("m1", "m2"), **reply_kw):
    """A public model list: it answers with or without a key."""
    server = upstream()
    server.get(path, Reply.json(models_body(ids), **reply_kw))
    return server


def keyed_models_server(upstream, path="/v1/models", ids=("m1", "m2"), key=FAKE_KEY, **reply_kw):
    """A model list that wants ``Authorization: Bearer key`` (as most hosted APIs do)."""
    server = upstream()
    server.get(path, bearer(key, Reply.json(models_body(ids), **reply_kw)))
    return server


def _keyed(server):
    """The requests that carried a key (the probe's verification asks once more without it)."""
    return [r for r in without_fingerprint(server.requests) if "authorization" in r.headers]


# -- the outcomes -------------------------------------------------------------------------


async def test_ok_with_a_good_key(upstream):
    server = openai_like(upstream())
    result = await probe(target(server, key=FAKE_KEY, model="gpt-4o"))
    assert result.outcome is Outcome.OK and result.usable
    assert result.models == ("gpt-4o", "gpt-4o-mini")
    assert result.status_code == 200 and result.latency_ms is not None
    assert result.url == server.url + "/v1/models"
    assert result.request_headers["authorization"] == "Bearer sk-test-…0001"
    assert result.server == "OpenAI"
    assert result.summary.startswith("2 models · ")
    assert result.fix is None
    assert _keyed(server)[0].headers["authorization"] == f"Bearer {FAKE_KEY}"


async def test_keyless_local_server_is_keyless_not_ok(upstream):
    server = ollama_like(upstream())
    result = await probe(target(server, provider="ollama", key_required=False, preset="ollama"))
    assert result.outcome is Outcome.KEYLESS and result.usable
    assert result.server == "Ollama"
    assert "no key needed" in result.summary
    assert not server.saw_header("authorization")


async def test_no_stored_key_is_auth_missing_even_when_models_are_public(upstream):
    server = models_server(upstream)
    result = await probe(target(server, provider="openrouter"))
    assert result.outcome is Outcome.AUTH_MISSING and not result.usable
    assert result.fix == "run: llmswitch key set openrouter"
    assert result.models == ("m1", "m2")  # reachability is still reported
    assert not server.saw_header("authorization")


async def test_no_stored_key_and_server_wants_one(upstream):
    server = openai_like(upstream())
    result = await probe(target(server, provider="openai"))
    assert result.outcome is Outcome.AUTH_MISSING
    assert result.summary.startswith("no key stored")
    assert result.fix == "run: llmswitch key set openai"


async def test_auth_missing_when_the_server_says_no_key_arrived(upstream):
    server = openai_like(upstream())
    result = await probe(target(server, provider="local", key_required=False))
    assert result.outcome is Outcome.AUTH_MISSING
    assert "didn't provide an API key" in result.server_message
    assert result.fix == "run: llmswitch key set local"


async def test_auth_missing_when_a_key_was_sent_but_did_not_arrive(upstream):
    server = upstream()
    server.get("/v1/models", openai_error("Missing Authentication header", 401))
    result = await probe(target(server, key=FAKE_KEY))
    assert result.outcome is Outcome.AUTH_MISSING
    assert "no key arrived" in result.summary
    assert "run: llmswitch key set acme" in result.fix


async def test_auth_rejected(upstream):
    server = openai_like(upstream())
    result = await probe(target(server, provider="openai", key=OTHER_KEY))
    assert result.outcome is Outcome.AUTH_REJECTED and not result.usable
    assert result.status_code == 401
    assert result.server_message.startswith("Incorrect API key provided")
    assert result.fix == "run: llmswitch key set openai"
    assert result.sentence().startswith('openai: key rejected (HTTP 401 "Incorrect API key provided')
    assert result.sentence().endswith("— run: llmswitch key set openai")


async def test_auth_rejected_with_a_bare_401(upstream):
    server = vllm_like(upstream(), key=FAKE_KEY)
    result = await probe(target(server, provider="vllm", key=OTHER_KEY, key_required=False, preset="vllm"))
    assert result.outcome is Outcome.AUTH_REJECTED
    assert result.server_message == "Unauthorized"


async def test_forbidden(upstream):
    server = upstream()
    server.get("/v1/models", openai_error("Country, region, or territory not supported", 403,
                                          type="request_forbidden"))
    result = await probe(target(server, key=FAKE_KEY))
    assert result.outcome is Outcome.FORBIDDEN and not result.usable
    assert result.status_code == 403


@pytest.mark.parametrize("reply", [
    Reply.json({"error": {"message": "Insufficient credits", "code": 402}}, 402),
    openai_error("You exceeded your current quota, please check your plan and billing details.", 429,
                 type="insufficient_quota", code="insufficient_quota"),
])
async def test_no_credit(upstream, reply):
    server = upstream()
    server.get("/v1/models", reply)
    result = await probe(target(server, key=FAKE_KEY))
    assert result.outcome is Outcome.NO_CREDIT and not result.usable


async def test_not_found_suggests_adding_v1(upstream):
    server = vllm_like(upstream())
    result = await probe(target(server, path="", key_required=False))
    assert result.outcome is Outcome.NOT_FOUND and not result.usable
    assert result.status_code == 404
    assert result.suggested_base_url == server.url + "/v1"
    assert result.fix == f"change base_url to {server.url}/v1 in config.toml"
    assert result.models == ("Qwen/Qwen2.5-0.5B-Instruct",)


async def test_not_found_suggests_removing_v1(upstream):
    server = models_server(upstream, path="/models")
    result = await probe(target(server, path="/v1", key=FAKE_KEY))
    assert result.outcome is Outcome.NOT_FOUND
    assert result.suggested_base_url == server.url


async def test_not_found_suggests_removing_a_trailing_slash(upstream):
    server = models_server(upstream)
    result = await probe(target(server, path="/v1/", key=FAKE_KEY))
    assert result.url == server.url + "/v1//models"
    assert result.outcome is Outcome.NOT_FOUND
    assert result.suggested_base_url == server.url + "/v1"


async def test_not_found_suggests_dropping_a_pasted_endpoint(upstream):
    server = models_server(upstream)
    result = await probe(target(server, path="/v1/chat/completions", key=FAKE_KEY))
    assert result.outcome is Outcome.NOT_FOUND
    assert result.suggested_base_url == server.url + "/v1"


async def test_not_found_says_when_the_key_is_also_wrong_there(upstream):
    server = openai_like(upstream())
    result = await probe(target(server, path="", key=OTHER_KEY))
    assert result.outcome is Outcome.NOT_FOUND
    assert result.suggested_base_url == server.url + "/v1"
    assert "key rejected" in result.summary
    assert "run: llmswitch key set acme" in result.fix


async def test_not_found_anywhere_has_no_suggestion(upstream):
    server = upstream()
    result = await probe(target(server, path="", key=FAKE_KEY))
    assert result.outcome is Outcome.NOT_FOUND
    assert result.suggested_base_url is None
    assert result.fix == "check base_url; OpenAI-compatible servers usually end in /v1"


async def test_not_found_under_another_prefixs_v1_tries_the_origins_v1(upstream):
    server = litellm_like(upstream())  # pasted OpenRouter's shape (…/api/v1) for a proxy that serves /v1
    result = await probe(target(server, path="/api/v1", key=FAKE_KEY))
    assert result.outcome is Outcome.NOT_FOUND and not result.usable
    assert result.suggested_base_url == server.url + "/v1"
    assert result.fix == f"change base_url to {server.url}/v1 in config.toml"
    assert result.models == ("gpt-4o-mini", "claude-haiku")
    assert render_json([result])[0]["suggested_base_url"] == server.url + "/v1"


@pytest.mark.parametrize("path", ["/api/v1", "/v1"])
async def test_not_found_at_a_v1_path_never_says_servers_end_in_v1(upstream, path):
    server = upstream()  # nothing anywhere: the advice must not send them round to the /v1 they already have
    result = await probe(target(server, path=path, key=FAKE_KEY))
    assert result.outcome is Outcome.NOT_FOUND and result.suggested_base_url is None
    assert "end in /v1" not in result.fix
    assert result.fix == ("check the host, port and path of base_url, and copy the API address from the server's "
                          "documentation")
    asked = {"/api/v1": "/api/models or /v1/models", "/v1": "/models"}[path]
    assert result.summary == f"not found at {path}/models, nor at {asked}"
    assert [r.path for r in _keyed(server)] == [f"{path}/models", *asked.split(" or ")]


async def test_lm_studio_unexpected_endpoint_is_not_found_and_suggests_v1(upstream):
    server = lmstudio_like(upstream())
    result = await probe(target(server, path="", key_required=False, preset="lm_studio"))
    assert result.outcome is Outcome.NOT_FOUND
    assert result.status_code == 200
    assert result.suggested_base_url == server.url + "/v1"
    assert result.server == "LM Studio"


async def test_same_origin_trailing_slash_redirect_is_diagnosed_not_followed_silently(upstream):
    server = upstream()
    server.get("/v1/models", redirect("/v1/models/", 307))
    server.get("/v1/models/", Reply.json(models_body(["m1"])))
    result = await probe(target(server, key=FAKE_KEY))
    assert result.outcome is Outcome.REDIRECTED and not result.usable
    assert result.status_code == 307
    assert "/v1/models/" in result.summary and "1 model" in result.summary
    assert result.models == ("m1",)
    assert result.suggested_base_url is None
    assert "trailing-slash" in result.fix
    assert [r.path for r in _keyed(server)] == ["/v1/models", "/v1/models/"]


async def test_same_origin_redirect_to_v1_suggests_the_base_url(upstream):
    server = models_server(upstream)
    server.get("/models", redirect("/v1/models", 308))
    result = await probe(target(server, path="", key=FAKE_KEY))
    assert result.outcome is Outcome.REDIRECTED
    assert result.suggested_base_url == server.url + "/v1"
    assert result.fix == f"change base_url to {server.url}/v1 in config.toml"


async def test_cross_origin_redirect_never_carries_the_key(upstream):
    elsewhere = upstream()
    elsewhere.get("*", echo_headers)
    server = upstream()
    server.get("/v1/models", redirect(elsewhere.url + "/v1/models", 302))
    result = await probe(target(server, key=FAKE_KEY))
    assert result.outcome is Outcome.REDIRECTED and not result.usable
    assert "another origin" in result.summary
    assert result.suggested_base_url == elsewhere.url + "/v1"
    assert elsewhere.requests == []  # not requested at all, so certainly no Authorization
    assert not elsewhere.saw_header("authorization")


async def test_rate_limited_after_bounded_retries(upstream):
    server = upstream()
    server.get("/v1/models", openai_error("Rate limit reached for requests", 429, type="requests",
                                          headers={"retry-after": "0"}))
    result = await probe(target(server, key=FAKE_KEY))
    assert result.outcome is Outcome.RATE_LIMITED and result.usable
    assert len(_keyed(server)) == 3  # one try and two retries
    assert "the key works" in result.summary


@pytest.fixture
def waits(monkeypatch) -> list[float]:
    """The waits the probe asks for between attempts, in order (each still waited for real)."""
    from llmswitch.net.probe import transport

    asked: list[float] = []

    class Clock:
        def __getattr__(self, name: str):
            return getattr(asyncio, name)

        async def sleep(self, delay: float, result=None):
            asked.append(delay)
            return await asyncio.sleep(delay, result)

    monkeypatch.setattr(transport, "asyncio", Clock())
    return asked


async def test_429_then_success_honours_retry_after(upstream, waits):
    server = upstream()
    server.get("/v1/models", bearer(FAKE_KEY, sequence(Reply.json({"error": "slow down"}, 429, {"retry-after": "1"}),
                                                       Reply.json(models_body(["m1"])))))
    result = await probe(target(server, key=FAKE_KEY))
    assert result.outcome is Outcome.OK
    assert len(_keyed(server)) == 2
    assert waits == [1.0]  # the server's Retry-After, not the default backoff


async def test_retry_after_is_capped(upstream, waits):
    server = upstream()
    server.get("/v1/models", bearer(FAKE_KEY, sequence(Reply.json({"error": "later"}, 429, {"retry-after": "3600"}),
                                                       Reply.json(models_body(["m1"])))))
    result = await probe(target(server, key=FAKE_KEY, timeout=8))
    assert result.outcome is Outcome.OK
    assert waits == [RETRY_AFTER_CAP]


async def test_retries_stay_inside_the_timeout(upstream, waits):
    server = upstream()
    server.get("/v1/models", Reply.json({"error": "later"}, 503, {"retry-after": "2"}))
    result = await probe(target(server, key=FAKE_KEY, timeout=1))
    assert result.outcome is Outcome.SERVER_ERROR
    assert len(_keyed(server)) == 1
    assert waits == []  # a 2 s wait would outlast the 1 s timeout: the answer is given instead


async def test_server_errors_then_success(upstream):
    server = upstream()
    server.get("/v1/models", bearer(FAKE_KEY, sequence(Reply.text("boom", 500), Reply.text("busy", 503),
                                                       Reply.json(models_body(["m1"])))))
    result = await probe(target(server, key=FAKE_KEY))
    assert result.outcome is Outcome.OK
    assert len(_keyed(server)) == 3


async def test_server_error(upstream):
    server = upstream()
    server.get("/v1/models", Reply.json({"detail": "Internal Server Error"}, 500))
    result = await probe(target(server, key=FAKE_KEY))
    assert result.outcome is Outcome.SERVER_ERROR and not result.usable
    assert result.status_code == 500
    assert "3 attempts" in result.summary


async def test_other_4xx_fail_fast(upstream):
    server = upstream()
    server.get("/v1/models", Reply.text("Bad Request", 400))
    result = await probe(target(server, key=FAKE_KEY))
    assert len(_keyed(server)) == 1
    assert result.outcome is Outcome.AMBIGUOUS
    assert "neither the key nor the path" in result.summary


@pytest.mark.parametrize(("reply", "words"), [
    (Reply.html("<html><head><title>Sign in</title></head><body><form>Log in</form></body></html>"), "login page"),
    (Reply.html("<!doctype html><html><body>Welcome</body></html>"), "HTML page"),
    (Reply.text("hello, world"), "not JSON"),
    (Reply.json({"status": "ok"}), "without a model list"),
    (Reply.json({"data": [{"id": 1}, {"id": 2}]}), "wrong types"),
    (Reply.json({"data": "m1,m2"}), "wrong types"),
    (Reply(200, b'{"object":"list","data":[{"id":"m1"', {"content-type": "application/json"}), "not JSON"),
])
async def test_not_openai(upstream, reply, words):
    server = upstream()
    server.get("*", reply)
    result = await probe(target(server, key=FAKE_KEY))
    assert result.outcome is Outcome.NOT_OPENAI and not result.usable
    assert words in result.summary


async def test_answer_too_large(upstream):
    server = upstream()
    server.get("/v1/models", Reply(200, b"", {"content-type": "application/json"},
                                   chunks=[b"[" + b" " * (1024 * 1024)] * 9))
    result = await probe(target(server, key=FAKE_KEY))
    assert result.outcome is Outcome.NOT_OPENAI
    assert "too large" in result.summary
    assert len(_keyed(server)) == 1  # no hunting for other base URLs behind a flood


async def test_connection_cut_mid_answer(upstream):
    server = upstream()
    server.get("/v1/models", Reply(200, b'{"data": [', {"content-type": "application/json"}, content_length=500))
    result = await probe(target(server, key=FAKE_KEY))
    assert result.outcome is Outcome.CONNECTION_ERROR
    assert "broke mid-answer" in result.summary


@pytest.mark.parametrize(("preset", "hint"), [
    ("ollama", "start it: OLLAMA_HOST=127.0.0.1:{port} ollama serve"),
    ("lm_studio", "start the server in LM Studio's Developer tab on port {port} (or: lms server start --port {port})"),
    ("vllm", "start it: vllm serve tiny-random-llama --host 127.0.0.1 --port {port}"),
    ("llamacpp", "start it: llama-server -m PATH/TO/MODEL.gguf --host 127.0.0.1 --port {port}"),
    ("litellm", "start it: litellm --config config.yaml --host 127.0.0.1 --port {port}"),
    (None, "start the server, or fix the port in base_url (nothing listens on {port})"),
])
async def test_connection_refused_says_how_to_start_the_server_on_the_configured_port(preset, hint):
    port = free_port()  # never a preset's default port: the hint must say this one
    result = await probe(ProbeTarget("local", f"http://127.0.0.1:{port}/v1", key_required=False, preset=preset,
                                     model="tiny-random-llama"))
    assert result.outcome is Outcome.CONNECTION_REFUSED
    assert result.summary == f"no server on 127.0.0.1:{port}"
    assert result.fix == hint.format(port=port)
    assert "-m tiny-random-llama" not in result.fix, "a model id is not a file"


@pytest.mark.parametrize(("model", "given"), [("/models/qwen2.5-0.5b-q4.gguf", "/models/qwen2.5-0.5b-q4.gguf"),
                                               ("tiny-random-llama", "PATH/TO/MODEL.gguf"),
                                               (None, "PATH/TO/MODEL.gguf"),
                                               ("my model.gguf", "'my model.gguf'")])
async def test_llama_server_is_given_a_file_only_when_the_model_id_names_one(model, given):
    port = free_port()  # llama-server lists a model by the path it was started with: that id is a file
    result = await probe(ProbeTarget("box", f"http://127.0.0.1:{port}/v1", key_required=False, preset="llamacpp",
                                     model=model))
    assert result.fix == f"start it: llama-server -m {given} --host 127.0.0.1 --port {port}"


async def test_the_start_hint_starts_the_server_where_base_url_looks():
    port = free_port()  # a LAN address binds there; a host name is reached from elsewhere, so all interfaces
    lan = await probe(ProbeTarget("box", f"http://127.0.0.2:{port}/v1", key_required=False, preset="ollama"))
    assert lan.fix == f"start it: OLLAMA_HOST=127.0.0.2:{port} ollama serve"
    named = await probe(ProbeTarget("box", f"http://localhost:{port}/v1", key_required=False, preset="llamacpp"))
    assert named.fix == f"start it: llama-server -m PATH/TO/MODEL.gguf --host localhost --port {port}"


async def test_dns_failure(monkeypatch):
    real = socket.getaddrinfo

    def fake_getaddrinfo(host, *args, **kwargs):  # no real DNS query leaves the machine
        if host == "llmswitch-test.invalid":
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", fake_getaddrinfo)
    result = await probe(ProbeTarget("acme", "http://llmswitch-test.invalid/v1", key=FAKE_KEY, timeout=5))
    assert result.outcome is Outcome.DNS_FAILURE
    assert result.summary == "host not found: llmswitch-test.invalid"


async def test_tls_error_on_a_plain_http_server(upstream):
    server = models_server(upstream)
    result = await probe(ProbeTarget("acme", server.url.replace("http:", "https:") + "/v1", key=FAKE_KEY, timeout=5))
    assert result.outcome is Outcome.TLS_ERROR
    assert "http://" in result.fix


async def test_timeout_costs_only_the_timeout(upstream, waits):
    server = upstream()
    server.get("/v1/models", Reply(hang=True))
    result = await probe(target(server, key=FAKE_KEY, timeout=1))
    assert result.outcome is Outcome.TIMEOUT and not result.usable
    assert "within 1 s" in result.summary
    assert len(_keyed(server)) == 1 and waits == []  # no retry, no wait after the timeout (the keyless check
    # started alongside is the only other request)


async def test_slow_body_is_bounded_by_the_timeout(upstream):
    server = upstream()
    server.get("/v1/models", Reply(200, b"", {"content-type": "application/json"},
                                   chunks=[b" "] * 100, chunk_delay=0.1))
    result = await probe(target(server, key=FAKE_KEY, timeout=1))
    assert result.outcome is Outcome.TIMEOUT  # the whole body would take 10 s: the timeout bounds it, not each read


async def test_model_missing(upstream):
    server = openai_like(upstream())
    result = await probe(target(server, key=FAKE_KEY, model="gpt-4"))
    assert result.outcome is Outcome.MODEL_MISSING and not result.usable
    assert result.models == ("gpt-4o", "gpt-4o-mini")
    assert "gpt-4" in result.summary and "closest: gpt-4o" in result.fix


async def test_litellm_400_auth_error_is_an_auth_problem_not_ok_nor_url(upstream):
    server = litellm_like(upstream())
    result = await probe(target(server, provider="litellm", key=OTHER_KEY, key_required=False, preset="litellm"))
    assert result.outcome is Outcome.AUTH_REJECTED
    assert result.status_code == 400
    assert result.server == "LiteLLM proxy"
    assert "No connected db" in result.server_message
    assert result.suggested_base_url is None
    assert result.fix.startswith("run: llmswitch key set litellm")


async def test_litellm_404_with_auth_text_is_not_a_url_problem(upstream):
    server = upstream()
    server.get("/v1/models", Reply.json({"error": {"message": "Authentication Error, Invalid proxy server token "
                                                   "passed.", "type": "auth_error", "code": "404"}}, 404))
    result = await probe(target(server, key=OTHER_KEY))
    assert result.outcome is Outcome.AUTH_REJECTED
    assert result.suggested_base_url is None


async def test_litellm_good_master_key(upstream):
    server = litellm_like(upstream())
    result = await probe(target(server, provider="litellm", key=FAKE_KEY, key_required=False, preset="litellm"))
    assert result.outcome is Outcome.OK
    assert result.server == "LiteLLM proxy"


async def test_ambiguous_4xx_says_so(upstream):
    server = upstream()
    server.get("/v1/models", Reply.json({"error": {"message": "Something went sideways"}}, 400))
    result = await probe(target(server, key=FAKE_KEY))
    assert result.outcome is Outcome.AMBIGUOUS and not result.usable
    assert "llmswitch key set acme" in result.fix and "base_url" in result.fix


async def test_public_models_with_a_bad_key_is_rejected_via_key_check(upstream):
    server = openrouter_like(upstream())
    result = await probe(target(server, path="/api/v1", provider="openrouter", key=OTHER_KEY, key_check_path="/key"))
    assert result.outcome is Outcome.AUTH_REJECTED
    assert result.fix == "run: llmswitch key set openrouter"
    assert result.server == "OpenRouter"
    assert result.status_code == 401 and result.server_message == "User not found."
    assert result.sentence() == ('openrouter: key rejected (checked at /key) (HTTP 401 "User not found.") '
                                 "— run: llmswitch key set openrouter")
    assert [r.path for r in server.requests] == ["/api/v1/models", "/api/v1/key"]


async def test_openrouter_key_is_checked_even_without_a_configured_key_check_path(upstream):
    server = openrouter_like(upstream())
    result = await probe(target(server, path="/api/v1", provider="openrouter", key=OTHER_KEY))
    assert result.outcome is Outcome.AUTH_REJECTED
    assert server.requests_to("/api/v1/key")


async def test_public_models_with_a_good_key_is_verified(upstream):
    server = openrouter_like(upstream())
    result = await probe(target(server, path="/api/v1", provider="openrouter", key=FAKE_KEY, key_check_path="/key"))
    assert result.outcome is Outcome.OK
    assert "key verified" in result.summary
    assert server.requests_to("/api/v1/key")[0].headers["authorization"] == f"Bearer {FAKE_KEY}"


def test_a_base_url_without_scheme_gets_one_suggested():
    (result,) = probe_sync([ProbeTarget("ollama", "localhost:11434/v1", key_required=False)])
    assert result.outcome is Outcome.INVALID_URL
    assert result.fix == "change base_url to http://localhost:11434/v1 in config.toml"


@pytest.mark.parametrize("base_url", [
    "https://user:secret-password@127.0.0.1:{port}/v1",
    "ftp://127.0.0.1:{port}/v1",
    "file:///etc/passwd",
    "127.0.0.1:{port}/v1",
    "",
    "https://127.0.0.1:notaport/v1",
])
async def test_unsafe_urls_are_refused_without_a_request(upstream, base_url):
    server = models_server(upstream)
    result = await probe(ProbeTarget("acme", base_url.format(port=server.port), key=FAKE_KEY))
    assert result.outcome is Outcome.INVALID_URL and not result.usable
    assert server.requests == []
    assert "secret-password" not in json.dumps(render_json([result]))


# -- fingerprints ---------------------------------------------------------------------------


@pytest.mark.parametrize(("flavour", "path", "kw", "name"), [
    (ollama_like, "/v1", {"key_required": False}, "Ollama"),
    (llamacpp_like, "/v1", {"key_required": False}, "llama.cpp"),
    (vllm_like, "/v1", {"key_required": False}, "vLLM"),
    (lmstudio_like, "/v1", {"key_required": False}, "LM Studio"),
    (litellm_like, "/v1", {"key": FAKE_KEY}, "LiteLLM proxy"),
    (openai_like, "/v1", {"key": FAKE_KEY}, "OpenAI"),
    (openrouter_like, "/api/v1", {"key": FAKE_KEY}, "OpenRouter"),
])
async def test_fingerprint(upstream, flavour, path, kw, name):
    server = flavour(upstream())
    result = await probe(target(server, path=path, **kw))
    assert result.usable, result.sentence()
    assert result.server == name


async def test_a_different_server_on_the_presets_port_is_pointed_out(upstream):
    server = lmstudio_like(upstream())
    result = await probe(target(server, key_required=False, preset="ollama"))
    assert result.outcome is Outcome.KEYLESS
    assert "answered by LM Studio, not Ollama" in result.summary


# -- headers per API kind ---------------------------------------------------------------------


def _echo_models(upstream):
    server = upstream()

    def handler(request):
        return Reply.json({**models_body(["m1"]), "seen": dict(request.headers)})

    server.get("*", handler)
    return server


@pytest.mark.parametrize(("api_kind", "header", "value"), [
    ("openai", "authorization", f"Bearer {FAKE_KEY}"),
    ("azure", "api-key", FAKE_KEY),
    ("anthropic", "x-api-key", FAKE_KEY),
])
async def test_key_header_per_api_kind(upstream, api_kind, header, value):
    server = _echo_models(upstream)
    result = await probe(target(server, key=FAKE_KEY, api_kind=api_kind, headers={"x-team": "blue"}))
    assert result.outcome is Outcome.KEY_UNVERIFIED  # the echo answers anyone: the key proves nothing
    seen = next(r.headers for r in server.requests if header in r.headers)  # not the verification's keyless copy
    assert seen[header] == value
    assert seen["x-team"] == "blue"
    assert result.request_headers["x-team"] == "blue"
    assert FAKE_KEY not in result.request_headers[header]
    if api_kind == "anthropic":
        assert seen["anthropic-version"] == "2023-06-01"
    else:
        assert "authorization" not in seen or api_kind == "openai"


# -- the deep check -------------------------------------------------------------------------


async def test_deep_check_reports_time_to_first_token_and_model(upstream):
    server = openai_like(upstream())
    result = await probe(target(server, key=FAKE_KEY, model="gpt-4o"), deep=True)
    assert result.outcome is Outcome.OK
    assert result.deep is not None and result.deep.ok
    assert result.deep.ttft_ms is not None and result.deep.ttft_ms >= 0
    assert result.deep.reported_model == "gpt-4o"
    assert result.deep.message is None
    sent = without_fingerprint(server.requests_to("/v1/chat/completions"))[0].json()
    assert sent["max_tokens"] == 1 and sent["stream"] is True and sent["model"] == "gpt-4o"


async def test_deep_check_warns_when_another_model_answers(upstream):
    server = upstream()
    server.get("/v1/models", bearer(FAKE_KEY, Reply.json(models_body(["alias"]))))
    server.post("/v1/chat/completions", chat_completions(reported_model="real-model-2024", key=FAKE_KEY))
    result = await probe(target(server, key=FAKE_KEY, model="alias"), deep=True)
    assert result.outcome is Outcome.OK and result.deep.ok
    assert result.deep.reported_model == "real-model-2024"
    assert "answered as real-model-2024 (asked for alias)" in result.deep.message


async def test_deep_check_without_streaming(upstream):
    server = upstream()
    server.get("/v1/models", Reply.json(models_body(["m1"])))

    def no_stream(request):
        return chat_completions()(type(request)(request.method, request.path, request.query, request.headers,
                                                json.dumps({**request.json(), "stream": False}).encode()))

    server.post("/v1/chat/completions", no_stream)
    result = await probe(target(server, key_required=False, model="m1"), deep=True)
    assert result.outcome is Outcome.KEYLESS and result.deep.ok
    assert "did not stream" in result.deep.message


async def test_deep_check_catches_a_key_that_only_chat_rejects(upstream):
    server = upstream()
    server.get("/v1/models", Reply.json(models_body(["m1"])))
    server.post("/v1/chat/completions", chat_completions(key=FAKE_KEY))
    result = await probe(target(server, key=OTHER_KEY, model="m1"), deep=True)
    assert result.outcome is Outcome.AUTH_REJECTED and not result.usable
    assert result.fix == "run: llmswitch key set acme"
    assert result.deep is not None and not result.deep.ok


async def test_deep_check_failure_is_chat_failed(upstream):
    server = upstream()
    server.get("/v1/models", Reply.json(models_body(["m1"])))
    server.post("/v1/chat/completions", openai_error("The model `m1` does not exist", 404, code="model_not_found"))
    result = await probe(target(server, key=FAKE_KEY, model="m1"), deep=True)
    assert result.outcome is Outcome.CHAT_FAILED and not result.usable
    assert result.deep.status_code == 404
    assert "does not exist" in result.deep.message


async def test_deep_check_without_a_selected_model_chats_with_the_first_listed(upstream):
    server = openai_like(upstream())
    server.post("/v1/chat/completions", chat_completions(key=FAKE_KEY))
    result = await probe(target(server, key=FAKE_KEY), deep=True)
    assert result.outcome is Outcome.OK and result.deep is not None and result.deep.ok
    assert "chat with gpt-4o (first listed)" in result.summary
    assert [r.json()["model"] for r in without_fingerprint(server.requests_to("/v1/chat/completions"))] == ["gpt-4o"]


async def test_deep_check_is_skipped_when_nothing_is_listed_or_selected(upstream):
    server = models_server(upstream, ids=())
    result = await probe(target(server, key_required=False), deep=True)
    assert result.outcome is Outcome.KEYLESS
    assert result.deep is not None and "skipped" in result.deep.message
    assert server.requests_to("/v1/chat/completions") == []


# -- secrets and hostile text -----------------------------------------------------------------


def _all_text(result: ProbeResult) -> str:
    return "\n".join([repr(result), str(result), result.sentence(), render_table([result], verbose=True),
                      json.dumps(render_json([result]))])


async def test_the_key_never_appears_in_any_output(upstream):
    server = upstream()
    leak = f"your key {FAKE_KEY} is wrong"
    server.get("/v1/models", Reply.json({"error": {"message": leak}}, 401, {"x-echo": FAKE_KEY}))
    server.get("/models", redirect(f"/v1/models?k={FAKE_KEY}"))
    server.get("/v1/v1/models", Reply.json(models_body([FAKE_KEY, "m1"])))
    targets = [target(server, key=FAKE_KEY), target(server, path="", key=FAKE_KEY),
               target(server, path="/v1/v1", key=FAKE_KEY, model=FAKE_KEY),
               ProbeTarget("acme", f"https://u:{FAKE_KEY}@127.0.0.1:{server.port}/v1", key=FAKE_KEY)]
    results = [await probe(t) for t in targets]
    assert [r.outcome for r in results] == [Outcome.AUTH_REJECTED, Outcome.REDIRECTED, Outcome.KEY_UNVERIFIED,
                                            Outcome.INVALID_URL]
    for result in results:
        assert FAKE_KEY not in _all_text(result)
    for result in results[:3]:
        assert "Bearer sk-test-…0001" in _all_text(result)  # redacted, still recognisable
    assert FAKE_KEY not in repr(targets[0]) and FAKE_KEY not in str(targets[0])


async def test_server_text_is_made_terminal_safe(upstream):
    server = upstream()
    evil = "\x1b[2J\x1b]0;pwned\x07bad \u202ekey"
    server.get("/v1/models", Reply.json({"object": "list", "data": [{"id": "m\x1b[31mred"}],
                                         "error": None}))
    server.get("/v2/models", Reply.json({"error": {"message": evil}}, 401))
    for path in ("/v1", "/v2"):
        result = await probe(target(server, path=path, key=FAKE_KEY))
        text = _all_text(result)
        assert "\x1b" not in text and "\x07" not in text and "\u202e" not in text


# -- many at once ---------------------------------------------------------------------------


async def test_probe_all_yields_results_as_they_finish(upstream):
    delays = {"slow": 0.8, "medium": 0.4, "fast": 0.0}
    targets = []
    for name, delay in delays.items():
        server = upstream()
        server.get("/v1/models", Reply.json(models_body(["m1"]), delay=delay))
        targets.append(target(server, provider=name, key=FAKE_KEY))
    order = [r.provider async for r in probe_all(targets)]
    assert order == ["fast", "medium", "slow"]  # the order they finish in, not the order asked


async def test_a_hung_endpoint_costs_only_its_own_timeout(upstream):
    hung = upstream()
    hung.get("/v1/models", Reply(hang=True))
    targets = [target(hung, provider="hung", key=FAKE_KEY, timeout=1.5)]
    for i in range(5):
        targets.append(target(keyed_models_server(upstream), provider=f"ok{i}", key=FAKE_KEY))
    arrivals = [(result.provider, result.outcome) async for result in probe_all(targets)]
    assert arrivals[-1] == ("hung", Outcome.TIMEOUT)  # the others did not wait for it
    assert all(outcome is Outcome.OK for _, outcome in arrivals[:-1])


async def test_leaving_probe_all_early_cancels_the_rest(upstream):
    hung = upstream()
    hung.get("/v1/models", Reply(hang=True))
    fast = models_server(upstream)
    gen = probe_all([target(hung, provider="hung", key=FAKE_KEY, timeout=30), target(fast, key=FAKE_KEY)])
    first = await gen.__anext__()
    await gen.aclose()
    assert first.provider == "acme"
    assert asyncio.all_tasks() == {asyncio.current_task()}  # the hung probe was cancelled, not left waiting 30 s


def test_probe_sync_keeps_the_order_of_targets(upstream):
    slow = upstream()
    slow.get("/v1/models", bearer(FAKE_KEY, Reply.json(models_body(["m1"]), delay=0.3)))
    fast = keyed_models_server(upstream)
    results = probe_sync([target(slow, provider="slow", key=FAKE_KEY), target(fast, provider="fast", key=FAKE_KEY)])
    assert [r.provider for r in results] == ["slow", "fast"]
    assert all(r.outcome is Outcome.OK for r in results)


async def test_probe_uses_a_given_client_and_never_follows_redirects(upstream):
    import httpx

    server = upstream()
    server.get("/v1/models", redirect("/v1/models/"))
    server.get("/v1/models/", redirect("/v1/models"))  # a loop: must not spin
    async with httpx.AsyncClient(follow_redirects=True) as client:
        result = await probe(target(server, key=FAKE_KEY), client)
    assert result.outcome is Outcome.REDIRECTED
    assert "redirects again" in result.summary
    assert len(_keyed(server)) == 2


# -- output -----------------------------------------------------------------------------------


async def test_render_table_and_json(upstream):
    good = openai_like(upstream())
    results = [await probe(target(good, provider="openai", key=FAKE_KEY)),
               await probe(target(good, provider="bad", key=OTHER_KEY))]
    table = render_table(results)
    lines = table.splitlines()
    assert lines[0].split() == ["PROVIDER", "RESULT", "SERVER", "DETAIL"]
    assert lines[1].split()[:2] == ["openai", "ok"]
    assert "fix: run: llmswitch key set bad" in table
    verbose = render_table(results, verbose=True)
    assert f"GET {good.url}/v1/models" in verbose and "Bearer sk-test-…0002" in verbose
    data = render_json(results)
    assert data[0]["outcome"] == "ok" and data[0]["usable"] is True and data[0]["models"] == ["gpt-4o", "gpt-4o-mini"]
    assert data[1]["outcome"] == "auth_rejected" and data[1]["fix"] == "run: llmswitch key set bad"
    assert data[1]["sentence"] == results[1].sentence()
    json.dumps(data)


def test_cancelled_result():
    result = cancelled_result(ProbeTarget("acme", "http://127.0.0.1:9/v1", key=FAKE_KEY))
    assert result.outcome is Outcome.CANCELLED and not result.usable
    assert FAKE_KEY not in _all_text(result)


async def test_cancellation_propagates(upstream):
    hung = upstream()
    hung.get("/v1/models", Reply(hang=True))
    task = asyncio.ensure_future(probe(target(hung, key=FAKE_KEY, timeout=30)))
    await asyncio.sleep(0.2)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


def test_every_outcome_is_covered_by_a_test():
    """A reminder: adding an Outcome means adding a test above that produces it."""
    produced_above = {Outcome.OK, Outcome.KEYLESS, Outcome.AUTH_MISSING, Outcome.AUTH_REJECTED, Outcome.FORBIDDEN,
                      Outcome.NO_CREDIT, Outcome.NOT_FOUND, Outcome.REDIRECTED, Outcome.RATE_LIMITED,
                      Outcome.SERVER_ERROR, Outcome.NOT_OPENAI, Outcome.CONNECTION_REFUSED, Outcome.DNS_FAILURE,
                      Outcome.TLS_ERROR, Outcome.TIMEOUT, Outcome.CONNECTION_ERROR, Outcome.MODEL_MISSING,
                      Outcome.CHAT_FAILED, Outcome.INVALID_URL, Outcome.AMBIGUOUS, Outcome.CANCELLED}
    produced_in_test_probe_verified = {Outcome.KEY_UNVERIFIED, Outcome.ANY_KEY}
    assert produced_above | produced_in_test_probe_verified == set(Outcome)
