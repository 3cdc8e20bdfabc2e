"""The probe's transport stays light: httpcore on asyncio streams, no httpx, trio, click or pygments in the process,
no TLS context for plain-HTTP servers; and what it reports is what httpx's client made it report."""

from __future__ import annotations

import asyncio
import json
import socket
import subprocess
import sys

import pytest

from llmswitch.net.probe import Outcome, ProbeTarget, probe
from upstreams import free_port

HEAVY = ("httpx", "trio", "click", "pygments", "urllib.request")


def _run(code: str) -> dict[str, object]:
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120)
    return dict(json.loads(done.stdout.splitlines()[-1]))


def test_a_probe_of_a_plain_http_server_loads_no_httpx_trio_click_or_tls_context():
    port = free_port()
    out = _run(f"""
import json, sys
from llmswitch.net.probe import ProbeTarget, probe_sync
from llmswitch.net import network
[result] = probe_sync([ProbeTarget(provider="box", base_url="http://127.0.0.1:{port}/v1", timeout=5.0)])
print(json.dumps({{"outcome": result.outcome.value, "loaded": sorted(m for m in {HEAVY!r} if m in sys.modules),
                  "tls": network._ssl_context.cache_info().currsize, "httpcore": "httpcore" in sys.modules}}))
""")
    assert out == {"outcome": "connection_refused", "loaded": [], "tls": 0, "httpcore": True}


def test_httpcore_still_runs_on_trio_after_the_probe_imported_it():
    pytest.importorskip("trio")
    out = _run("""
import json, sys
import llmswitch.net.network
assert "trio" not in sys.modules
import trio
from httpcore._synchronization import AsyncEvent, AsyncLock

async def main():
    lock, event = AsyncLock(), AsyncEvent()
    async with lock:
        event.set()
    await event.wait()
    return "ok"

print(json.dumps({"trio": trio.run(main)}))
""")
    assert out == {"trio": "ok"}


def test_a_host_whose_every_address_refuses_is_refused_not_a_connection_error(monkeypatch):
    port = free_port()
    loop_class = type(asyncio.new_event_loop())

    async def two_addresses(self, host, port_, **kw):  # a name with two addresses (as localhost has ::1 too)
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", port_)),
                (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.2", port_))]

    monkeypatch.setattr(loop_class, "getaddrinfo", two_addresses)
    result = asyncio.run(probe(ProbeTarget(provider="box", base_url=f"http://box.example:{port}/v1", timeout=5.0)))
    assert result.outcome is Outcome.CONNECTION_REFUSED, result.summary
    assert result.summary.startswith(f"no server on box.example:{port}")
