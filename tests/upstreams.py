"""Fake upstream servers for tests: real HTTP over TCP on 127.0.0.1, in-process.

Each ``FakeUpstream`` is a stdlib ``ThreadingHTTPServer`` on an ephemeral port,
served from a daemon thread. Routes map ``(METHOD, path)`` to a ``Reply`` or to
a function ``Request -> Reply``; every request is recorded with its headers so
a test can assert what was (or was never) sent::

    from upstreams import Reply, models_body

    def test_something(upstream):            # fixture, see tests/conftest.py
        server = upstream()                  # started now, stopped at teardown
        server.get("/v1/models", Reply.json(models_body(["m1", "m2"])))
        ...  # talk to server.url + "/v1/models"
        assert server.requests[-1].headers["authorization"] == "Bearer ..."

``server.flavour`` helpers (``openai_like``, ``openrouter_like``, ``ollama_like``,
``llamacpp_like``, ``vllm_like``, ``lmstudio_like``, ``litellm_like``, ``azure_like``) set a
server up to answer like the real product does, including its error bodies.
``chat_completions`` answers ``POST .../chat/completions`` with an OpenAI
streaming (SSE) answer or a plain JSON one, reporting a ``model`` field.
Hostile bodies: ``zeros_compressed`` (a gzip/deflate bomb of any decoded size),
``double_gzip_bomb`` (the 590-byte ``gzip, gzip`` kind) and ``encoded`` to serve them.

Unrouted paths answer 404 ``{"detail": "Not Found"}`` (what FastAPI/uvicorn
servers such as vLLM say). A handler that must never answer uses
``Reply(hang=True)``; it is released when the server stops, so a hung test
endpoint never outlives its test.
"""

from __future__ import annotations

import functools
import json
import socket
import struct
import sys
import threading
import time
import zlib
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

FAKE_KEY = "sk-test-not-a-real-key-0001"
"""A key-shaped string that is obviously not a real key."""
OTHER_KEY = "sk-test-wrong-key-0002"


# -- what a server receives and sends -------------------------------------------------


@dataclass(frozen=True)
class Request:
    """One request as the server saw it."""

    method: str
    path: str
    """Path without the query string."""
    query: str
    headers: Mapping[str, str]
    """Header names lower-cased; a repeated header keeps its last value."""
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body or b"null")


@dataclass
class Reply:
    """What a route answers."""

    status: int = 200
    body: bytes = b""
    headers: Mapping[str, str] = field(default_factory=dict)
    delay: float = 0.0
    """Seconds to wait before the status line (released early if the server stops)."""
    chunks: Sequence[bytes] | None = None
    """Stream these pieces instead of ``body``: no Content-Length, connection closes after."""
    chunk_delay: float = 0.0
    content_length: int | None = None
    """Announce this Content-Length instead of the real one (a lie truncates the answer)."""
    hang: bool = False
    """Never answer; the connection stays open until the server stops."""

    @classmethod
    def json(cls, data: Any, status: int = 200, headers: Mapping[str, str] | None = None, **kw: Any) -> Reply:
        return cls(status, json.dumps(data).encode(), {"content-type": "application/json", **(headers or {})}, **kw)

    @classmethod
    def text(cls, text: str, status: int = 200, content_type: str = "text/plain; charset=utf-8",
             headers: Mapping[str, str] | None = None, **kw: Any) -> Reply:
        return cls(status, text.encode(), {"content-type": content_type, **(headers or {})}, **kw)

    @classmethod
    def html(cls, html: str, status: int = 200, **kw: Any) -> Reply:
        return cls.text(html, status, "text/html; charset=utf-8", **kw)


Handler = Callable[[Request], Reply]


class FakeUpstream:
    """A real HTTP server on 127.0.0.1 with programmable routes and a request log."""

    def __init__(self, server_header: str | None = None) -> None:
        self.routes: dict[tuple[str, str], Reply | Handler] = {}
        self.requests: list[Request] = []
        self.server_header = server_header
        self.stopping = threading.Event()
        self._lock = threading.Lock()
        self._httpd = _Server(("127.0.0.1", 0), _RequestHandler)
        self._httpd.upstream = self
        self._thread: threading.Thread | None = None

    # -- addresses
    @property
    def port(self) -> int:
        return self._httpd.server_address[1]

    @property
    def url(self) -> str:
        """``http://127.0.0.1:PORT`` — no trailing slash."""
        return f"http://127.0.0.1:{self.port}"

    # -- life cycle
    def start(self) -> FakeUpstream:
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05},
                                        name=f"fake-upstream-{self.port}", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self.stopping.set()
        if self._thread is not None:
            self._httpd.shutdown()
            self._thread.join(timeout=5)
        self._httpd.server_close()

    def __enter__(self) -> FakeUpstream:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- routes
    def route(self, method: str, path: str, reply: Reply | Handler) -> FakeUpstream:
        """Answer ``method path`` (exact path, query ignored; ``"*"`` matches any path)."""
        self.routes[(method.upper(), path)] = reply
        return self

    def get(self, path: str, reply: Reply | Handler) -> FakeUpstream:
        return self.route("GET", path, reply)

    def post(self, path: str, reply: Reply | Handler) -> FakeUpstream:
        return self.route("POST", path, reply)

    # -- what arrived
    def wait_idle(self, timeout: float = 5.0) -> bool:
        """Until every connection made to the server so far has been handled to its end (none waiting to be
        accepted, none open): a request a client sent and then gave up on has been seen by then, or never will."""
        import select

        def idle() -> bool:
            pending, _, _ = select.select([self._httpd.socket], [], [], 0)
            return not pending and self._httpd.open_connections == 0
        return wait_until(idle, timeout)

    def requests_to(self, path: str) -> list[Request]:
        with self._lock:
            return [r for r in self.requests if r.path == path]

    def saw_header(self, name: str) -> bool:
        """Whether any request so far carried header ``name``."""
        with self._lock:
            return any(name.lower() in r.headers for r in self.requests)

    def _record(self, request: Request) -> None:
        with self._lock:
            self.requests.append(request)

    def _reply_for(self, request: Request) -> Reply:
        route = self.routes.get((request.method, request.path)) or self.routes.get((request.method, "*"))
        if route is None:
            return Reply.json({"detail": "Not Found"}, status=404)
        return route(request) if callable(route) else route


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    upstream: FakeUpstream
    open_connections = 0
    """Accepted and not yet closed (:meth:`FakeUpstream.wait_idle`)."""
    _count = threading.Lock()

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._count:
            self.open_connections += 1
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        try:
            super().shutdown_request(request)
        finally:
            with self._count:
                self.open_connections -= 1

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that hangs up mid-answer (as the probe does past its cap) is not an error."""
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


class _RequestHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    """TCP_NODELAY, as real servers (uvicorn, nginx, Go's net/http) set it: without it a second answer on a
    kept-alive connection waits ~40 ms for the client's delayed ACK, a delay no real upstream has."""
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        pass

    def _dispatch(self) -> None:
        upstream = self.server.upstream
        path, _, query = self.path.partition("?")
        length = int(self.headers.get("content-length") or 0)
        body = self.rfile.read(length) if length else b""
        request = Request(self.command, path, query, {k.lower(): v for k, v in self.headers.items()}, body)
        upstream._record(request)
        reply = upstream._reply_for(request)
        try:
            self._send(reply, upstream)
        except (BrokenPipeError, ConnectionResetError, ConnectionAbortedError):
            self.close_connection = True

    def _send(self, reply: Reply, upstream: FakeUpstream) -> None:
        if reply.hang:
            upstream.stopping.wait(120)
            self.close_connection = True
            return
        if reply.delay and upstream.stopping.wait(reply.delay):
            self.close_connection = True
            return
        self.send_response_only(reply.status)
        names = {k.lower() for k in reply.headers}
        if upstream.server_header and "server" not in names:
            self.send_header("Server", upstream.server_header)
        for name, value in reply.headers.items():
            self.send_header(name, value)
        if reply.chunks is not None:
            self.send_header("Connection", "close")
            self.end_headers()
            for chunk in reply.chunks:
                self.wfile.write(chunk)
                self.wfile.flush()
                if reply.chunk_delay and upstream.stopping.wait(reply.chunk_delay):
                    break
            self.close_connection = True
            return
        length = len(reply.body) if reply.content_length is None else reply.content_length
        self.send_header("Content-Length", str(length))
        if reply.content_length is not None:
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        self.wfile.write(reply.body)
        self.wfile.flush()

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = do_OPTIONS = _dispatch


def without_fingerprint(requests: Iterable[Request]) -> list[Request]:
    """The requests other than the probe's protocol fingerprint (``llmswitch.net.probe.protocols``: an empty
    JSON object POSTed to each route, ``GET /v1beta/models``), which a first probe of a URL also sends."""
    return [r for r in requests if not (r.method == "POST" and r.body == b"{}") and not r.path.endswith("/v1beta/models")]


# -- building blocks for handlers -----------------------------------------------------


def models_body(ids: Iterable[str], owned_by: str = "openai", **extra: Any) -> dict[str, Any]:
    """An OpenAI ``GET /models`` answer."""
    return {"object": "list",
            "data": [{"id": i, "object": "model", "created": 1700000000, "owned_by": owned_by, **extra} for i in ids]}


def openai_error(message: str, status: int = 401, type: str = "invalid_request_error",  # noqa: A002
                 code: str | None = None, headers: Mapping[str, str] | None = None) -> Reply:
    """An error in OpenAI's format: ``{"error": {"message", "type", "param", "code"}}``."""
    return Reply.json({"error": {"message": message, "type": type, "param": None, "code": code}}, status, headers)


def incorrect_key_error(sent: str) -> Reply:
    """OpenAI's answer to a wrong key (it masks the middle of what was sent)."""
    masked = sent[:3] + "*" * 6 + sent[-4:] if len(sent) > 8 else sent
    return openai_error(f"Incorrect API key provided: {masked}. You can find your API key at "
                        "https://platform.openai.com/account/api-keys.", code="invalid_api_key")


MISSING_KEY_ERROR = ("You didn't provide an API key. You need to provide your API key in an Authorization "
                     "header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).")


def sequence(*replies: Reply | Handler) -> Handler:
    """Answer with each reply in turn; the last one repeats."""
    lock = threading.Lock()
    state = {"n": 0}

    def handler(request: Request) -> Reply:
        with lock:
            index = min(state["n"], len(replies) - 1)
            state["n"] += 1
        reply = replies[index]
        return reply(request) if callable(reply) else reply

    return handler


def bearer(key: str, ok: Reply | Handler, *, missing: Reply | None = None,
           invalid: Reply | Handler | None = None) -> Handler:
    """Require ``Authorization: Bearer KEY`` before answering ``ok``."""

    def handler(request: Request) -> Reply:
        auth = request.headers.get("authorization")
        if not auth:
            return missing or openai_error(MISSING_KEY_ERROR)
        sent = auth.removeprefix("Bearer ").strip()
        if sent != key:
            if invalid is None:
                return incorrect_key_error(sent)
            return invalid(request) if callable(invalid) else invalid
        return ok(request) if callable(ok) else ok

    return handler


def echo_headers(request: Request) -> Reply:
    """Answer with the request's headers as JSON (``{"headers": {...}}``)."""
    return Reply.json({"headers": dict(request.headers), "path": request.path})


def redirect(location: str, status: int = 307) -> Reply:
    return Reply(status, b"", {"location": location, "content-length": "0"})


# -- hostile bodies: compression bombs ---------------------------------------------------

MIB = 1 << 20
_ZERO_MIB = bytes(MIB)
_WBITS = {"gzip": 31, "deflate": 15, "raw-deflate": -15}


@functools.cache
def zeros_compressed(size: int, encoding: str = "gzip") -> bytes:
    """``size`` zero bytes (rounded to whole MiB, at least 2) as ``gzip``, ``deflate`` (zlib) or ``raw-deflate``.

    A valid stream built fast: after a full flush every MiB of zeros compresses to the same
    ~1 KB, so that block is repeated and the checksum written by hand. 1 GiB → ~1 MB.
    """
    blocks = max(size // MIB, 2)
    c = zlib.compressobj(9, zlib.DEFLATED, _WBITS[encoding])
    head = c.compress(_ZERO_MIB) + c.flush(zlib.Z_FULL_FLUSH)
    block = c.compress(_ZERO_MIB) + c.flush(zlib.Z_FULL_FLUSH)
    tail = c.flush()
    final = tail[: len(tail) - {"gzip": 8, "deflate": 4, "raw-deflate": 0}[encoding]]
    if encoding == "gzip":
        crc = 0
        for _ in range(blocks):
            crc = zlib.crc32(_ZERO_MIB, crc)
        final += struct.pack("<II", crc, (blocks * MIB) & 0xFFFFFFFF)
    elif encoding == "deflate":
        adler = 1
        for _ in range(blocks):
            adler = zlib.adler32(_ZERO_MIB, adler)
        final += struct.pack(">I", adler)
    return head + block * (blocks - 1) + final


def compressed(data: bytes, encoding: str = "gzip") -> bytes:
    """``data`` compressed once as ``gzip``, ``deflate`` (zlib) or ``raw-deflate``."""
    c = zlib.compressobj(9, zlib.DEFLATED, _WBITS[encoding])
    return c.compress(data) + c.flush()


@functools.cache
def double_gzip_bomb(size: int) -> bytes:
    """``size`` zeros gzipped twice: 256 MiB → 590 bytes, 1 GiB → 1,827 bytes (send with ``gzip, gzip``).

    The inner layer is compressed the ordinary way (slow: ~3 s per GiB, hence the cache),
    which is what makes it regular enough for the outer one to shrink it ~500-fold.
    """
    c = zlib.compressobj(9, zlib.DEFLATED, 31)
    inner = b"".join(c.compress(_ZERO_MIB) for _ in range(size // MIB)) + c.flush()
    return compressed(inner, "gzip")


def encoded(body: bytes, content_encoding: str, content_type: str = "application/json", status: int = 200) -> Reply:
    """An answer whose body is sent as is, declared as ``content_encoding``."""
    return Reply(status, body, {"content-type": content_type, "content-encoding": content_encoding})


def sse(events: Iterable[Any], done: bool = True) -> list[bytes]:
    """Server-sent events: ``data: <json>\\n\\n`` for each, then ``data: [DONE]``."""
    out = [f"data: {json.dumps(e)}\n\n".encode() for e in events]
    if done:
        out.append(b"data: [DONE]\n\n")
    return out


def chat_chunks(model: str, text: str = "OK", *, completion_id: str = "chatcmpl-fake-1") -> list[dict[str, Any]]:
    """OpenAI ``chat.completion.chunk`` objects: a role chunk, one per word, a finish chunk."""
    base = {"id": completion_id, "object": "chat.completion.chunk", "created": 1700000000, "model": model}
    chunks = [{**base, "choices": [{"index": 0, "delta": {"role": "assistant", "content": ""}, "finish_reason": None}]}]
    words = text.split(" ")
    for i, word in enumerate(words):
        piece = word if i == 0 else " " + word
        chunks.append({**base, "choices": [{"index": 0, "delta": {"content": piece}, "finish_reason": None}]})
    chunks.append({**base, "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]})
    return chunks


def chat_completions(*, reported_model: str | None = None, text: str = "OK", chunk_delay: float = 0.0,
                     first_token_delay: float = 0.0, key: str | None = None,
                     reply: Callable[[list[dict[str, Any]]], str] | None = None) -> Handler:
    """``POST /chat/completions``: SSE when ``stream`` is true, else one JSON completion.

    ``reported_model`` is what the answer says in its ``model`` field (default:
    the model asked for). ``reply(messages) -> str`` computes the text from the
    conversation (default: ``text``). With ``key``, Bearer auth is required.
    """

    def handler(request: Request) -> Reply:
        try:
            payload = request.json()
        except ValueError:
            return openai_error("We could not parse the JSON body of your request.", 400)
        if not isinstance(payload, dict) or "model" not in payload or "messages" not in payload:
            return openai_error("you must provide a model parameter and messages", 400)
        model = reported_model or payload["model"]
        answer = reply(payload["messages"]) if reply else text
        if payload.get("stream"):
            chunks = sse(chat_chunks(model, answer))
            return Reply(200, b"", {"content-type": "text/event-stream", "cache-control": "no-cache"},
                         chunks=chunks, chunk_delay=chunk_delay, delay=first_token_delay)
        body = {"id": "chatcmpl-fake-1", "object": "chat.completion", "created": 1700000000, "model": model,
                "choices": [{"index": 0, "message": {"role": "assistant", "content": answer}, "finish_reason": "stop"}],
                "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2}}
        return Reply.json(body, delay=first_token_delay)

    return bearer(key, handler) if key else handler


# -- servers that answer like real products -------------------------------------------


def openai_like(server: FakeUpstream, key: str = FAKE_KEY, models: Sequence[str] = ("gpt-4o", "gpt-4o-mini"),
                prefix: str = "/v1") -> FakeUpstream:
    """api.openai.com: Bearer auth everywhere, OpenAI error bodies, ``openai-*`` headers."""
    headers = {"openai-version": "2020-10-01", "openai-processing-ms": "12"}
    server.get(f"{prefix}/models", bearer(key, Reply.json(models_body(models, "system"), headers=headers)))
    server.post(f"{prefix}/chat/completions", chat_completions(key=key))
    return server


def openrouter_like(server: FakeUpstream, key: str = FAKE_KEY,
                    models: Sequence[str] = ("openai/gpt-4o", "anthropic/claude-sonnet-4")) -> FakeUpstream:
    """openrouter.ai/api/v1: ``/models`` is public; ``/key`` tells whether the key is good."""
    data = {"data": [{"id": m, "canonical_slug": m, "name": m, "context_length": 128000,
                      "pricing": {"prompt": "0.000001", "completion": "0.000002"}} for m in models]}
    server.get("/api/v1/models", Reply.json(data))
    server.get("/api/v1/key", bearer(
        key, Reply.json({"data": {"label": "sk-or-v1-abc…", "limit": None, "usage": 0, "is_free_tier": False}}),
        missing=Reply.json({"error": {"message": "No auth credentials found", "code": 401}}, 401),
        invalid=Reply.json({"error": {"message": "User not found.", "code": 401}}, 401)))
    server.post("/api/v1/chat/completions", chat_completions(key=key))
    return server


def ollama_like(server: FakeUpstream, models: Sequence[str] = ("llama3.2:latest", "qwen2.5:0.5b")) -> FakeUpstream:
    """Ollama: keyless, ``owned_by: library``, plain-text 404s, ``/`` says it is running."""
    server.get("/v1/models", Reply.json({"object": "list", "data": [
        {"id": m, "object": "model", "created": 1700000000, "owned_by": "library"} for m in models]}))
    server.get("/api/tags", Reply.json({"models": [{"name": m, "model": m} for m in models]}))
    server.get("/", Reply.text("Ollama is running"))
    server.get("*", Reply.text("404 page not found", 404))
    server.post("/v1/chat/completions", chat_completions())
    return server


def llamacpp_like(server: FakeUpstream, models: Sequence[str] = ("tiny.gguf",)) -> FakeUpstream:
    """llama.cpp's llama-server: ``/models`` and ``/v1/models``, ``owned_by: llamacpp``."""
    body = Reply.json({"object": "list", "data": [
        {"id": m, "object": "model", "created": 1700000000, "owned_by": "llamacpp",
         "meta": {"n_ctx_train": 2048}} for m in models]}, headers={"server": "llama.cpp"})
    server.get("/v1/models", body).get("/models", body)
    server.post("/v1/chat/completions", chat_completions())
    return server


def vllm_like(server: FakeUpstream, models: Sequence[str] = ("Qwen/Qwen2.5-0.5B-Instruct",),
              key: str | None = None) -> FakeUpstream:
    """vLLM's OpenAI server: ``owned_by: vllm`` with ``max_model_len``; ``--api-key`` gives bare 401s."""
    ok = Reply.json({"object": "list", "data": [
        {"id": m, "object": "model", "created": 1700000000, "owned_by": "vllm", "root": m, "parent": None,
         "max_model_len": 32768} for m in models]}, headers={"server": "uvicorn"})
    unauthorized = Reply.json({"error": "Unauthorized"}, 401, headers={"server": "uvicorn"})
    server.get("/v1/models", bearer(key, ok, missing=unauthorized, invalid=unauthorized) if key else ok)
    server.post("/v1/chat/completions", chat_completions(key=key))
    return server


def lmstudio_like(server: FakeUpstream, models: Sequence[str] = ("qwen2.5-7b-instruct",)) -> FakeUpstream:
    """LM Studio: ``owned_by: organization_owner``; unknown paths answer 200 with an error."""
    server.get("/v1/models", Reply.json({"object": "list", "data": [
        {"id": m, "object": "model", "owned_by": "organization_owner"} for m in models]}))

    def unexpected(request: Request) -> Reply:
        return Reply.json({"error": f"Unexpected endpoint or method. ({request.method} {request.path})"})

    server.get("*", unexpected)
    server.post("/v1/chat/completions", chat_completions())
    return server


def litellm_like(server: FakeUpstream, master_key: str = FAKE_KEY,
                 models: Sequence[str] = ("gpt-4o-mini", "claude-haiku")) -> FakeUpstream:
    """LiteLLM proxy without a database: a wrong key gets 400 "No connected db." (as LiteLLM 1.106 does)."""
    headers = {"x-litellm-version": "1.50.0", "server": "uvicorn"}
    ok = Reply.json(models_body(models, "openai"), headers=headers)
    no_db = Reply.json({"error": {"message": "No connected db.", "type": "no_db_connection",
                                  "param": None, "code": "400"}}, 400, headers)
    missing = Reply.json({"error": {"message": "Authentication Error, No api key passed in.", "type": "auth_error",
                                    "param": "None", "code": "401"}}, 401, headers)
    handler = bearer(master_key, ok, missing=missing, invalid=no_db)
    server.get("/v1/models", handler).get("/models", handler)
    server.post("/v1/chat/completions", chat_completions(key=master_key))
    return server


AZURE_GA_VERSIONS = ("2024-06-01", "2024-10-21")
AZURE_MISSING_KEY = ("Access denied due to missing subscription key. Make sure to include subscription key when "
                     "making requests to an API.")
AZURE_INVALID_KEY = ("Access denied due to invalid subscription key or wrong API endpoint. Make sure to provide a "
                     "valid key for an active subscription and use a correct regional API endpoint for your resource.")
AZURE_NO_DEPLOYMENT = ("The API deployment for this resource does not exist. If you created the deployment within the "
                       "last 5 minutes, please wait a moment and try again.")


def _azure_error(code: str, message: str, status: int) -> Reply:
    """Azure OpenAI's error body: ``{"error": {"code": "...", "message": "..."}}`` (code is a string)."""
    return Reply.json({"error": {"code": code, "message": message}}, status, {"apim-request-id": "fake-1"})


def azure_like(server: FakeUpstream, key: str = FAKE_KEY, deployments: Mapping[str, str] | None = None,
               base_models: Sequence[str] = ("gpt-4o-2024-08-06", "gpt-4o-mini-2024-07-18"),
               versions: Sequence[str] = AZURE_GA_VERSIONS, v1: bool = True) -> FakeUpstream:
    """An Azure OpenAI resource at ``server.url`` (the endpoint), both documented API shapes.

    * dated: ``GET /openai/models?api-version=V`` and
      ``POST /openai/deployments/{deployment}/chat/completions?api-version=V``; without an
      ``api-version`` Azure answers 404 "Resource not found", with an unknown one 400
      "API version not supported";
    * v1 (unless ``v1=False``): ``GET /openai/v1/models`` and ``POST /openai/v1/chat/completions``
      (the deployment in ``model``), no ``api-version`` needed.

    The key goes in ``api-key`` (the v1 API also takes it as ``Authorization: Bearer``, as the
    OpenAI SDK sends it). The model list names base models, not deployments
    (``deployments`` maps deployment name → base model; default ``{"chat": "gpt-4o-2024-08-06"}``).
    """
    deployed = dict(deployments or {"chat": "gpt-4o-2024-08-06"})
    listing = Reply.json({"object": "list", "data": [
        {"id": m, "object": "model", "created_at": 1723075200, "status": "succeeded", "lifecycle_status":
         "generally-available", "capabilities": {"chat_completion": True, "completion": False}} for m in base_models]})
    chat = chat_completions()

    def authorised(request: Request, allow_bearer: bool) -> Reply | None:
        sent = request.headers.get("api-key")
        if sent is None and allow_bearer and request.headers.get("authorization", "").startswith("Bearer "):
            sent = request.headers["authorization"].removeprefix("Bearer ").strip()
        if sent is None:
            return _azure_error("401", AZURE_MISSING_KEY, 401)
        return None if sent == key else _azure_error("401", AZURE_INVALID_KEY, 401)

    def chat_for(request: Request, deployment: str | None) -> Reply:
        if deployment not in deployed:
            return _azure_error("DeploymentNotFound", AZURE_NO_DEPLOYMENT, 404)
        return chat(request)

    def handler(request: Request) -> Reply:
        path = request.path
        if v1 and path.startswith("/openai/v1/"):
            refused = authorised(request, allow_bearer=True)
            if path == "/openai/v1/models" and request.method == "GET":
                return refused or listing
            if path == "/openai/v1/chat/completions" and request.method == "POST":
                try:
                    model = request.json().get("model")
                except (ValueError, AttributeError):
                    model = None
                return refused or chat_for(request, model)
            return _azure_error("404", "Resource not found", 404)
        version = next((v for k, _, v in (p.partition("=") for p in request.query.split("&")) if k == "api-version"),
                       None)
        parts = path.split("/")
        known = (request.method == "GET" and path == "/openai/models") or (
            request.method == "POST" and len(parts) == 6 and parts[:3] == ["", "openai", "deployments"]
            and parts[4:] == ["chat", "completions"])
        if not known or version is None:
            return _azure_error("404", "Resource not found", 404)
        if version not in versions:
            return _azure_error("BadRequest", "API version not supported", 400)
        refused = authorised(request, allow_bearer=False)
        if refused is not None:
            return refused
        return listing if path == "/openai/models" else chat_for(request, parts[3])

    server.get("*", handler).post("*", handler)
    return server


def litellm_model_info(alias: str, upstream: str, **model_info: Any) -> dict[str, Any]:
    """One entry of a LiteLLM proxy's ``/model/info`` ``data`` list, shaped as 1.106 answers it.

    ``model_info`` keys are LiteLLM's (``max_input_tokens``, ``input_cost_per_token``, ``mode``,
    ``supports_vision``…); every other cost and limit field is present and null, as on the real proxy.
    ``litellm_params`` carries the deployment's ``api_key``, which the proxy shows to a master key.
    """
    info: dict[str, Any] = {"id": f"{alias}-deployment-id", "db_model": False, "key": upstream,
                            "max_tokens": None, "max_input_tokens": None, "max_output_tokens": None,
                            "input_cost_per_token": None, "output_cost_per_token": None,
                            "litellm_provider": upstream.partition("/")[0], "mode": None,
                            "supports_vision": None, "supports_function_calling": None, "supports_reasoning": None,
                            "supported_openai_params": ["temperature", "tools"]}
    info.update(model_info)
    return {"model_name": alias, "litellm_params": {"model": upstream, "api_key": "sk-test-upstream-deployment-key",
                                                    "use_in_pass_through": False},
            "model_info": info}


def litellm_gateway_like(server: FakeUpstream, master_key: str = FAKE_KEY,
                         entries: Sequence[dict[str, Any]] = (), key_info: dict[str, Any] | None = None) -> FakeUpstream:
    """:func:`litellm_like` plus ``/model/info`` (also under ``/v1``) and ``/key/info``.

    ``entries`` are :func:`litellm_model_info` dicts. Without ``key_info`` the proxy has no
    database: ``/key/info`` answers 500 "Internal Server Error" in plain text, as LiteLLM 1.106.2
    does (it fails importing prisma); with it, ``{"key": …, "info": key_info}`` as its
    ``info_key_fn`` returns.
    """
    litellm_like(server, master_key, [e["model_name"] for e in entries])
    headers = {"x-litellm-version": "1.106.2"}
    missing = Reply.json({"error": {"message": "Authentication Error, No api key passed in.", "type": "auth_error",
                                    "param": "None", "code": "401"}}, 401, headers)
    info = bearer(master_key, Reply.json({"data": list(entries)}, headers=headers), missing=missing,
                  invalid=Reply.json({"error": {"message": "No connected db.", "type": "no_db_connection",
                                                "param": None, "code": "400"}}, 400, headers))
    server.get("/model/info", info).get("/v1/model/info", info)
    key_reply = (Reply.text("Internal Server Error", 500) if key_info is None
                 else Reply.json({"key": "hashed-token-0001", "info": key_info}, headers=headers))
    server.get("/key/info", bearer(master_key, key_reply, missing=missing))
    return server


def openrouter_full_like(server: FakeUpstream, key: str = FAKE_KEY, models: Sequence[dict[str, Any]] = (),
                         key_data: dict[str, Any] | None = None) -> FakeUpstream:
    """:func:`openrouter_like` with ``/models`` entries as OpenRouter documents them and a ``/key`` body.

    ``models`` items: ``id``, ``context_length``, ``prompt``/``completion`` (USD per token, sent as
    strings), ``parameters`` (``supported_parameters``), ``inputs`` (``input_modalities``).
    ``key_data`` is ``GET /api/v1/key``'s ``data`` (``limit``, ``limit_remaining``, ``usage``, …).
    """
    openrouter_like(server, key, [m["id"] for m in models])
    data = {"data": [{"id": m["id"], "canonical_slug": m["id"], "name": m.get("name", m["id"]), "created": 1700000000,
                      "context_length": m.get("context_length"),
                      "architecture": {"modality": "text->text", "input_modalities": m.get("inputs", ["text"]),
                                       "output_modalities": ["text"], "tokenizer": "Other"},
                      "pricing": {"prompt": m.get("prompt", "0"), "completion": m.get("completion", "0"),
                                  "request": "0", "image": "0"},
                      "top_provider": {"context_length": m.get("context_length"),
                                       "max_completion_tokens": m.get("max_completion_tokens"), "is_moderated": False},
                      "supported_parameters": m.get("parameters", ["max_tokens", "temperature"])} for m in models]}
    server.get("/api/v1/models", Reply.json(data))
    body = {"label": "sk-or-v1-abc…", "limit": None, "limit_remaining": None, "limit_reset": None, "usage": 0,
            "usage_daily": 0, "usage_weekly": 0, "usage_monthly": 0, "is_free_tier": False, **(key_data or {})}
    server.get("/api/v1/key", bearer(
        key, Reply.json({"data": body}),
        missing=Reply.json({"error": {"message": "No auth credentials found", "code": 401}}, 401),
        invalid=Reply.json({"error": {"message": "User not found.", "code": 401}}, 401)))
    return server


# -- helpers and fixtures -----------------------------------------------------------------


def tls_upstream(directory: Any) -> tuple[FakeUpstream, str]:
    """A started :class:`FakeUpstream` speaking https with a certificate for 127.0.0.1 from a throw-away CA,
    and the CA's PEM file in ``directory`` (give it as ``SSL_CERT_FILE``). The caller stops the server."""
    import ssl

    import trustme

    ca = trustme.CA()
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ca.issue_cert("127.0.0.1").configure_cert(context)
    server = FakeUpstream()
    server._httpd.socket = context.wrap_socket(server._httpd.socket, server_side=True)
    server.start()
    ca_file = f"{directory}/ca.pem"
    ca.cert_pem.write_to_path(ca_file)
    return server, ca_file


_HELD: list[socket.socket] = []


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on, for as long as the test runs.

    The port stays bound by a socket that never listens, so a connection to it is refused and no other test
    (another worker's server, bound to port 0) can be given it meanwhile; :func:`release_ports` (after each
    test, ``tests/conftest.py``) lets it go.
    """
    held = socket.socket()
    held.bind(("127.0.0.1", 0))
    _HELD.append(held)
    return int(held.getsockname()[1])


def release_ports() -> None:
    """Close the sockets that hold the ports :func:`free_port` gave out."""
    while _HELD:
        _HELD.pop().close()


@pytest.fixture
def upstream() -> Iterator[Callable[..., FakeUpstream]]:
    """A factory of started fake servers: ``server = upstream()``; all stop at teardown."""
    servers: list[FakeUpstream] = []

    def make(**kwargs: Any) -> FakeUpstream:
        server = FakeUpstream(**kwargs).start()
        servers.append(server)
        return server

    yield make
    for server in servers:
        server.stop()


def wait_until(predicate: Callable[[], bool], timeout: float = 5.0) -> bool:
    """Poll ``predicate`` until it holds or ``timeout`` passes (for threads in tests)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.01)
    return predicate()
