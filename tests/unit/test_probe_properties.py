"""The probe under arbitrary answers: never raises, one Outcome, no key, no escape codes.

``classify`` sees arbitrary statuses, headers (non-ASCII and control characters in names and
values) and bodies (binary, JSON of any shape, nesting 100,000 deep); the transport's decoder
sees arbitrary and stacked ``Content-Encoding`` values over real and broken compressed bodies,
cut at any byte; and whole probes of a real 127.0.0.1 server get the same hostile answers.

Example counts come from the Hypothesis profile (tests/conftest.py): 200 by
default, 10 000 with ``HYPOTHESIS_PROFILE=long``.
"""

from __future__ import annotations

import asyncio
import json
import re

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from llmswitch.net.http import PIECE, EncodingRefused, decoder_for
from llmswitch.net.probe import AUTH, Diagnosis, Outcome, ProbeResult, ProbeTarget, classify, probe
from upstreams import FakeUpstream, Reply, compressed

KEYS = st.one_of(st.none(), st.from_regex(r"sk-[a-z]{2,4}-[A-Za-z0-9]{20,40}", fullmatch=True))
CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=40),
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=12), inner, max_size=5),
    max_leaves=25,
)
openai_shaped = st.fixed_dictionaries({
    "object": st.sampled_from(["list", "model", 3]),
    "data": st.one_of(
        st.lists(st.fixed_dictionaries({"id": st.one_of(st.text(max_size=30), st.integers(), st.none()),
                                        "owned_by": st.sampled_from(["library", "vllm", "llamacpp", "x"])}),
                 max_size=6),
        json_values),
})
error_shaped = st.fixed_dictionaries({"error": st.one_of(
    st.text(max_size=80),
    st.fixed_dictionaries({"message": st.one_of(st.text(max_size=80), st.sampled_from([
        "Incorrect API key provided", "Missing Authentication header", "Authentication Error, No connected db.",
        "Unexpected endpoint or method.", "You exceeded your current quota", "Not Found"])),
        "code": st.one_of(st.none(), st.integers(), st.text(max_size=10))}),
    json_values)})
HOSTILE_TEXT = ["\x1b[31m", "\x1b]0;pwned\x07", "\u202e", "\u200b", "\ufeff", "\x00", "\r", "é", "日本", "\U0001f600",
                "\x9b2J", "\u2066"]
hostile_text = st.one_of(st.text(max_size=40), st.lists(st.sampled_from(HOSTILE_TEXT) | st.text(max_size=4),
                                                        max_size=8).map("".join))
OPENERS = [("[", "]"), ('{"a":', "}"), ('{"error":', "}"), ('{"data":', "}"), ('{"error":{"message":', "}}")]
deep_bodies = st.builds(
    lambda depth, pair, closed: (pair[0] * depth + ("1" + pair[1] * depth if closed else "")).encode(),
    st.one_of(st.integers(1, 2_000), st.integers(2_000, 100_000)), st.sampled_from(OPENERS), st.booleans())
bodies = st.one_of(
    deep_bodies,
    hostile_text.map(lambda t: json.dumps({"error": {"message": t}}, ensure_ascii=False).encode()),
    hostile_text.map(lambda t: json.dumps({"data": [{"id": t, "owned_by": t}]}).encode()),
    st.binary(max_size=512),
    st.text(max_size=300).map(str.encode),
    st.builds(lambda v: json.dumps(v).encode(), json_values),
    st.builds(lambda v: json.dumps(v).encode(), openai_shaped),
    st.builds(lambda v: json.dumps(v).encode(), error_shaped),
    st.builds(lambda t: f"<html><title>{t}</title><body>{t}</body></html>".encode(), st.text(max_size=60)),
)
statuses = st.one_of(st.none(), st.integers(min_value=-5, max_value=1000),
                     st.sampled_from([200, 204, 301, 302, 307, 308, 400, 401, 402, 403, 404, 405, 408, 410, 422,
                                      429, 500, 502, 503, 504]))
header_names = st.one_of(st.sampled_from(["content-type", "retry-after", "location", "server", "x-litellm-version",
                                          "openai-version", "x-groq-region", "Retry-After", "Content-Type"]),
                         st.text(min_size=1, max_size=20), hostile_text.filter(bool))
header_values = st.one_of(st.sampled_from(["application/json", "text/html", "0", "1.5", "-3", "nan", "inf", "1e400",
                                           "Wed, 21 Oct 2015 07:28:00 GMT", "llama.cpp", "/v1/models/",
                                           "http://other.example/v1/models", "gzip, gzip", "br"]),
                          st.text(max_size=40), hostile_text)
headers = st.dictionaries(header_names, header_values, max_size=6)
targets = st.builds(
    ProbeTarget,
    provider=st.sampled_from(["openai", "ollama", "acme"]),
    base_url=st.sampled_from(["http://127.0.0.1:11434/v1", "https://openrouter.ai/api/v1", "http://[::1]:8000",
                              "https://x.openai.azure.com/openai", "not a url", ""]),
    key=KEYS,
    key_required=st.booleans(),
    model=st.one_of(st.none(), st.text(max_size=20)),
    preset=st.one_of(st.none(), st.sampled_from(["ollama", "lm_studio", "vllm", "llamacpp", "litellm", "x"])),
    api_kind=st.sampled_from(["openai", "azure", "anthropic"]),
)


def _strings(diagnosis: Diagnosis) -> list[str]:
    return [s for s in (diagnosis.summary, diagnosis.fix, diagnosis.server_message, diagnosis.server,
                        *diagnosis.models) if s]


@given(status=statuses, headers=headers, body=bodies, target=targets)
@example(status=200, headers={}, body=b"[" * 100_000, target=ProbeTarget("a", "http://h/v1", key=None))
@example(status=401, headers={"retry-after": "9" * 400}, body=b"", target=ProbeTarget("a", "http://h/v1"))
@example(status=200, headers={}, body=b'{"error":' * 100_000, target=ProbeTarget("a", "http://h/v1", key=None))
@example(status=401, headers={"Location\x1b": "\u202e/v1"}, body=b"[" * 50_000 + b"1" + b"]" * 50_000,
         target=ProbeTarget("a", "http://h/v1"))
def test_classify_never_raises_and_gives_exactly_one_outcome(status, headers, body, target):
    diagnosis = classify(status, headers, body, target=target)
    assert isinstance(diagnosis, Diagnosis)
    assert isinstance(diagnosis.outcome, Outcome)
    assert diagnosis.outcome in set(Outcome)
    assert isinstance(diagnosis.summary, str) and diagnosis.summary
    assert all(isinstance(m, str) for m in diagnosis.models)


@given(status=statuses, headers=headers, body=bodies, target=targets, where=st.integers(0, 3))
def test_classify_output_never_holds_the_key_or_control_characters(status, headers, body, target, where):
    if target.key:  # plant the key where a careless server would echo it
        planted = [body + target.key.encode(),
                   json.dumps({"error": {"message": f"bad key {target.key}"}}).encode(),
                   json.dumps({"data": [{"id": target.key}]}).encode(),
                   body][where]
        headers = {**headers, "location": f"/v1?k={target.key}"}
    else:
        planted = body
    diagnosis = classify(status, headers, planted, target=target)
    for text in _strings(diagnosis):
        assert not target.key or target.key not in text
        assert not CONTROL.search(text), text


@given(body=bodies, headers=headers, target=targets)
def test_usable_outcomes_only_come_from_answers_that_say_so(body, headers, target):
    # a 2xx can only be OK/KEYLESS with a real model list; an error status never is
    for status in (400, 401, 403, 404, 500):
        assert classify(status, headers, body, target=target).outcome not in (Outcome.OK, Outcome.KEYLESS)
    diagnosis = classify(200, headers, body, target=target)
    if diagnosis.outcome in (Outcome.OK, Outcome.KEYLESS):
        data = json.loads(body)
        items = data["data"] if isinstance(data, dict) else data
        assert isinstance(items, list)
        assert len(items) == len(diagnosis.models)
        assert (diagnosis.outcome is Outcome.KEYLESS) == (target.key is None)


# -- the transport's decoder: any Content-Encoding, any body, cut anywhere ----------------------

ENCODING_NAMES = ["gzip", "GZIP", "x-gzip", "deflate", "identity", "br", "zstd", "compress", "", " ", "gzip;q=1",
                  *HOSTILE_TEXT]
encoding_headers = st.lists(st.sampled_from(ENCODING_NAMES) | st.text(max_size=8), max_size=4).map(", ".join)
WRAPS = {"none": lambda b: b, "gzip": compressed, "deflate": lambda b: compressed(b, "deflate"),
         "raw-deflate": lambda b: compressed(b, "raw-deflate"),
         "gzip, gzip": lambda b: compressed(compressed(b)), "truncated gzip": lambda b: compressed(b)[:-9],
         "flipped gzip": lambda b: bytes(x ^ 0x55 if i == 12 else x for i, x in enumerate(compressed(b)))}
payloads = st.one_of(st.binary(max_size=3000), st.integers(0, 300_000).map(bytes))  # zeros: 1000-fold


@given(header=encoding_headers, payload=payloads, wrap=st.sampled_from(sorted(WRAPS)), cut=st.integers(1, 5000))
@example(header="deflate", payload=b"x" * 100, wrap="raw-deflate", cut=1)
@example(header="gzip, gzip", payload=b"{}", wrap="gzip, gzip", cut=7)
def test_decoder_decodes_or_refuses_and_never_makes_a_big_piece(header, payload, wrap, cut):
    body = WRAPS[wrap](payload)
    try:
        decoder = decoder_for(header)
    except EncodingRefused as refused:
        assert refused.cause.startswith("not OpenAI-compatible: ") and not CONTROL.search(refused.sentence())
        names = [n.strip().lower() for n in header.split(",") if n.strip() and n.strip().lower() != "identity"]
        assert len(names) > 1 or names[0] not in ("gzip", "x-gzip", "deflate")
        return
    out = bytearray()
    try:
        for start in range(0, len(body), cut):
            for piece in decoder.feed(body[start:start + cut]):
                assert 0 < len(piece) <= max(PIECE, cut)
                out += piece
    except EncodingRefused as refused:
        assert "encoding is corrupt" in refused.cause
        assert decoder.encoding != "identity"
        return
    if decoder.encoding == "identity":
        assert bytes(out) == body
    elif (decoder.encoding, wrap) in {("gzip", "gzip"), ("deflate", "deflate"), ("deflate", "raw-deflate")}:
        assert bytes(out) == payload
    elif wrap == "gzip, gzip" and decoder.encoding == "gzip":
        assert bytes(out) == compressed(payload)  # one layer taken off, as declared


# -- whole probes of a real server sending the same hostile answers --------------------------------


@pytest.fixture(scope="module")
def hostile_server():
    with FakeUpstream() as server:
        yield server


def _wire_safe(text: str) -> str:
    """What an HTTP/1.1 server can put in a header: latin-1, no CR/LF."""
    return text.encode("latin-1", "replace").decode("latin-1").replace("\r", "").replace("\n", "")


def _strings_of(result: ProbeResult) -> list[str]:
    deep = result.deep
    return [s for s in (result.provider, result.summary, result.fix, result.url, result.server_message, result.server,
                        result.suggested_base_url, *result.models, *result.request_headers.values(),
                        deep and deep.message, deep and deep.reported_model) if s]


@given(status=st.sampled_from([200, 200, 401, 404, 429, 500, 302]), header=encoding_headers,
       wrap=st.sampled_from(sorted(WRAPS)), body=bodies, extra=st.dictionaries(
           st.sampled_from(["x-litellm-version", "server", "retry-after", "location", "x-note", "content-type"]),
           hostile_text, max_size=3),
       key=KEYS, chat=st.one_of(st.none(), bodies))
@example(status=200, header="gzip", wrap="gzip", body=b"[" * 100_000, extra={}, key=None, chat=None)
@example(status=200, header="gzip, gzip", wrap="gzip, gzip", body=b"{}", extra={}, key=None, chat=None)
@example(status=200, header="", wrap="none", body=b'{"data": [{"id": "m1"}]}', extra={}, key=None,
         chat=b'{"choices":' * 100_000)
def test_a_probe_of_any_hostile_answer_is_a_result(hostile_server, status, header, wrap, body, extra, key, chat):
    headers = {"content-type": "application/json", **{k: _wire_safe(v) for k, v in extra.items()}}
    if header.strip():
        headers["content-encoding"] = _wire_safe(header)
    if status == 302:
        headers.setdefault("location", "/elsewhere")
    hostile_server.get("/v1/models", Reply(status, WRAPS[wrap](body), headers))
    if chat is not None:  # the deep check's answer: the same hostile body as one server-sent event
        events = b"data: " + chat + b"\n\ndata: [DONE]\n\n"
        hostile_server.post("/v1/chat/completions",
                            Reply(200, WRAPS[wrap](events), {**headers, "content-type": "text/event-stream"}))
    # a short budget: 429/5xx retries wait at most once (the answers, not the waits, are under test)
    target = ProbeTarget("box", hostile_server.url + "/v1", key=key, key_required=False, timeout=0.6,
                         model="m1" if chat is not None else None)
    result = asyncio.run(probe(target, deep=chat is not None))
    assert isinstance(result.outcome, Outcome)
    if chat is not None and result.deep is not None and not result.deep.ok:
        assert result.outcome is Outcome.CHAT_FAILED or result.outcome in AUTH
    for text in _strings_of(result):
        assert not CONTROL.search(text), text
        assert not key or key not in text


async def test_a_deep_check_answered_with_100000_levels_of_nesting_is_a_chat_failure(hostile_server):
    hostile_server.get("/v1/models", Reply.json({"data": [{"id": "m1"}]}))
    hostile_server.post("/v1/chat/completions", Reply(200, b"data: " + b'{"choices":' * 100_000 + b"\n\n",
                                                      {"content-type": "text/event-stream"}))
    result = await probe(ProbeTarget("box", hostile_server.url + "/v1", key_required=False, model="m1"), deep=True)
    assert result.outcome is Outcome.CHAT_FAILED and "streamed no events" in result.summary
