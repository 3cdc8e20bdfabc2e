"""What the probe shows of headers is redacted by value, under any name; the configured key is
scrubbed from server text whatever its length."""

from __future__ import annotations

import json

import pytest

from llmswitch.base.redact import redact_header, redact_secrets, scrub
from llmswitch.net.probe import Outcome, ProbeTarget, probe, render_json, render_table
from upstreams import FAKE_KEY, Reply, models_body, openai_error, redirect

GATEWAY_SECRETS = {
    "Helicone-Auth": "Bearer sk-test-helicone-7u3kq9x2m4v8b1n6",
    "X-Goog-Api-Key": "AIzaSyA-9x8c7v6b5n4m3l2k1j0h9g8f7d6s5",
    "cf-aig-authorization": "Bearer cf-aig-4f3e2d1c0b9a8f7e6d5c",
    "X-Custom": "Bearer sk-test-live-q1w2e3r4t5y6u7i8o9p0",
    "X-Trace": "session=abc; token=tok_Zx9Yw8Vu7Ts6Rq5Po4Nm3",
    "X-Signed": "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.c2lnbmF0dXJlLXBhcnQ",
}
PLAIN = {"X-Title": "llmswitch", "HTTP-Referer": "https://github.com/example/llmswitch", "X-Team": "blue team"}


def _secret_words() -> list[str]:
    words = []
    for value in GATEWAY_SECRETS.values():
        words.extend(w for w in value.replace("=", " ").replace(";", " ").split() if len(w) >= 16)
    return words


async def test_probe_shows_no_credential_under_any_header_name(upstream):
    server = upstream()
    server.get("/v1/models", Reply.json(models_body(["m1"])))
    result = await probe(ProbeTarget("gw", server.url + "/v1", key=FAKE_KEY, headers={**GATEWAY_SECRETS, **PLAIN}))
    assert result.outcome is Outcome.KEY_UNVERIFIED  # the list is public: the key proves nothing
    seen = server.requests[0].headers
    assert all(seen[name.lower()] == value for name, value in GATEWAY_SECRETS.items())  # sent as configured
    shown = "\n".join([render_table([result], verbose=True), json.dumps(render_json([result])), result.request_line()])
    for word in [*_secret_words(), FAKE_KEY]:
        assert word not in shown, word
    assert "Helicone-Auth: Bearer sk-test-…b1n6" in result.request_line()
    assert "X-Custom: Bearer sk-test-…o9p0" in result.request_line()
    for name, value in PLAIN.items():
        assert f"{name}: {value}" in result.request_line()


async def test_a_key_shaped_word_in_a_redirect_location_is_not_shown(upstream):
    other = "sk-test-other-Zq8Wm4Xk2Lp9Rt7Vn3Bc"
    server = upstream()
    server.get("/v1/models", redirect(f"http://127.0.0.1:9/v1/models?api_key={other}", 302))
    result = await probe(ProbeTarget("gw", server.url + "/v1", key_required=False))
    assert result.outcome is Outcome.REDIRECTED and "another origin" in result.summary
    assert other not in json.dumps(render_json([result]))
    assert "models?api_key=sk-test-…n3Bc" in result.summary


@pytest.mark.parametrize(("name", "value", "shown"), [
    ("Authorization", "Bearer sk-test-not-a-real-key-0001", "Bearer sk-test-…0001"),
    ("Helicone-Auth", "Bearer sk-test-helicone-7u3kq9x2m4v8b1n6", "Bearer sk-test-…b1n6"),
    ("X-Custom", "Bearer sk-test-live-q1w2e3r4t5y6u7i8o9p0", "Bearer sk-test-…o9p0"),
    ("X-Trace", "a=1; token=tok_Zx9Yw8Vu7Ts6Rq5Po4Nm3", "a=1; token=…4Nm3"),
    ("X-Title", "llmswitch", "llmswitch"),
    ("HTTP-Referer", "https://github.com/example/llmswitch", "https://github.com/example/llmswitch"),
])
def test_redact_header_by_name_and_by_value(name, value, shown):
    assert redact_header(name, value) == shown


def test_redact_secrets_leaves_ordinary_words_alone():
    text = "model llama-3.1-8b-instruct at https://host.example/v1 said: no credit"
    assert redact_secrets(text) == text


# -- short keys: the configured key is known exactly ---------------------------------------------


async def test_a_short_key_echoed_by_the_server_is_scrubbed(upstream):
    server = upstream()
    server.get("/v1/models", Reply.json({"error": {"message": "Authentication Error, Invalid proxy server token passed. "
                                                   "Received API Key = sk-1234, Key Hash (Token) =ab12. Unable to find "
                                                   "token in cache or `LiteLLM_VerificationTokenTable`",
                                                   "type": "auth_error", "code": "401"}}, status=401))
    result = await probe(ProbeTarget("litellm", server.url + "/v1", key="sk-1234"))
    assert result.outcome is Outcome.AUTH_REJECTED
    everything = json.dumps(render_json([result])) + render_table([result], verbose=True)
    assert "sk-1234" not in everything
    assert "Received API Key = …****" in (result.server_message or "")
    assert "LiteLLM_VerificationTokenTable" in (result.server_message or "")  # other text is not mangled


def test_a_short_key_is_replaced_only_where_it_stands_alone():
    assert scrub("key sk-1234 refused", "sk-1234") == "key …**** refused"
    assert scrub("sk-12345 is another key", "sk-1234") == "sk-12345 is another key"
    assert scrub("box: no model x in boxes", "x") == "box: no model …**** in boxes"
    assert scrub("a long sk-test-not-a-real-key-0001x glued", FAKE_KEY) == "a long sk-test-…0001x glued"


async def test_a_short_key_in_an_error_body_of_a_failed_chat_check_is_scrubbed(upstream):
    server = upstream()
    server.get("/v1/models", Reply.json(models_body(["m1"])))
    server.post("/v1/chat/completions", openai_error("model m1 is not allowed for key sk-1234", status=400))
    result = await probe(ProbeTarget("box", server.url + "/v1", key="sk-1234", model="m1"), deep=True)
    assert result.outcome is Outcome.CHAT_FAILED
    assert "sk-1234" not in json.dumps(render_json([result]))


async def test_a_short_key_that_is_also_a_word_of_ours_leaves_our_sentences_whole(upstream):
    server = upstream()
    server.get("/v1/models", openai_error("key ollama is not valid here", status=401))
    result = await probe(ProbeTarget("ollama", server.url + "/v1", key="ollama"))
    assert result.outcome is Outcome.AUTH_REJECTED
    assert result.provider == "ollama" and result.fix == "run: llmswitch key set ollama"
    assert result.server_message == "key …**** is not valid here"
