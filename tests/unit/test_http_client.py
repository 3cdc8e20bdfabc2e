"""The SDK path (``llmswitch.api.client_for`` → ``llmswitch.net.http.sdk_client``) against real 127.0.0.1 servers.

A redirect to another origin is refused before anything reaches it, with the probe's sentence;
compressed answers are decoded with a cap; ordinary answers (and same-origin redirects) still work.
"""

from __future__ import annotations

import json
import random
import tracemalloc

import httpx
import pytest

from llmswitch import repl
from llmswitch.api import client_for
from llmswitch.base.errors import LlmswitchError
from llmswitch.net.http import SDK_MAX_RATIO, EncodingRefused, RedirectRefused, sdk_client
from llmswitch.net.probe import Outcome, ProbeTarget, probe
from llmswitch.store.selection import ActiveSelection
from upstreams import (
    MIB,
    Reply,
    chat_chunks,
    chat_completions,
    compressed,
    double_gzip_bomb,
    encoded,
    redirect,
    sse,
    zeros_compressed,
)

GIB = 1 << 30
MESSAGES = [{"role": "user", "content": "Say OK."}]
CHAT = "/v1/chat/completions"


@pytest.fixture(autouse=True)
def box_configured(isolated):
    """`client_for` takes the key source from config.toml: the provider these selections name is configured."""
    from llmswitch.store.config import add_provider

    add_provider("box", {"base_url": "http://127.0.0.1:9/v1", "key_source": "none"})


def _selection(server, api_kind: str = "openai") -> ActiveSelection:
    return ActiveSelection(role="default", provider="box", model="m1", base_url=server.url + "/v1",
                           api_kind=api_kind, key_source="none", key_required=False,
                           api_version="2024-10-21" if api_kind == "azure" else None)


def _completion(text: str = "OK") -> bytes:
    return json.dumps({"id": "chatcmpl-1", "object": "chat.completion", "created": 1, "model": "m1",
                       "choices": [{"index": 0, "message": {"role": "assistant", "content": text},
                                    "finish_reason": "stop"}]}).encode()


def _ask(sel: ActiveSelection, stream: bool = False) -> str:
    client = client_for(sel, max_retries=0)
    if not stream:
        return client.chat.completions.create(model=sel.model, messages=MESSAGES).choices[0].message.content
    parts = client.chat.completions.create(model=sel.model, messages=MESSAGES, stream=True)
    return "".join(c.choices[0].delta.content or "" for c in parts if c.choices)


# -- redirects -------------------------------------------------------------------------------


@pytest.mark.parametrize("stream", [False, True])
@pytest.mark.parametrize("status", [302, 307])
def test_a_redirect_to_another_origin_is_refused_and_nothing_reaches_it(upstream, status, stream):
    other = upstream()
    other.post(CHAT, chat_completions())
    server = upstream()
    server.post(CHAT, redirect(other.url + CHAT, status))
    with pytest.raises(RedirectRefused) as caught:
        _ask(_selection(server), stream=stream)
    assert other.requests == []
    assert len(server.requests) == 1
    error = caught.value
    assert isinstance(error, httpx.HTTPError) and isinstance(error, LlmswitchError)
    assert error.cause == (f"redirected (HTTP {status}) to another origin: {other.url}{CHAT} — "
                           "not followed, the key was not sent there")
    assert error.fix == f"if that is the real API, change base_url to {other.url}/v1 in config.toml"
    assert str(error).startswith("box: redirected")


async def test_the_sdk_and_the_probe_say_the_same_sentence(upstream):
    other = upstream()
    server = upstream()
    server.route("*", "*", redirect(other.url + "/v1/x", 302))
    server.post(CHAT, redirect(other.url + CHAT, 302))
    server.get("/v1/models", redirect(other.url + "/v1/models", 302))
    result = await probe(ProbeTarget("box", server.url + "/v1", key_required=False))
    with pytest.raises(RedirectRefused) as caught:
        _ask(_selection(server))
    assert result.outcome is Outcome.REDIRECTED
    assert result.summary == caught.value.cause.replace("/chat/completions", "/models")
    assert result.fix == caught.value.fix
    assert other.requests == []
    # chat (and the REPL) explain an SDK error through the probe: the same words again
    said = repl.explain_error(caught.value, _selection(server))
    assert said == f"box: {caught.value.cause} — {caught.value.fix}"


def test_an_azure_client_refuses_too(upstream):
    other = upstream()
    server = upstream()
    path = "/v1/openai/deployments/m1/chat/completions"
    server.post(path, redirect(other.url + path, 302))
    with pytest.raises(RedirectRefused):
        _ask(_selection(server, "azure"))
    assert other.requests == [] and server.requests_to(path)


async def test_the_async_client_refuses_too(upstream):
    other = upstream()
    server = upstream()
    server.post(CHAT, redirect(other.url + CHAT, 302))
    client = client_for(_selection(server), asynchronous=True, max_retries=0)
    with pytest.raises(RedirectRefused):
        await client.chat.completions.create(model="m1", messages=MESSAGES)
    assert other.requests == []
    await client.close()


def test_a_redirect_within_the_origin_is_followed(upstream):
    server = upstream()
    server.post(CHAT, redirect("/v2/chat/completions", 307))
    server.post("/v2/chat/completions", chat_completions(text="moved here"))
    assert _ask(_selection(server)) == "moved here"


def test_credentials_in_a_redirect_are_refused(upstream):
    server = upstream()
    server.post(CHAT, redirect(f"http://user:pw@127.0.0.1:{server.port}/v2/chat/completions", 307))
    with pytest.raises(RedirectRefused, match="to another origin"):
        _ask(_selection(server))


def test_a_caller_supplied_http_client_is_kept(upstream):
    server = upstream()
    mine = httpx.Client()
    client = client_for(_selection(server), http_client=mine)
    assert client._client is mine


# -- compressed answers ----------------------------------------------------------------------


def _peak(fn):
    tracemalloc.start()
    try:
        try:
            outcome: object = fn()
        except Exception as exc:  # noqa: BLE001 - the test inspects it
            outcome = exc
        return outcome, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


BOMBS = {
    "json gzip 1 GiB": (lambda: encoded(zeros_compressed(GIB), "gzip"), False, "compression bomb"),
    "json deflate 1 GiB": (lambda: encoded(zeros_compressed(GIB, "deflate"), "deflate"), False, "compression bomb"),
    "sse gzip 1 GiB": (lambda: encoded(zeros_compressed(GIB), "gzip", "text/event-stream"), True, "compression bomb"),
    "json gzip, gzip 590 B": (lambda: encoded(double_gzip_bomb(256 * MIB), "gzip, gzip"), False, "stacked"),
    "sse gzip, gzip 1.8 KB": (lambda: encoded(double_gzip_bomb(GIB), "gzip, gzip", "text/event-stream"), True,
                              "stacked"),
}


@pytest.mark.parametrize("case", list(BOMBS))
def test_a_compression_bomb_through_the_sdk_is_refused_with_bounded_memory(upstream, case):
    make, stream, said = BOMBS[case]
    reply = make()
    server = upstream()
    server.post(CHAT, reply)
    outcome, peak = _peak(lambda: _ask(_selection(server), stream=stream))
    print(f"SDK {case}: {len(reply.body):,} bytes sent, peak {peak / MIB:.1f} MiB")
    assert isinstance(outcome, EncodingRefused), outcome
    assert said in outcome.cause
    assert peak < 64 * MIB, f"peak {peak / MIB:.0f} MiB"
    assert repl.explain_error(outcome, _selection(server)) == f"box: {outcome.cause} — {outcome.fix}"


@pytest.mark.parametrize("encoding", ["gzip", "deflate", "raw-deflate"])
def test_compressed_answers_still_work(upstream, encoding):
    header = "gzip" if encoding == "gzip" else "deflate"
    server = upstream()
    server.post(CHAT, encoded(compressed(_completion("squeezed"), encoding), header))
    assert _ask(_selection(server)) == "squeezed"
    assert server.requests[0].headers["accept-encoding"] == "gzip, deflate"


def test_a_long_compressed_stream_is_not_cut_off(upstream):
    rng = random.Random(7)
    words = ["the", "a", "model", "token", "stream", "hello", "world", "of", "to", "and", "in", "is", "it", "for"]
    text = " ".join(rng.choice(words) for _ in range(120_000))
    events = b"".join(sse(chat_chunks("m1", text)))
    body = compressed(events)
    assert len(events) > 20 * MIB and 100 < len(events) / len(body) < SDK_MAX_RATIO  # past the floor, not a bomb
    server = upstream()
    server.post(CHAT, encoded(body, "gzip", "text/event-stream"))
    sel = _selection(server)
    with sdk_client(sel.base_url) as http, http.stream("POST", server.url + CHAT, json={}) as response:
        assert b"".join(response.iter_bytes()) == events  # the bytes the SDK's event parser reads


def test_an_unknown_encoding_is_a_sentence(upstream):
    server = upstream()
    server.post(CHAT, encoded(b"\x00\x01", "br"))
    with pytest.raises(EncodingRefused, match="unsupported content-encoding br"):
        _ask(_selection(server))


def test_a_plain_answer_is_untouched(upstream):
    server = upstream()
    server.post(CHAT, Reply(200, _completion("plain"), {"content-type": "application/json"}))
    assert _ask(_selection(server)) == "plain"
