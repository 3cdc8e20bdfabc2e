"""Helpers for the relay's tests: a relay served in-process on 127.0.0.1, providers and selections on disk,
and fake upstreams that answer Anthropic Messages as the real API does."""

from __future__ import annotations

import json
import os
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from upstreams import Reply, Request, chat_completions, models_body, sse

TOKEN = "llmswitch-relay-test-token-000000000000000000"


@dataclass
class Running:
    url: str
    port: int
    token: str
    lines: list[str] = field(default_factory=list)
    relay: Any = None

    @property
    def v1(self) -> str:
        return self.url + "/v1"


class _Shared:
    """One uvicorn server on an ephemeral loopback port for the whole test process; each :func:`relay_running`
    puts a fresh :class:`Relay` (its own token, cooldowns, caches, pools and log) behind it. Starting and stopping
    a server per test cost ~0.25 s (uvicorn's shutdown waits in 0.1 s steps); the relay under test is the same."""

    def __init__(self) -> None:
        import asyncio

        import uvicorn

        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)  # asyncio sets TCP_NODELAY
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", 0))
        self.port: int = sock.getsockname()[1]
        self.relay: Any = None
        self.busy = 0
        """Requests the relay is still handling (the log line of an answer comes after its last byte)."""
        self.loop: asyncio.AbstractEventLoop | None = None
        server = uvicorn.Server(uvicorn.Config(self.app, log_level="warning", access_log=False, lifespan="on",
                                               server_header=False, http="h11", loop="asyncio", interface="asgi3"))
        threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True, name="relay-under-test").start()
        deadline = time.monotonic() + 10
        while not server.started:
            assert time.monotonic() < deadline, "the relay did not start"
            time.sleep(0.01)

    async def app(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        import asyncio

        if scope["type"] == "lifespan":
            self.loop = asyncio.get_running_loop()
            while (await receive())["type"] != "lifespan.shutdown":
                await send({"type": "lifespan.startup.complete"})
            await send({"type": "lifespan.shutdown.complete"})
            return
        relay = self.relay
        assert relay is not None, "a request reached the test relay outside relay_running()"
        self.busy += 1
        try:
            await relay(scope, receive, send)
        finally:
            self.busy -= 1


_SHARED: list[_Shared] = []


@contextmanager
def relay_running(token: str = TOKEN) -> Iterator[Running]:
    """The relay on a loopback port, in this process (so it sees the test keyring and the test's environment)."""
    import asyncio

    from llmswitch.relay.server import Relay

    if not _SHARED:
        _SHARED.append(_Shared())
    shared = _SHARED[0]
    assert shared.relay is None and shared.loop is not None, "one relay_running() at a time"
    running = Running(f"http://127.0.0.1:{shared.port}", shared.port, token)
    relay = Relay("127.0.0.1", shared.port, token, log=running.lines.append)
    running.relay = shared.relay = relay
    try:
        yield running
    finally:
        deadline = time.monotonic() + 10
        while shared.busy and time.monotonic() < deadline:  # as a server's graceful shutdown waits for its requests
            time.sleep(0.005)
        shared.relay = None
        asyncio.run_coroutine_threadsafe(relay.aclose(), shared.loop).result(timeout=10)


def write_config(config_dir: Path, text: str) -> None:
    config_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    path = config_dir / "config.toml"
    path.write_text(text)
    os.chmod(path, 0o600)


def provider_toml(pid: str, url: str, *, kind: str = "openai", key_env: str | None = None, preset: str | None = None,
                  timeout: float | None = None) -> str:
    lines = [f"[providers.{pid}]", f'base_url = "{url}"', f'kind = "{kind}"',
             f'key_source = "env:{key_env}"' if key_env else 'key_source = "none"']
    if preset:
        lines.append(f'preset = "{preset}"')
    if timeout:
        lines.append(f"timeout = {timeout}")
    return "\n".join(lines) + "\n\n"


def use(ref: str, role: str = "default") -> None:
    """What ``llmswitch use`` writes, done in-process."""
    from llmswitch.store import config, selection
    from llmswitch.store.refs import parse_ref, selection_for

    provider, model = parse_ref(ref, config.load())
    selection.write(selection_for(provider, model, role))


# --- an upstream that answers like the Anthropic Messages API ---------------------------------------------

def messages_reply(request: Request, text: str = "Hello from upstream") -> Reply:
    payload = request.json()
    model = payload.get("model")
    if payload.get("stream"):
        events = [
            ("message_start", {"type": "message_start", "message": {
                "id": "msg_fake", "type": "message", "role": "assistant", "model": model, "content": [],
                "stop_reason": None, "stop_sequence": None, "usage": {"input_tokens": 3, "output_tokens": 0}}}),
            ("content_block_start", {"type": "content_block_start", "index": 0,
                                     "content_block": {"type": "text", "text": ""}}),
            *[("content_block_delta", {"type": "content_block_delta", "index": 0,
                                       "delta": {"type": "text_delta", "text": word + " "}}) for word in text.split()],
            ("content_block_stop", {"type": "content_block_stop", "index": 0}),
            ("message_delta", {"type": "message_delta", "delta": {"stop_reason": "end_turn", "stop_sequence": None},
                               "usage": {"output_tokens": 4}}),
            ("message_stop", {"type": "message_stop"}),
        ]
        chunks = [f"event: {name}\ndata: {json.dumps(data)}\n\n".encode() for name, data in events]
        return Reply(200, b"", {"content-type": "text/event-stream"}, chunks=chunks)
    return Reply.json({"id": "msg_fake", "type": "message", "role": "assistant", "model": model,
                       "content": [{"type": "text", "text": text}], "stop_reason": "end_turn", "stop_sequence": None,
                       "usage": {"input_tokens": 3, "output_tokens": 4}})


def anthropic_like(server: Any, key: str) -> Any:
    """``/v1/messages`` and ``/v1/messages/count_tokens`` behind ``x-api-key``, as api.anthropic.com answers."""

    def guarded(answer: Any) -> Any:
        def handler(request: Request) -> Reply:
            if request.headers.get("x-api-key") != key:
                return Reply.json({"type": "error", "error": {"type": "authentication_error",
                                                              "message": "invalid x-api-key"}}, 401)
            return answer(request)
        return handler

    server.post("/v1/messages", guarded(messages_reply))
    server.post("/v1/messages/count_tokens", guarded(lambda r: Reply.json({"input_tokens": 7})))
    server.get("/v1/models", guarded(lambda r: Reply.json({"data": [{"id": "claude-test", "type": "model"}]})))
    return server


def openai_routes(server: Any, key: str | None = None, models: tuple[str, ...] = ("m1", "m2"),
                  text: str = "OK") -> Any:
    """Chat completions, completions, responses, embeddings and models under ``/v1``, Bearer ``key`` when given."""
    def auth(answer: Any) -> Any:
        def handler(request: Request) -> Reply:
            if key is not None and request.headers.get("authorization") != f"Bearer {key}":
                return Reply.json({"error": {"message": "Incorrect API key provided", "type": "invalid_request_error",
                                             "code": "invalid_api_key"}}, 401)
            return answer(request) if callable(answer) else answer
        return handler

    server.post("/v1/chat/completions", auth(chat_completions(text=text)))
    server.post("/v1/completions", auth(lambda r: Reply.json({"id": "cmpl-1", "object": "text_completion",
                                                              "model": r.json()["model"], "choices": [
                                                                  {"text": text, "index": 0, "finish_reason": "stop"}]})))
    server.post("/v1/responses", auth(lambda r: Reply.json({"id": "resp_1", "object": "response", "status": "completed",
                                                            "model": r.json()["model"], "output": [
                                                                {"type": "message", "id": "msg_1", "role": "assistant",
                                                                 "status": "completed", "content": [
                                                                     {"type": "output_text", "text": text,
                                                                      "annotations": []}]}]})))
    server.post("/v1/embeddings", auth(lambda r: Reply.json({"object": "list", "model": r.json()["model"], "data": [
        {"object": "embedding", "index": 0, "embedding": [0.1, 0.2, 0.3]}],
        "usage": {"prompt_tokens": 1, "total_tokens": 1}})))
    server.get("/v1/models", auth(Reply.json(models_body(models))))
    return server


def sse_lines(events: list[Any]) -> list[bytes]:
    return sse(events)
