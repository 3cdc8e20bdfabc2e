"""The probe's key verification starts alongside the keyed request, so checking a key adds no round trip.

A key was sent and ``/models`` listed: the same request without the key says whether the list
proves the key (tui/llmswitch/net/probe/verify.py). That keyless request now leaves with the
keyed one; when the keyed answer needs no verification it is cancelled, and nothing is left running.
"""

from __future__ import annotations

import asyncio
import threading
import time

from llmswitch.base.outcome import Outcome, ProbeTarget
from llmswitch.net.probe import probe
from upstreams import Reply, models_body

FAKE_KEY = "sk-test-not-a-real-key-0001"
DELAY = 0.5


def recording(server, keyed: Reply, keyless: Reply):
    """Route /v1/models by whether the key came; keep (which, arrival time) of each request."""
    arrivals: list[tuple[str, float]] = []
    lock = threading.Lock()

    def handler(request):
        which = "keyed" if request.headers.get("authorization") == f"Bearer {FAKE_KEY}" else "keyless"
        with lock:
            arrivals.append((which, time.monotonic()))
        return keyed if which == "keyed" else keyless

    server.get("/v1/models", handler)
    return arrivals


async def test_the_keyless_request_leaves_before_the_keyed_answer(upstream):
    server = upstream()
    arrivals = recording(server, Reply.json(models_body(["m1"]), delay=DELAY),
                         Reply.json({"error": {"message": "missing api key"}}, 401, delay=DELAY))
    result = await probe(ProbeTarget("acme", server.url + "/v1", key=FAKE_KEY, timeout=10))
    assert result.outcome is Outcome.OK and result.key_verified is True
    assert result.verified_by == "GET /models refuses requests without it"
    came = dict(arrivals)
    assert sorted(came) == ["keyed", "keyless"] and len(arrivals) == 2
    assert came["keyless"] < came["keyed"] + DELAY / 2  # it did not wait for the keyed answer


async def test_a_refused_key_leaves_nothing_running(upstream):
    server = upstream()
    recording(server, Reply.json({"error": {"message": "invalid api key"}}, 401), Reply(hang=True))
    result = await probe(ProbeTarget("acme", server.url + "/v1", key=FAKE_KEY, timeout=30))
    assert result.outcome is Outcome.AUTH_REJECTED
    assert [t for t in asyncio.all_tasks() if t is not asyncio.current_task()] == []


async def test_a_keyless_probe_sends_one_request(upstream):
    server = upstream()
    arrivals = recording(server, Reply.json(models_body(["m1"])), Reply.json(models_body(["m1"])))
    result = await probe(ProbeTarget("acme", server.url + "/v1", key_required=False, timeout=10))
    assert result.outcome is Outcome.KEYLESS and [which for which, _ in arrivals] == ["keyless"]
