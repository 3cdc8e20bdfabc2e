"""The relay's upstream side (httpcore's pool on asyncio streams): connections kept for the next request, a
redirect within the provider's origin followed with the key, the environment's proxy used as httpx would, and a
switch made on disk reaching the very next request although routes are read from disk only when files change."""

from __future__ import annotations

import httpx
import pytest
from relayhelp import TOKEN, openai_routes, provider_toml, relay_running, use, write_config

from upstreams import Reply, redirect

KEY = "sk-test-upstream-key-00000000001"
AUTH = {"authorization": f"Bearer {TOKEN}"}
ASK = {"model": "default", "messages": [{"role": "user", "content": "hi"}]}


@pytest.fixture
def alpha(upstream, config_dir, monkeypatch):
    server = openai_routes(upstream(), KEY, text="from alpha")
    monkeypatch.setenv("ALPHA_KEY", KEY)
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY", "http_proxy", "https_proxy", "all_proxy",
                 "no_proxy"):
        monkeypatch.delenv(name, raising=False)
    write_config(config_dir, provider_toml("alpha", server.url + "/v1", key_env="ALPHA_KEY"))
    use("alpha/m1")
    return server


def _connections(relay) -> int:
    return sum(len(pool.connections) for pool in relay.relay._pools.values())


def test_one_upstream_connection_serves_request_after_request(alpha):
    with relay_running() as relay, httpx.Client(headers=AUTH) as client:
        answers = [client.post(relay.v1 + "/chat/completions", json=ASK) for _ in range(5)]
        kept = _connections(relay)
    assert [a.status_code for a in answers] == [200] * 5 and all("from alpha" in a.text for a in answers)
    assert kept == 1


def test_a_redirect_within_the_providers_origin_is_followed_with_the_key(alpha):
    alpha.post("/v1/chat/completions", redirect(alpha.url + "/v2/chat/completions"))
    alpha.post("/v2/chat/completions", lambda request: Reply.json({"moved": True, "auth": request.headers.get(
        "authorization"), "model": request.json()["model"]}))
    with relay_running() as relay:
        answer = httpx.post(relay.v1 + "/chat/completions", headers=AUTH, json=ASK)
    assert answer.status_code == 200 and answer.json() == {"moved": True, "auth": f"Bearer {KEY}", "model": "m1"}


def test_the_environments_proxy_carries_the_request(alpha, upstream, monkeypatch):
    proxy = upstream()
    proxy.post("*", Reply.json({"via": "proxy"}))
    monkeypatch.setenv("HTTP_PROXY", proxy.url)
    with relay_running() as relay:
        answer = httpx.post(relay.v1 + "/chat/completions", headers=AUTH, json=ASK, trust_env=False)
    assert answer.status_code == 200 and answer.json() == {"via": "proxy"}
    assert not alpha.requests and len(proxy.requests) == 1
    assert proxy.requests[0].headers["authorization"] == f"Bearer {KEY}"  # a forward proxy sees what http:// sends


def test_no_proxy_names_the_hosts_reached_directly(alpha, upstream, monkeypatch):
    proxy = upstream()
    proxy.post("*", Reply.json({"via": "proxy"}))
    monkeypatch.setenv("HTTP_PROXY", proxy.url)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    with relay_running() as relay:
        answer = httpx.post(relay.v1 + "/chat/completions", headers=AUTH, json=ASK, trust_env=False)
    assert answer.status_code == 200 and "from alpha" in answer.text and not proxy.requests


def test_each_switch_reaches_the_next_request(alpha, upstream, config_dir):
    beta = openai_routes(upstream(), None, text="from beta")
    write_config(config_dir, provider_toml("alpha", alpha.url + "/v1", key_env="ALPHA_KEY")
                 + provider_toml("beta", beta.url + "/v1"))
    served = []
    with relay_running() as relay, httpx.Client(headers=AUTH) as client:
        for ref in ("alpha/m1", "beta/b1", "alpha/m2", "beta/b2", "beta/b3", "alpha/m1"):
            use(ref)  # no pause: the next request must see it
            answer = client.post(relay.v1 + "/chat/completions", json=ASK)
            served.append(answer.headers["x-llmswitch-served-by"])
    assert served == ["alpha/m1", "beta/b1", "alpha/m2", "beta/b2", "beta/b3", "alpha/m1"]
