"""The relay itself: a plain ASGI app on uvicorn that forwards each request, httpcore upstream.

Per request: the ``Host`` must be the relay's own loopback address, no ``Origin`` (web pages are
not relayed), the relay token in ``Authorization: Bearer`` or ``x-api-key``, a known route, a body
under :data:`MAX_BODY`. Then its ``model`` is resolved (:mod:`.targets`), the provider's key is
resolved from llmswitch's key sources and sent only to that provider, and the answer is passed
through piece by piece as it arrives (server-sent events are never buffered). Upstream answers
are read under the caps of :mod:`llmswitch.net.http` (decoding capped against compression bombs,
redirects followed only within the provider's origin). A client that hangs up cancels the upstream request.

uvicorn parses HTTP on both sides of the relay's own work: httptools for clients, httpcore (h11) for
upstreams, through httpcore's connection pool without httpx's client layer (no cookie jar, auth flow or
hooks: nothing a relay uses). Where a request goes is read from disk only when a file it depends on
changed (:class:`Lookups`, by ``stat``), so a switch elsewhere still reaches the very next request.

Failover (a role with a ``[failover]`` chain only): a connection error, no answer before the first
byte within the timeout, or HTTP 429, 402 or 5xx, before anything reached the client, moves the
request to the next entry not cooling down. Never mid-stream, never on another 4xx.
"""

from __future__ import annotations

import asyncio
import functools
import hmac
import json
import os
import sys
import time
from collections.abc import AsyncIterator, Callable, Coroutine
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

import httpx

from ..base.errors import KeyProblem, LlmswitchError
from ..net.http import ACCEPT_ENCODING, MAX_CONNECTIONS, MAX_KEEPALIVE, AnswerRefused, decoded, redirect_destination
from ..store import relaystate
from . import targets
from .routes import MODELS_PATH, ROUTES, Family, Route, error_body, family_of
from .served import serves, who_serves
from .targets import Refused, Upstream

if TYPE_CHECKING:
    import ssl

    import httpcore

    from ..store.config import Config, ProviderConfig

T = TypeVar("T")
Scope = dict[str, Any]
Receive = Callable[[], Coroutine[Any, Any, dict[str, Any]]]
Send = Callable[[dict[str, Any]], Coroutine[Any, Any, None]]

MAX_BODY = 32 * 1024 * 1024
"""The largest request body relayed (images in a chat request included); larger ones get HTTP 413."""
NON_STREAMING_FLOOR = 120.0
"""A non-streaming answer arrives whole, so its first byte waits at least this long (the provider's
``timeout`` applies as is to streaming requests, whose first byte comes early)."""
STREAM_IDLE = 300.0
"""Seconds without a byte from the upstream after which a started answer is cut."""
FAILOVER_STATUSES = frozenset({402, 429})
"""Besides 5xx: the answers that move a request along its chain."""
SERVED_BY = "x-llmswitch-served-by"
FAILED_OVER = "x-llmswitch-failover"
MAX_REDIRECTS = 5
"""Redirects followed within the provider's origin (one to another origin is refused)."""
KEEPALIVE_EXPIRY = 5.0
"""Seconds an idle upstream connection is kept for the next request (httpx's default)."""

_DROPPED_REQUEST = frozenset(name.encode() for name in (
    "host", "connection", "keep-alive", "proxy-authorization", "proxy-connection", "te", "trailer",
    "transfer-encoding", "upgrade", "content-length", "authorization", "x-api-key", "api-key", "cookie",
    "accept-encoding", "origin", "referer", "forwarded", "x-forwarded-for", "x-forwarded-host",
    "x-forwarded-proto", "x-real-ip",
))
"""Not forwarded: hop-by-hop headers, the relay token, cookies, and what would say where the client is."""
_DROPPED_RESPONSE = frozenset(name.encode() for name in (
    "connection", "keep-alive", "transfer-encoding", "trailer", "upgrade", "content-encoding",
    "set-cookie", "server", "date", "alt-svc", "strict-transport-security",
))
"""Not passed back: hop-by-hop headers, encodings (a body is decoded here, and then has no Content-Length), cookies."""
_REDIRECTS = frozenset({301, 302, 303, 307, 308})


@functools.cache
def _upstream_errors(*also: type[Exception]) -> tuple[type[Exception], ...]:
    """What httpcore raises when an upstream cannot be reached or breaks the protocol (httpcore is imported when
    the relay first sends: importing it loads trio where installed, which a failed start need not pay for)."""
    import httpcore

    return (httpcore.TimeoutException, httpcore.NetworkError, httpcore.ProtocolError, httpcore.ProxyError,
            httpcore.UnsupportedProtocol, *also)


def _log(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


class LogWriter:
    """The relay's log lines written to stderr by a thread of their own, in order, so a slow terminal or a full
    pipe never holds up the event loop; :meth:`close` writes every line still queued."""

    def __init__(self, write: Callable[[str], None] = _log) -> None:
        import queue
        import threading

        self._write = write
        self._queue: queue.SimpleQueue[str | None] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name="relay-log", daemon=True)
        self._thread.start()

    def __call__(self, line: str) -> None:
        self._queue.put(line)

    def _run(self) -> None:
        while (line := self._queue.get()) is not None:
            try:
                self._write(line)
            except (OSError, ValueError):  # stderr gone: the relay keeps serving
                pass

    def close(self) -> None:
        if self._thread.is_alive():
            self._queue.put(None)
            self._thread.join(timeout=10)


class Incoming:
    """One request as the relay reads it from the ASGI scope (uvicorn parsed it): headers decoded once."""

    __slots__ = ("headers", "method", "path", "query", "raw_headers", "receive")

    def __init__(self, scope: Scope, receive: Receive) -> None:
        self.method: str = scope["method"]
        self.path: str = scope["path"]
        self.query: bytes = scope.get("query_string", b"")
        self.raw_headers: list[tuple[bytes, bytes]] = scope["headers"]  # names lower-cased (ASGI)
        self.headers: dict[str, str] = {}
        for name, value in reversed(self.raw_headers):  # a repeated header: its first value, as Starlette reads it
            self.headers[name.decode("latin-1")] = value.decode("latin-1")
        self.receive = receive


class Answer:
    """A response the relay makes itself (errors, ``/v1/models``): JSON, whole."""

    def __init__(self, body: bytes, status: int, headers: dict[str, str] | None = None) -> None:
        self.body, self.status = body, status
        self.headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
        self.headers += [(k.encode("latin-1"), v.encode("latin-1")) for k, v in (headers or {}).items()]

    async def __call__(self, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": self.status, "headers": self.headers})
        await send({"type": "http.response.body", "body": self.body, "more_body": False})


@dataclass
class Reply:
    """An upstream's answer: status, the headers passed back, its body (decoded), and the connection to release."""

    status: int
    headers: list[tuple[bytes, bytes]]
    body: AsyncIterator[bytes]
    response: httpcore.Response
    length: int | None
    """Content-Length when the body is passed as sent (known: the last piece ends the answer)."""

    def header(self, name: bytes) -> str | None:
        return next((v.decode("latin-1") for k, v in self.response.headers if k.lower() == name), None)

    async def aclose(self) -> None:
        await self.response.aclose()


@dataclass
class Attempt:
    """What came of sending to one upstream: a reply to pass through, or why it failed."""

    upstream: Upstream
    response: Reply | None = None
    why: str = ""
    status: int = 502


class Relay:
    """The relay's state: its address, token, upstream connection pools and cooldowns; an ASGI app."""

    def __init__(self, host: str, port: int, token: str, *, log: Callable[[str], None] = _log) -> None:
        self.host, self.port, self.token, self.log = host, port, token, log
        self.allowed_hosts = {f"{host}:{port}", f"localhost:{port}", f"127.0.0.1:{port}"}
        if ":" in host:  # an IPv6 loopback address is written in brackets in Host
            self.allowed_hosts.add(f"[{host}]:{port}")
        self.cooldowns = targets.Cooldowns()
        self.lookups = Lookups()
        self._token = token.encode()
        self._pools: dict[tuple[str, str], httpcore.AsyncConnectionPool] = {}
        self._ssl: ssl.SSLContext | None = None

    # --- the ASGI app -------------------------------------------------------------------------------

    def app(self) -> Relay:
        return self

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            incoming = Incoming(scope, receive)
            response = await self.handle(incoming)
            await response(receive, send)
        elif scope["type"] == "lifespan":
            while (await receive())["type"] != "lifespan.shutdown":
                await send({"type": "lifespan.startup.complete"})
            await self.aclose()
            await send({"type": "lifespan.shutdown.complete"})

    async def aclose(self) -> None:
        for pool in self._pools.values():
            await pool.aclose()
        self._pools.clear()

    async def handle(self, request: Incoming) -> Answer | Passthrough:
        started = time.monotonic()
        try:
            return await self._handle(request, started)
        except Refused as exc:
            self._line(request, exc.status, started, note=exc.cause)
            return _error(family_of(request.path), exc.status, exc.sentence(), exc.code)

    async def _handle(self, request: Incoming, started: float) -> Answer | Passthrough:
        host = request.headers.get("host", "")
        if host not in self.allowed_hosts:
            raise Refused(403, f"refused: the Host header {host[:80]!r} is not the relay's own address "
                          f"(a web page's DNS rebinding?)", f"call http://{self.host}:{self.port} directly")
        if "origin" in request.headers:
            raise Refused(403, "refused: requests from web pages (with an Origin header) are not relayed",
                          "call the relay from a program, not a browser")
        if not self._authorised(request):
            raise Refused(401, "the relay token is missing or wrong",
                          "send the output of `llmswitch relay token` as the API key (Authorization: Bearer or x-api-key)")
        path = request.path
        if path == MODELS_PATH:
            if request.method != "GET":
                raise Refused(405, f"{request.method} {path} is not relayed", f"use GET {path}")
            return await self._models(request, started)
        route = ROUTES.get(path)
        if route is None:
            raise Refused(404, f"{request.method} {path[:120]} is not a route the relay forwards",
                          "use /v1/chat/completions, /v1/completions, /v1/responses, /v1/embeddings, /v1/models, "
                          "/v1/messages or /v1/messages/count_tokens")
        if request.method != route.method:
            raise Refused(405, f"{request.method} {path} is not relayed", f"use {route.method} {path}")
        body = await self._body(request)
        return await self._forward(request, route, body, started)

    def _authorised(self, request: Incoming) -> bool:
        sent = request.headers.get("x-api-key")
        if sent is None:
            scheme, _, value = request.headers.get("authorization", "").partition(" ")
            sent = value.strip() if scheme.lower() == "bearer" else None
        return sent is not None and hmac.compare_digest(sent.encode(), self._token)

    async def _body(self, request: Incoming) -> dict[str, Any]:
        declared = request.headers.get("content-length")
        too_big = Refused(413, f"the request body is larger than {MAX_BODY // (1024 * 1024)} MiB",
                          "send a smaller request")
        if declared is not None and (not declared.isdigit() or int(declared) > MAX_BODY):
            raise too_big
        data = bytearray()
        while True:
            message = await request.receive()
            if message["type"] == "http.disconnect":
                raise Refused(400, "the client hung up while sending", None)
            data += message.get("body", b"")
            if len(data) > MAX_BODY:
                raise too_big
            if not message.get("more_body", False):
                break
        try:
            parsed = json.loads(data)
        except ValueError:
            parsed = None
        if not isinstance(parsed, dict):
            raise Refused(400, "the request body is not a JSON object", "send the API's JSON request body")
        return parsed

    # --- forwarding -------------------------------------------------------------------------------

    async def _forward(self, request: Incoming, route: Route, body: dict[str, Any], started: float
                       ) -> Answer | Passthrough:
        asked = body.get("model")
        streaming = body.get("stream") is True
        config, candidates = self.lookups.plan(asked)
        first = candidates[0]
        if route.protocol is not None and self.lookups.serves(first.provider, route.protocol) is False:
            others = await asyncio.to_thread(who_serves, route.protocol, config)
            hint = f"{', '.join(others)} {'does' if len(others) == 1 else 'do'}" if others else "another provider does"
            raise Refused(400, f"{first.ref} does not serve {route.label}",
                          f"point {first.role or 'the request'} at a provider that does ({hint}) or send model as "
                          "PROVIDER/MODEL for one", code="model")
        skipped: list[str] = []
        attempt: Attempt | None = None
        for index, upstream in enumerate(candidates):
            if index and self._skip(upstream, route):
                continue
            attempt = await self._attempt(request, route, body, upstream, streaming, first=not index)
            response = attempt.response
            failed = response is None or response.status in FAILOVER_STATUSES or response.status >= 500
            if not failed:
                break
            wait = targets.retry_after(response.header(b"retry-after")) if response is not None else None
            self.cooldowns.cool(upstream.provider.id, wait)
            nxt = self._next(candidates, index, route)
            if nxt is None:
                break
            if response is not None:
                await response.aclose()
            why = attempt.why or f"HTTP {response.status if response is not None else '?'}"
            await asyncio.to_thread(relaystate.record, upstream.role or "", upstream.ref, nxt.ref, why)
            self.log(f"relay: failover for role {upstream.role}: {upstream.ref} → {nxt.ref} ({why})")
            skipped.append(f"{upstream.ref} ({why})")
        assert attempt is not None  # the first candidate is always tried
        served = attempt.upstream
        headers = {SERVED_BY: served.ref}
        if skipped:
            headers[FAILED_OVER] = ", ".join(skipped)
        if attempt.response is None:
            self._line(request, attempt.status, started, served, note=attempt.why, skipped=skipped)
            return _error(route.family, attempt.status, f"{served.ref}: {attempt.why}",
                          extra=headers, fix=f"check that it runs: llmswitch probe {served.provider.id}")
        return Passthrough(attempt.response, headers, on_done=lambda status, note: self._line(
            request, status, started, served, note=note, skipped=skipped))

    def _skip(self, upstream: Upstream, route: Route) -> bool:
        """A chain entry that cools down, or that is known not to serve the route's protocol."""
        if self.cooldowns.cooling(upstream.provider.id):
            return True
        return route.protocol is not None and self.lookups.serves(upstream.provider, route.protocol) is False

    def _next(self, candidates: list[Upstream], index: int, route: Route) -> Upstream | None:
        return next((c for c in candidates[index + 1:] if not self._skip(c, route)), None)

    async def _attempt(self, request: Incoming, route: Route, body: dict[str, Any], upstream: Upstream,
                       streaming: bool, *, first: bool) -> Attempt:
        """Send to ``upstream`` (``first``: the selection itself, whose key problem is the user's to fix)."""
        provider = upstream.provider
        auth = await _resolved(provider)
        if isinstance(auth, KeyProblem):
            if first:
                raise Refused(400, f"{upstream.ref}: {auth.cause}", auth.fix)
            return Attempt(upstream, why=f"no usable key ({auth.cause})", status=502)  # a chain entry: the next one
        url = _upstream_url(route, provider)
        if request.query:
            url = url.copy_with(query=request.query)
        keyed = {name.lower().encode("latin-1"): value.encode("latin-1") for name, value in auth.items()}
        if b"anthropic-version" in keyed and "anthropic-version" in request.headers:
            del keyed[b"anthropic-version"]  # the client's own version, where it sent one
        headers = [(k, v) for k, v in request.raw_headers if k not in _DROPPED_REQUEST and k not in keyed]
        headers += keyed.items()
        content = json.dumps({**body, "model": upstream.model}, ensure_ascii=False).encode()
        first_byte = provider.timeout if streaming else max(provider.timeout, NON_STREAMING_FLOOR)
        try:
            arrived, response = await _unless_hung_up(self._send(provider, "POST", url, headers, content),
                                                      request.receive, first_byte)
        except TimeoutError:
            return Attempt(upstream, why=f"no answer within {first_byte:g} s", status=504)
        except AnswerRefused as exc:  # a redirect elsewhere, a bomb: the user's to fix, never a failover
            raise Refused(502, f"{upstream.ref}: {exc.cause}", exc.fix) from None
        except _upstream_errors() as exc:
            return Attempt(upstream, why=f"could not be reached ({type(exc).__name__})", status=502)
        if not arrived or response is None:
            raise Refused(499, "the client hung up before the answer", None)
        return Attempt(upstream, response, status=response.status)

    async def _send(self, provider: ProviderConfig, method: str, url: httpx.URL, headers: list[tuple[bytes, bytes]],
                    content: bytes) -> Reply:
        """One request to ``provider`` through its pool; redirects followed within its origin only, an encoded
        body decoded under the bomb cap."""
        import httpcore

        pool = self._pool(provider)
        timeout = {"connect": provider.timeout, "read": STREAM_IDLE, "write": provider.timeout,
                   "pool": provider.timeout}
        for _ in range(MAX_REDIRECTS + 1):
            sent = [*headers, (b"host", url.netloc), (b"accept-encoding", ACCEPT_ENCODING.encode())]
            if content or method != "GET":
                sent.append((b"content-length", str(len(content)).encode()))
            core = httpcore.URL(scheme=url.raw_scheme, host=url.raw_host, port=url.port, target=url.raw_path)
            response = await pool.handle_async_request(httpcore.Request(method.encode(), core, headers=sent,
                                                                        content=content,
                                                                        extensions={"timeout": timeout}))
            location = next((v for k, v in response.headers if k.lower() == b"location"), None) \
                if response.status in _REDIRECTS else None
            if location is None:
                return _reply(response, url)
            await response.aclose()
            url = redirect_destination(provider.base_url or "", provider.id, response.status, url,
                                       location.decode("latin-1"))
            if response.status in (301, 302, 303) and method != "HEAD":  # as httpx (and browsers) follow them
                method, content = "GET", b""
        raise httpcore.RemoteProtocolError(f"more than {MAX_REDIRECTS} redirects")

    def _pool(self, provider: ProviderConfig) -> httpcore.AsyncConnectionPool:
        base = provider.base_url or ""
        found = self._pools.get((provider.id, base))
        if found is None:
            import httpcore

            from ..net import network

            if self._ssl is None:
                self._ssl = httpx.create_ssl_context()  # the certificates httpx trusts (certifi, SSL_CERT_FILE)
            proxy = network.proxy_for(base)
            options: dict[str, Any] = {"ssl_context": self._ssl, "max_connections": MAX_CONNECTIONS,
                                       "max_keepalive_connections": MAX_KEEPALIVE, "keepalive_expiry": KEEPALIVE_EXPIRY,
                                       "network_backend": network.Backend()}
            found = self._pools[(provider.id, base)] = (
                httpcore.AsyncHTTPProxy(proxy, **options) if proxy else httpcore.AsyncConnectionPool(**options))
        return found

    # --- /v1/models -------------------------------------------------------------------------------

    async def _models(self, request: Incoming, started: float) -> Answer:
        roles, default = self.lookups.roles()
        data: list[dict[str, Any]] = [_model_entry(role) for role in roles]
        headers: dict[str, str] = {}
        if default is not None:
            headers[SERVED_BY] = default.ref
            try:
                auth = await _resolved(default.provider)
                if isinstance(auth, KeyProblem):
                    raise auth
                url = httpx.URL((default.provider.base_url or "").rstrip("/") + "/models")
                keyed = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in auth.items()]
                async with asyncio.timeout(default.provider.timeout):
                    response = await self._send(default.provider, "GET", url, keyed, b"")
                    try:
                        raw = b"".join([piece async for piece in response.body])
                    finally:
                        await response.aclose()
                listed = json.loads(raw).get("data", []) if response.status == 200 else []
                data += [_model_entry(f"{default.provider.id}/{m['id']}") for m in listed
                         if isinstance(m, dict) and isinstance(m.get("id"), str)]
            except _upstream_errors(LlmswitchError, TimeoutError, ValueError, AttributeError) as exc:
                self.log(f"relay: GET /v1/models: {default.ref}'s list left out ({type(exc).__name__})")
        self._line(request, 200, started, default)
        body = {"object": "list", "data": data, "has_more": False,
                "first_id": data[0]["id"] if data else None, "last_id": data[-1]["id"] if data else None}
        return Answer(json.dumps(body).encode(), 200, headers)

    # --- the log -------------------------------------------------------------------------------------

    def _line(self, request: Incoming, status: int, started: float, upstream: Upstream | None = None, *,
              note: str = "", skipped: list[str] | None = None) -> None:
        """One line per request: method, path, the model asked → where it went, status, time; no body, no key."""
        took = (time.monotonic() - started) * 1000
        where = f" → {upstream.ref}" if upstream is not None else ""
        role = f" {upstream.role}" if upstream is not None and upstream.role else ""
        extra = f" (after {'; '.join(skipped)})" if skipped else ""
        said = f" — {note}" if note else ""
        self.log(f"relay: {request.method} {request.path[:80]}{role}{where} {status} {took:.0f} ms{extra}{said}")


class Passthrough:
    """An upstream answer passed to the client piece by piece as it arrives; a client that hangs up
    cancels the upstream request, and the upstream connection is always released."""

    def __init__(self, upstream: Reply, extra: dict[str, str], on_done: Callable[[int, str], None]) -> None:
        self.upstream = upstream
        self.status = upstream.status
        self.on_done = on_done
        self.headers = upstream.headers + [(k.encode("latin-1"), v.encode("latin-1")) for k, v in extra.items()]

    async def __call__(self, receive: Receive, send: Send) -> None:
        note = ""
        try:
            await send({"type": "http.response.start", "status": self.status, "headers": self.headers})
            done, said = await _unless_hung_up(self._pump(send), receive)
            note = said or "" if done else "client hung up"
        except OSError:
            note = "client hung up"
        finally:
            await asyncio.shield(self.upstream.aclose())
            self.on_done(self.status, note)

    async def _pump(self, send: Send) -> str:
        """Each piece to the client as it arrives; returns a note when the upstream cut the answer. The upstream
        connection goes back to the pool before the client sees the end, so its next request finds it there."""
        left = self.upstream.length  # known: the last piece ends the answer (one write fewer)
        last = b""
        try:
            async for piece in self.upstream.body:  # read to its end: the connection is reused
                if left is not None:
                    left -= len(piece)
                    if left <= 0:
                        last = piece  # sent once the upstream's answer ended (the loop ends at once)
                        continue
                await send({"type": "http.response.body", "body": piece, "more_body": True})
        except _upstream_errors(AnswerRefused) as exc:  # mid-stream: the answer ends, never fails over
            await send({"type": "http.response.body", "body": b"", "more_body": False})
            return f"upstream answer cut ({type(exc).__name__})"
        await self.upstream.aclose()
        await send({"type": "http.response.body", "body": last, "more_body": False})
        return ""


def _reply(response: httpcore.Response, url: httpx.URL) -> Reply:
    """``response`` as the relay passes it on: headers filtered, an encoded body decoded under the cap."""
    headers = [(k.lower(), v) for k, v in response.headers]
    encoding = next((v for k, v in headers if k == b"content-encoding"), b"").decode("latin-1").strip()
    length = next((v for k, v in headers if k == b"content-length"), b"")
    body = response.aiter_stream()
    if encoding and encoding.lower() != "identity":
        body = decoded(body, encoding, f"{url.host}:{url.port or ('443' if url.scheme == 'https' else '80')}")
        length = b""  # the encoded length: not the length of what is passed on
        headers = [(k, v) for k, v in headers if k != b"content-length"]
    passed = [(k, v) for k, v in headers if k not in _DROPPED_RESPONSE and not k.startswith(b"access-control-")]
    return Reply(response.status, passed, body, response, int(length) if length.isdigit() else None)


async def _hung_up(receive: Receive) -> None:
    while (await receive())["type"] != "http.disconnect":
        pass


async def _unless_hung_up(work: Coroutine[Any, Any, T], receive: Receive,
                          timeout: float | None = None) -> tuple[bool, T | None]:
    """``(True, result)`` of ``work``; ``(False, None)`` when the client hangs up first (``work`` is cancelled);
    TimeoutError after ``timeout`` seconds. Plain asyncio tasks: two per request cost less than a task group."""
    task = asyncio.ensure_future(work)
    watcher = asyncio.ensure_future(_hung_up(receive))
    try:
        done, _ = await asyncio.wait((task, watcher), timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
    except BaseException:
        task.cancel()
        watcher.cancel()
        raise
    watcher.cancel()
    if task in done:
        return True, task.result()
    task.cancel()
    await asyncio.wait((task,))
    if watcher in done:
        return False, None
    raise TimeoutError


def _error(family: Family, status: int, message: str, code: str | None = None, *,
           extra: dict[str, str] | None = None, fix: str | None = None) -> Answer:
    text = f"{message} — {fix}" if fix else message
    return Answer(error_body(family, status, text, code), status, extra)


def _model_entry(model_id: str) -> dict[str, Any]:
    return {"id": model_id, "object": "model", "type": "model", "display_name": model_id, "owned_by": "llmswitch",
            "created": 0, "created_at": "1970-01-01T00:00:00Z"}


# --- where a request goes: read from disk when it changed --------------------------------------------------

def _stat(where: str) -> tuple[int, int, int, int, int] | None:
    try:
        st = os.stat(where)
    except OSError:
        return None
    return (st.st_mtime_ns, st.st_size, st.st_ino, st.st_mode, st.st_uid)


class Lookups:
    """What a request's route depends on, read again only when it may have changed.

    The selection (``active.toml``, a trusted project file, ``$LLMSWITCH_USE``), ``config.toml`` with the team's
    providers, and the probe's protocol fingerprints are files: each request takes their ``stat`` (and the working
    directory's project file), and reads them again when one changed. So ``llmswitch use`` elsewhere reaches the
    next request, and a request costs a few ``stat`` calls instead of parsing. A fingerprint ages out of
    freshness by the clock, so a kept answer about it is also taken again after :data:`SERVES_FOR` seconds.
    """

    SERVES_FOR = 1.0

    def __init__(self) -> None:
        self._config: tuple[tuple[object, ...], Config] | None = None
        self._plans: dict[str, tuple[object, list[Upstream]]] = {}
        self._served: dict[tuple[str, str | None, str], tuple[object, float, bool | None]] = {}

    @staticmethod
    def _config_signature() -> tuple[object, ...]:
        from ..base import paths

        team = os.path.join(paths.state_dir_name(), "team")
        return (_stat(os.path.join(paths.config_dir_name(), "config.toml")), _stat(team),
                _stat(os.path.join(team, "providers.toml")))

    @staticmethod
    def _selection_signature() -> tuple[object, ...]:
        from ..base import paths
        from ..store import overlay, scopes

        project = overlay.find()
        return (_stat(paths.active_path()), project, _stat(project) if project else None,
                _stat(overlay.trust_path()) if project else None, os.environ.get(scopes.SHELL_VAR))

    def config(self) -> Config:
        """``config.toml`` (with the team's providers)."""
        from ..store import config as _config

        seen = self._config_signature()
        if self._config is None or self._config[0] != seen:
            self._config = (seen, _config.load())
        return self._config[1]

    def plan(self, asked: object) -> tuple[Config, list[Upstream]]:
        """The config and where a request for model ``asked`` goes (the selection, then its chain)."""
        try:
            config = self.config()
            if not isinstance(asked, str):
                return config, targets.plan(asked, config)
            seen = (self._config[0] if self._config else None, self._selection_signature())
            kept = self._plans.get(asked)
            if kept is not None and kept[0] == seen:
                return config, kept[1]
            planned = targets.plan(asked, config)
            if len(self._plans) > 64:  # a client sending ever new PROVIDER/MODEL names
                self._plans.clear()
            self._plans[asked] = (seen, planned)
            return config, planned
        except Refused:
            raise
        except LlmswitchError as exc:
            raise Refused(400, exc.cause, exc.fix) from None

    def serves(self, provider: ProviderConfig, protocol: str) -> bool | None:
        """:func:`.served.serves`, kept while the provider's fingerprint file is unchanged (and at most a second)."""
        from ..base import paths

        key = (provider.id, provider.base_url, protocol)
        seen = (_stat(os.path.join(paths.state_dir_name(), "served", f"{provider.id}.json")), provider)
        kept = self._served.get(key)
        now = time.monotonic()
        if kept is not None and kept[0] == seen and now - kept[1] < self.SERVES_FOR:
            return kept[2]
        said = serves(provider, protocol)
        if len(self._served) > 256:
            self._served.clear()
        self._served[key] = (seen, now, said)
        return said

    def roles(self) -> tuple[list[str], Upstream | None]:
        """The roles a client may name (set ones, default first), and where ``default`` goes now."""
        from ..store import scopes

        try:
            names = scopes.Scopes(quiet=True).roles()
        except LlmswitchError:
            names = []
        roles = [r for r in targets.ROLES if r in names] + [r for r in names if r not in targets.ROLES]
        try:
            default = self.plan("default")[1][0] if "default" in names else None
        except LlmswitchError:
            default = None
        return roles, default


async def _resolved(provider: ProviderConfig) -> dict[str, str] | KeyProblem:
    """``provider``'s key headers, or why there is none. A key from the environment is read on the event loop;
    the keyring and key commands may block, so they run in a worker thread."""
    quick = provider.key_source in ("env", "none") and all(h.env is not None for h in provider.header_sources)
    try:
        return _auth(provider) if quick else await asyncio.to_thread(_auth, provider)
    except KeyProblem as exc:
        return exc


def _auth(provider: ProviderConfig) -> dict[str, str]:
    """The headers that carry ``provider``'s key, resolved from llmswitch's key sources now (sent only to it)."""
    from ..base.urls import auth_headers
    from ..store import keys

    key = keys.resolve_for(provider).require()
    return {**keys.headers_for(provider), **auth_headers(provider.kind, key)}


def _upstream_url(route: Route, provider: ProviderConfig) -> httpx.URL:
    """Where ``route`` goes at ``provider`` (parsed once per route and provider address, not per request)."""
    return _url_at(route, provider.id, provider.kind, provider.base_url or "", provider.api_version)


@functools.lru_cache(maxsize=256)
def _url_at(route: Route, provider_id: str, kind: str, base_url: str, api_version: str | None) -> httpx.URL:
    return httpx.URL(_url_text(route, provider_id, kind, base_url, api_version))


def _url_text(route: Route, provider_id: str, kind: str, base_url: str, api_version: str | None) -> str:
    from ..base.urls import api_root

    base = base_url.rstrip("/")
    if not base:
        raise Refused(400, f"{provider_id} has no base_url", f"run: llmswitch providers add {provider_id} --base-url URL")
    if route.family is Family.ANTHROPIC:
        return api_root(base) + route.upstream
    if kind == "azure":
        from ..net.azure import openai_base

        v1 = openai_base(base, api_version)
        if v1 is None:
            raise Refused(400, f"{provider_id} uses Azure's dated API (api_version), which the relay does not forward",
                          f"use Azure's v1 API: remove api_version from [providers.{provider_id}]")
        base = v1.rstrip("/")
    return base + route.upstream


# --- running -------------------------------------------------------------------------------------------

def check_host(host: str) -> str:
    """``host`` when it is a loopback address; refused otherwise (the relay never listens beyond this machine)."""
    import ipaddress

    name = host.strip().strip("[]")
    if name == "localhost":
        return "127.0.0.1"
    try:
        if ipaddress.ip_address(name).is_loopback:
            return name
    except ValueError:
        pass
    raise LlmswitchError(f"the relay listens on loopback only, not on {host[:60]!r}",
                         "leave --host out (127.0.0.1), or use ::1")


def run(host: str, port: int, token: str) -> None:
    """Serve in the foreground until interrupted; the state file says where while it runs."""
    import socket

    import uvicorn

    host = check_host(host)
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)  # proto TCP: asyncio sets TCP_NODELAY
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise LlmswitchError(f"the relay cannot listen on {host}:{port} ({exc.strerror or exc})",
                             f"stop the program that uses the port, or choose another: llmswitch relay --port "
                             f"{port + 1}") from None
    log = LogWriter()
    relay = Relay(host, port, token, log=log)
    # loop="auto", http="auto": uvloop and httptools (dependencies) where installed, asyncio and h11 where not
    config = uvicorn.Config(relay.app(), log_level="warning", access_log=False, server_header=False, lifespan="on",
                            loop="auto", http="auto", proxy_headers=False)  # the client is this machine: nothing to trust
    server = uvicorn.Server(config)
    original_startup = server.startup

    async def startup(sockets: Any = None) -> None:
        await original_startup(sockets)
        if server.started:
            import gc

            gc.collect()
            gc.freeze()  # what start-up made lives until exit: collections skip it (no multi-ms pauses mid-request)
            relaystate.started(relay.host, port)
            log(f"relay: listening on http://{relay.host}:{port} (stop with Ctrl-C)")

    original_shutdown = server.shutdown

    async def shutdown(sockets: Any = None) -> None:
        try:
            await original_shutdown(sockets)
        finally:  # here, not after run(): uvicorn ends the process with the signal that stopped it
            if server.started:
                relaystate.stopped()
            log.close()  # every line written

    server.startup = startup  # type: ignore[method-assign]
    server.shutdown = shutdown  # type: ignore[method-assign]
    try:
        server.run(sockets=[sock])
    finally:
        sock.close()
        log.close()
