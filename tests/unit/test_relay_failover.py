"""Failover only where declared: a role's ``[failover]`` chain carries a request past 429, 402, 5xx, a refused
connection or a hung upstream — before any byte reached the client — and never past 400/401/403/404,
never mid-stream, never for ``PROVIDER/MODEL`` or a role without a chain."""

from __future__ import annotations

import json
import socket

import httpx
import pytest
from relayhelp import TOKEN, openai_routes, provider_toml, relay_running, use, write_config

from upstreams import Reply, chat_chunks, sse

AUTH = {"authorization": f"Bearer {TOKEN}"}
ASK = {"model": "default", "messages": [{"role": "user", "content": "hi"}]}


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def chain(upstream, config_dir):
    """p1 (selected, 0.5 s timeout) → failover chain p2, p3; every one answers 200 until a test says otherwise."""
    servers = {name: openai_routes(upstream(), None, text=f"from {name}") for name in ("p1", "p2", "p3")}

    def configure(p1_url: str | None = None, chain_text: str = 'default = ["p2/m2", "p3/m3"]') -> None:
        write_config(config_dir, provider_toml("p1", p1_url or servers["p1"].url + "/v1", timeout=0.5)
                     + provider_toml("p2", servers["p2"].url + "/v1") + provider_toml("p3", servers["p3"].url + "/v1")
                     + f"[failover]\n{chain_text}\n")
        use("p1/m1")

    configure()
    servers["configure"] = configure
    return servers


def _chat(relay, body=ASK, **kw):
    return httpx.post(relay.v1 + "/chat/completions", headers=AUTH, json=body, timeout=30, **kw)


@pytest.mark.parametrize("failure", [
    Reply.json({"error": {"message": "rate limited"}}, 429, {"retry-after": "60"}),
    Reply.json({"error": {"message": "insufficient credits"}}, 402),
    Reply.json({"error": {"message": "boom"}}, 500),
    Reply.json({"error": {"message": "overloaded"}}, 503),
], ids=["429", "402", "500", "503"])
def test_a_declared_chain_carries_the_role_past_the_failure(chain, failure, run_cli):
    chain["p1"].post("/v1/chat/completions", failure)
    with relay_running() as relay:
        answer = _chat(relay)
    assert answer.status_code == 200 and answer.json()["choices"][0]["message"]["content"] == "from p2"
    assert answer.headers["x-llmswitch-served-by"] == "p2/m2"
    assert answer.headers["x-llmswitch-failover"] == f"p1/m1 (HTTP {failure.status})"
    assert chain["p2"].requests_to("/v1/chat/completions")[-1].json()["model"] == "m2"
    assert any("failover for role default: p1/m1 → p2/m2" in line for line in relay.lines)
    status = run_cli("relay", "status")
    assert f"default: p1/m1 → p2/m2 (HTTP {failure.status})" in status.stdout


def test_a_refused_connection_fails_over(chain):
    chain["configure"](p1_url=f"http://127.0.0.1:{_closed_port()}/v1")
    with relay_running() as relay:
        answer = _chat(relay)
    assert answer.headers["x-llmswitch-served-by"] == "p2/m2"
    assert "could not be reached" in answer.headers["x-llmswitch-failover"]


def test_a_hung_upstream_fails_over_after_its_timeout_when_streaming(chain):
    chain["p1"].post("/v1/chat/completions", Reply(hang=True))
    with relay_running() as relay:
        answer = _chat(relay, {**ASK, "stream": True})
    assert answer.status_code == 200 and answer.headers["x-llmswitch-served-by"] == "p2/m2"
    assert "no answer within 0.5 s" in answer.headers["x-llmswitch-failover"]
    assert "from p2" in answer.text.replace('"', "").replace(" ", " ") or "p2" in answer.text


@pytest.mark.parametrize("status", [400, 401, 403, 404])
def test_the_users_own_errors_never_fail_over(chain, status):
    chain["p1"].post("/v1/chat/completions", Reply.json({"error": {"message": f"said {status}"}}, status))
    with relay_running() as relay:
        answer = _chat(relay)
    assert answer.status_code == status and answer.json()["error"]["message"] == f"said {status}"
    assert answer.headers["x-llmswitch-served-by"] == "p1/m1" and "x-llmswitch-failover" not in answer.headers
    assert not chain["p2"].requests and not chain["p3"].requests


def test_a_role_without_a_chain_never_fails_over(chain):
    chain["configure"](chain_text='small = ["p2/m2"]')
    chain["p1"].post("/v1/chat/completions", Reply.json({"error": {"message": "rate limited"}}, 429))
    with relay_running() as relay:
        answer = _chat(relay)
    assert answer.status_code == 429 and answer.headers["x-llmswitch-served-by"] == "p1/m1"
    assert not chain["p2"].requests


def test_provider_slash_model_is_that_provider_exactly(chain):
    chain["p1"].post("/v1/chat/completions", Reply.json({"error": {"message": "rate limited"}}, 429))
    with relay_running() as relay:
        answer = _chat(relay, {**ASK, "model": "p1/m1"})
    assert answer.status_code == 429 and not chain["p2"].requests


def test_a_started_answer_is_never_failed_over_mid_stream(chain):
    cut = sse(chat_chunks("m1", "one two three"), done=False)[:2]  # two events, then the upstream hangs up
    chain["p1"].post("/v1/chat/completions", Reply(200, b"", {"content-type": "text/event-stream"}, chunks=cut))
    with relay_running() as relay:
        answer = _chat(relay, {**ASK, "stream": True})
    assert answer.status_code == 200 and answer.headers["x-llmswitch-served-by"] == "p1/m1"
    assert answer.content == b"".join(cut)
    assert not chain["p2"].requests


def test_a_cooldown_skips_a_chain_entry_but_the_selection_is_always_tried(chain):
    chain["p1"].post("/v1/chat/completions", Reply.json({"error": {"message": "rate limited"}}, 429,
                                                        {"retry-after": "120"}))
    chain["p2"].post("/v1/chat/completions", Reply.json({"error": {"message": "down"}}, 500))
    with relay_running() as relay:
        first = _chat(relay)
        second = _chat(relay)
    assert first.headers["x-llmswitch-served-by"] == "p3/m3"
    assert first.headers["x-llmswitch-failover"] == "p1/m1 (HTTP 429), p2/m2 (HTTP 500)"
    assert second.headers["x-llmswitch-served-by"] == "p3/m3"
    assert second.headers["x-llmswitch-failover"] == "p1/m1 (HTTP 429)"  # p2 cools down: skipped, not asked
    assert len(chain["p1"].requests_to("/v1/chat/completions")) == 2  # the selection: asked every time
    assert len(chain["p2"].requests_to("/v1/chat/completions")) == 1


def test_when_every_entry_fails_the_client_gets_the_last_answer(chain):
    for name in ("p1", "p2", "p3"):
        chain[name].post("/v1/chat/completions", Reply.json({"error": {"message": f"{name} busy"}}, 429))
    with relay_running() as relay:
        answer = _chat(relay)
    assert answer.status_code == 429 and answer.json()["error"]["message"] == "p3 busy"
    assert answer.headers["x-llmswitch-served-by"] == "p3/m3"


def test_a_chain_entry_in_config_is_checked_with_its_line(config_dir, run_cli):
    write_config(config_dir, provider_toml("p1", "http://127.0.0.1:9/v1")
                 + '[failover]\ndefault = ["p1/m", "nosuch/m"]\nsmall = "p1/m"\n')
    done = run_cli("config", "check")
    assert done.returncode != 0
    assert "config.toml:7: failover.default" in done.stdout and "nosuch" in done.stdout
    assert "config.toml:8: failover.small" in done.stdout


def test_status_as_json_lists_failovers(chain, run_cli):
    chain["p1"].post("/v1/chat/completions", Reply.json({"error": {"message": "rate limited"}}, 429))
    with relay_running() as relay:
        _chat(relay)
    data = json.loads(run_cli("relay", "status", "--json").stdout)
    assert data["running"] is False
    assert data["failovers"][-1] | {"at": None} == {"at": None, "role": "default", "source": "p1/m1",
                                                    "target": "p2/m2", "why": "HTTP 429"}


def test_retry_after_is_read_as_seconds_or_an_http_date_and_a_cooldown_is_capped():
    import time
    from email.utils import formatdate

    from llmswitch.relay.targets import MAX_COOLDOWN, Cooldowns, retry_after

    assert retry_after("120") == 120 and retry_after(None) is None and retry_after("soon") is None
    assert 25 < (retry_after(formatdate(time.time() + 30, usegmt=True)) or 0) <= 31
    cooling = Cooldowns()
    cooling.cool("p", 10**9)
    assert cooling.cooling("p") and not cooling.cooling("p", now=time.monotonic() + MAX_COOLDOWN + 1)
    cooling.cool("q", -5)
    assert not cooling.cooling("q", now=time.monotonic() + 0.01)
