"""The relay's safety list as hostile requests: no token, a wrong one, a foreign Host (DNS rebinding), a web
page's Origin, CORS, oversized bodies, a compression bomb and a cross-origin redirect from the upstream, a
bind address beyond loopback; and nothing secret in the log or the state file."""

from __future__ import annotations

import os
import stat

import httpx
import pytest
from relayhelp import TOKEN, openai_routes, provider_toml, relay_running, use, write_config

from llmswitch.net.http import PIECE, SDK_DECODED_FLOOR
from upstreams import MIB, Reply, encoded, redirect, zeros_compressed

KEY = "sk-test-alpha-key-000000000001"
AUTH = {"authorization": f"Bearer {TOKEN}"}
ASK = {"model": "default", "messages": [{"role": "user", "content": "hi"}]}


@pytest.fixture
def alpha(upstream, config_dir, monkeypatch):
    server = openai_routes(upstream(), KEY)
    monkeypatch.setenv("ALPHA_KEY", KEY)
    write_config(config_dir, provider_toml("alpha", server.url + "/v1", key_env="ALPHA_KEY"))
    use("alpha/m1")
    return server


@pytest.mark.parametrize("headers", [{}, {"authorization": "Bearer wrong-token"}, {"x-api-key": "wrong-token"},
                                     {"authorization": TOKEN}, {"authorization": f"Basic {TOKEN}"}],
                         ids=["none", "wrong-bearer", "wrong-x-api-key", "no-scheme", "basic"])
def test_a_missing_or_wrong_token_gets_401_in_the_clients_protocol(alpha, headers):
    with relay_running() as relay:
        openai_answer = httpx.post(relay.v1 + "/chat/completions", headers=headers, json=ASK)
        anthropic_answer = httpx.post(relay.v1 + "/messages", headers=headers, json=ASK)
    assert openai_answer.status_code == anthropic_answer.status_code == 401
    assert "relay token is missing or wrong" in openai_answer.json()["error"]["message"]
    assert anthropic_answer.json()["type"] == "error"
    assert anthropic_answer.json()["error"]["type"] == "authentication_error"
    assert not alpha.requests


def test_the_token_works_in_x_api_key_too(alpha):
    with relay_running() as relay:
        answer = httpx.post(relay.v1 + "/chat/completions", headers={"x-api-key": TOKEN}, json=ASK)
    assert answer.status_code == 200
    assert alpha.requests[-1].headers["authorization"] == f"Bearer {KEY}" and "x-api-key" not in alpha.requests[-1].headers


@pytest.mark.parametrize("host", ["evil.example:80", "attacker.test", "127.0.0.1.nip.io", "127.0.0.1:1", ""])
def test_a_host_header_that_is_not_the_relays_address_is_refused(alpha, host):
    with relay_running() as relay:
        answer = httpx.post(relay.v1 + "/chat/completions", headers={**AUTH, "host": host}, json=ASK)
    assert answer.status_code == 403 and "DNS rebinding" in answer.json()["error"]["message"]
    assert not alpha.requests


def test_localhost_is_the_relays_address_too(alpha):
    with relay_running() as relay:
        answer = httpx.post(f"http://localhost:{relay.port}/v1/chat/completions", headers=AUTH, json=ASK)
    assert answer.status_code == 200


def test_a_web_pages_request_is_refused_and_no_cors_header_is_ever_sent(alpha):
    alpha.post("/v1/chat/completions", Reply.json({"ok": True}, headers={"access-control-allow-origin": "*",
                                                                         "set-cookie": "s=1"}))
    with relay_running() as relay:
        from_page = httpx.post(relay.v1 + "/chat/completions", headers={**AUTH, "origin": "https://evil.example"},
                               json=ASK)
        preflight = httpx.options(relay.v1 + "/chat/completions", headers={
            "origin": "https://evil.example", "access-control-request-method": "POST"})
        plain = httpx.post(relay.v1 + "/chat/completions", headers=AUTH, json=ASK)
    assert from_page.status_code == 403 and preflight.status_code == 403
    for answer in (from_page, preflight, plain):
        assert not [h for h in answer.headers if h.lower().startswith("access-control-")], answer.headers
    assert plain.status_code == 200 and "set-cookie" not in plain.headers
    assert len(alpha.requests) == 1


def test_a_body_over_the_cap_is_refused_before_anything_is_sent(alpha, monkeypatch):
    from llmswitch.relay import server

    monkeypatch.setattr(server, "MAX_BODY", 4096)
    big = {**ASK, "messages": [{"role": "user", "content": "x" * 10_000}]}

    def chunked():  # no Content-Length: the cap holds while reading
        yield b'{"model": "default", "messages": [{"role": "user", "content": "'
        for _ in range(10):
            yield b"x" * 1000
        yield b'"}]}'

    with relay_running() as relay:
        declared = httpx.post(relay.v1 + "/chat/completions", headers=AUTH, json=big)
        streamed = httpx.post(relay.v1 + "/chat/completions", headers=AUTH, content=chunked())
        fits = httpx.post(relay.v1 + "/chat/completions", headers=AUTH, json=ASK)
    assert declared.status_code == streamed.status_code == 413
    assert "larger than" in declared.json()["error"]["message"]
    assert fits.status_code == 200 and len(alpha.requests) == 1


def test_a_compression_bomb_from_the_upstream_is_cut_at_the_cap(alpha):
    alpha.post("/v1/chat/completions", encoded(zeros_compressed(256 * MIB), "gzip"))
    with relay_running() as relay, httpx.stream("POST", relay.v1 + "/chat/completions", headers=AUTH,
                                                json=ASK) as answer:
        received = sum(len(piece) for piece in answer.iter_raw())
    assert received <= SDK_DECODED_FLOOR + PIECE
    assert any("upstream answer cut (EncodingRefused)" in line for line in relay.lines), relay.lines


def test_a_redirect_to_another_origin_is_not_followed_and_the_key_stays_home(alpha, upstream):
    elsewhere = upstream()
    elsewhere.post("/v1/chat/completions", Reply.json({"stolen": True}))
    alpha.post("/v1/chat/completions", redirect(elsewhere.url + "/v1/chat/completions"))
    with relay_running() as relay:
        answer = httpx.post(relay.v1 + "/chat/completions", headers=AUTH, json=ASK)
    assert answer.status_code == 502 and "redirect" in answer.json()["error"]["message"].lower()
    assert not elsewhere.requests


def test_unknown_routes_and_methods_are_refused_in_shape(alpha):
    with relay_running() as relay:
        unknown = httpx.post(relay.v1 + "/images/generations", headers=AUTH, json=ASK)
        wrong_method = httpx.get(relay.v1 + "/chat/completions", headers=AUTH)
        not_json = httpx.post(relay.v1 + "/chat/completions", headers=AUTH, content=b"[1, 2]")
    assert unknown.status_code == 404 and "not a route the relay forwards" in unknown.json()["error"]["message"]
    assert wrong_method.status_code == 405
    assert not_json.status_code == 400 and "not a JSON object" in not_json.json()["error"]["message"]
    assert not alpha.requests


def test_the_log_and_the_state_file_hold_no_key_token_or_body(alpha, run_cli):
    alpha.post("/v1/chat/completions", Reply.json({"error": {"message": "busy"}}, 429))
    with relay_running() as relay:
        httpx.post(relay.v1 + "/chat/completions", headers=AUTH,
                   json={**ASK, "messages": [{"role": "user", "content": "secret-prompt-text"}]})
    text = "\n".join(relay.lines)
    state = (run_cli("config", "path").stdout, os.environ["LLMSWITCH_STATE_DIR"])[1]
    files = "".join(p.read_text(errors="replace") for p in __import__("pathlib").Path(state).glob("relay*.json"))
    for secret in (KEY, TOKEN, "secret-prompt-text"):
        assert secret not in text and secret not in files
    assert "alpha/m1 429" in text


def test_relay_token_prints_only_the_token_kept_in_a_private_file(run_cli):
    first, second = run_cli("relay", "token"), run_cli("relay", "token")
    assert first.returncode == 0 and first.stdout == second.stdout and first.stdout.count("\n") == 1
    token = first.stdout.strip()
    assert token.startswith("llmswitch-relay-") and len(token) > 40
    path = __import__("pathlib").Path(os.environ["LLMSWITCH_STATE_DIR"]) / "relay-token"
    assert path.read_text().strip() == token and stat.S_IMODE(path.stat().st_mode) == 0o600


@pytest.mark.parametrize("host", ["0.0.0.0", "192.168.1.10", "::", "example.com"])
def test_the_relay_refuses_to_listen_beyond_loopback(run_cli, host):
    done = run_cli("relay", "--host", host, timeout=20)
    assert done.returncode != 0 and "loopback only" in done.stderr and "Traceback" not in done.stderr
