"""Streaming through the relay: every piece passed on as it arrives (never buffered), 64 streams at once with
no error and no piece out of order, and a client that hangs up cancels the upstream request."""

from __future__ import annotations

import asyncio
import threading
import time

import httpx
from relayhelp import TOKEN, provider_toml, relay_running, use, write_config

from upstreams import Reply, Request

AUTH = {"authorization": f"Bearer {TOKEN}"}


class Paced:
    """SSE events ``data: {stream} {n}`` sent one by one, counting how many the upstream managed to write;
    ``stopped`` is set when the upstream stops writing (the end, or a write that failed)."""

    def __init__(self, stream: str, count: int) -> None:
        self.stream, self.count, self.sent = stream, count, 0
        self.stopped = threading.Event()

    def __iter__(self):
        try:
            for n in range(self.count):
                self.sent = n + 1
                yield f"data: {self.stream} {n}\n\n".encode()
        finally:
            self.stopped.set()


class Gated(Paced):
    """Each event after the first is made only once the test says the client has the one before."""

    def __init__(self, stream: str, count: int) -> None:
        super().__init__(stream, count)
        self.received = [threading.Event() for _ in range(count)]

    def __iter__(self):
        for n, piece in enumerate(super().__iter__()):
            if n and not self.received[n - 1].wait(10):
                return  # the client never got the piece before: it was held back somewhere
            yield piece


def _world(upstream, config_dir, handler):
    server = upstream()
    server._httpd.socket.listen(128)  # a real server's backlog: the stdlib's default of 5 resets a burst of 64
    server.post("/v1/chat/completions", handler)
    write_config(config_dir, provider_toml("alpha", server.url + "/v1"))
    use("alpha/m1")
    return server


def _sse(request: Request, count: int, delay: float) -> Reply:
    stream = request.json()["messages"][0]["content"]
    return Reply(200, b"", {"content-type": "text/event-stream"}, chunks=Paced(stream, count), chunk_delay=delay)


def test_64_concurrent_streams_arrive_whole_and_in_order(upstream, config_dir):
    _world(upstream, config_dir, lambda request: _sse(request, 40, 0.005))

    async def one(client: httpx.AsyncClient, url: str, n: int) -> str:
        body = {"model": "default", "stream": True, "messages": [{"role": "user", "content": f"s{n}"}]}
        async with client.stream("POST", url, headers=AUTH, json=body) as answer:
            assert answer.status_code == 200 and answer.headers["x-llmswitch-served-by"] == "alpha/m1", await answer.aread()
            return "".join([piece async for piece in answer.aiter_text()])

    async def many(url: str) -> list[str]:
        limits = httpx.Limits(max_connections=64)
        async with httpx.AsyncClient(timeout=60, limits=limits) as client:
            return await asyncio.gather(*(one(client, url, n) for n in range(64)))

    with relay_running() as relay:
        texts = asyncio.run(many(relay.v1 + "/chat/completions"))
    for n, text in enumerate(texts):
        assert text == "".join(f"data: s{n} {i}\n\n" for i in range(40)), n
    assert not [line for line in relay.lines if " 200 " not in line or "cut" in line or "hung up" in line]


def test_each_piece_reaches_the_client_before_the_next_is_made(upstream, config_dir):
    gated = Gated("slow", 3)
    _world(upstream, config_dir, lambda request: Reply(200, b"", {"content-type": "text/event-stream"}, chunks=gated))
    body = {"model": "default", "stream": True, "messages": [{"role": "user", "content": "slow"}]}
    with relay_running() as relay, httpx.stream("POST", relay.v1 + "/chat/completions", headers=AUTH,
                                                json=body, timeout=30) as answer:
        received = b""
        for piece in answer.iter_raw():
            received += piece
            for n in range(received.count(b"\n\n")):  # the upstream makes the next event only now
                gated.received[n].set()
    assert received == b"data: slow 0\n\ndata: slow 1\n\ndata: slow 2\n\n"  # none held back until the next


def test_a_client_that_hangs_up_cancels_the_upstream_request(upstream, config_dir):
    paced: list[Paced] = []

    def handler(request: Request) -> Reply:
        paced.append(Paced("long", 400))
        return Reply(200, b"", {"content-type": "text/event-stream"}, chunks=paced[-1], chunk_delay=0.02)

    _world(upstream, config_dir, handler)
    body = {"model": "default", "stream": True, "messages": [{"role": "user", "content": "x"}]}
    with relay_running() as relay:
        with httpx.stream("POST", relay.v1 + "/chat/completions", headers=AUTH, json=body, timeout=30) as answer:
            next(answer.iter_raw())
        # the relay notices, closes the upstream connection; the upstream's next write fails (400 events take 8 s)
        assert paced[0].stopped.wait(5) and paced[0].sent < 400, "the upstream kept streaming to nobody"
        deadline = time.monotonic() + 5
        while not any("client hung up" in line for line in relay.lines) and time.monotonic() < deadline:
            time.sleep(0.01)
    assert any("client hung up" in line for line in relay.lines), relay.lines


def test_a_client_that_hangs_up_before_the_answer_cancels_the_upstream_wait(upstream, config_dir):
    released = threading.Event()

    def handler(request: Request) -> Reply:
        return Reply.json({"ok": True}, delay=3.0)

    _world(upstream, config_dir, handler)
    body = {"model": "default", "messages": [{"role": "user", "content": "x"}]}
    with relay_running() as relay:
        try:
            httpx.post(relay.v1 + "/chat/completions", headers=AUTH, json=body, timeout=0.2)
        except httpx.TimeoutException:
            released.set()
        deadline = time.monotonic() + 2
        while not relay.lines and time.monotonic() < deadline:
            time.sleep(0.01)
    assert released.is_set()
    assert relay.lines and "499" in relay.lines[0] and "hung up" in relay.lines[0], relay.lines
