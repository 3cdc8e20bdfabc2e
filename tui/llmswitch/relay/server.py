"""The relay itself: a Starlette app on uvicorn that forwards each request, httpx upstream.

Per request: the ``Host`` must be the relay's own loopback address, no ``Origin`` (web pages are
not relayed), the relay token in ``Authorization: Bearer`` or ``x-api-key``, a known route, a body
under :data:`MAX_BODY`. Then its ``model`` is resolved (:mod:`.targets`), the provider's key is
resolved from llmswitch's key sources and sent only to that provider, and the answer is passed
through piece by piece as it arrives (server-sent events are never buffered). Upstream answers
are read through :func:`llmswitch.net.http.sdk_client` (decoding capped against compression bombs,
redirects only within the provider's origin). A client that hangs up cancels the upstream request.

Failover (a role with a ``[failover]`` chain only): a connection error, no answer before the first
byte within the timeout, or HTTP 429, 402 or 5xx, before anything reached the client, moves the
request to the next entry not cooling down. Never mid-stream, never on another 4xx.
"""

from __future__ import annotations

import asyncio
import functools
import hmac
import json
import sys
import time
from collections.abc import AsyncIterator, Callable, Coroutine
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

import anyio
import httpx
from starlette.applications import Starlette
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.routing import Route as StarletteRoute

from ..base.errors import KeyProblem, LlmswitchError
from ..net.http import AnswerRefused, sdk_client
from ..store import relaystate
from . import targets
from .routes import MODELS_PATH, ROUTES, Family, Route, error_body, family_of
from .served import serves, who_serves
from .targets import Refused, Upstream

if TYPE_CHECKING:
    from starlette.types import Receive, Scope, Send

    from ..store.config import Config, ProviderConfig

T = TypeVar("T")

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

_DROPPED_REQUEST = frozenset({
    "host", "connection", "keep-alive", "proxy-authorization", "proxy-connection", "te", "trailer",
    "transfer-encoding", "upgrade", "content-length", "authorization", "x-api-key", "api-key", "cookie",
    "accept-encoding", "origin", "referer", "forwarded", "x-forwarded-for", "x-forwarded-host",
    "x-forwarded-proto", "x-real-ip",
})
"""Not forwarded: hop-by-hop headers, the relay token, cookies, and what would say where the client is."""
_DROPPED_RESPONSE = frozenset({
    "connection", "keep-alive", "transfer-encoding", "trailer", "upgrade", "content-encoding",
    "set-cookie", "server", "date", "alt-svc", "strict-transport-security",
})
"""Not passed back: hop-by-hop headers, encodings (a body is decoded here, and then has no Content-Length), cookies."""


def _log(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


@dataclass
class Attempt:
    """What came of sending to one upstream: a response to pass through, or why it failed."""

    upstream: Upstream
    response: httpx.Response | None = None
    why: str = ""
    status: int = 502


class Relay:
    """The relay's state: its address, token, upstream clients and cooldowns."""

    def __init__(self, host: str, port: int, token: str, *, log: Callable[[str], None] = _log) -> None:
        self.host, self.port, self.token, self.log = host, port, token, log
        self.allowed_hosts = {f"{host}:{port}", f"localhost:{port}", f"127.0.0.1:{port}"}
        if ":" in host:  # an IPv6 loopback address is written in brackets in Host
            self.allowed_hosts.add(f"[{host}]:{port}")
        self.cooldowns = targets.Cooldowns()
        self._clients: dict[tuple[str, str], httpx.AsyncClient] = {}

    # --- the ASGI app -------------------------------------------------------------------------------

    def app(self) -> Starlette:
        methods = ["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "HEAD"]
        return Starlette(routes=[StarletteRoute("/{path:path}", self.handle, methods=methods)],
                         lifespan=self._lifespan)

    def _lifespan(self, app: Starlette) -> Any:
        from contextlib import asynccontextmanager

        @asynccontextmanager
        async def span(app: Starlette) -> AsyncIterator[None]:
            try:
                yield
            finally:
                for client in self._clients.values():
                    await client.aclose()
                self._clients.clear()

        return span(app)

    async def handle(self, request: Request) -> Response:
        started = time.monotonic()
        path = request.url.path
        family = family_of(path)
        try:
            return await self._handle(request, family, started)
        except Refused as exc:
            self._line(request, exc.status, started, note=exc.cause)
            return _error(family, exc.status, exc.sentence(), exc.code)

    async def _handle(self, request: Request, family: Family, started: float) -> Response:
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
        path = request.url.path
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

    def _authorised(self, request: Request) -> bool:
        sent = request.headers.get("x-api-key")
        if sent is None:
            scheme, _, value = request.headers.get("authorization", "").partition(" ")
            sent = value.strip() if scheme.lower() == "bearer" else None
        return sent is not None and hmac.compare_digest(sent.encode(), self.token.encode())

    async def _body(self, request: Request) -> dict[str, Any]:
        declared = request.headers.get("content-length")
        too_big = Refused(413, f"the request body is larger than {MAX_BODY // (1024 * 1024)} MiB",
                          "send a smaller request")
        if declared is not None and (not declared.isdigit() or int(declared) > MAX_BODY):
            raise too_big
        data = bytearray()
        try:
            async for chunk in request.stream():
                data += chunk
                if len(data) > MAX_BODY:
                    raise too_big
        except ClientDisconnect:
            raise Refused(400, "the client hung up while sending", None) from None
        try:
            parsed = json.loads(data)
        except ValueError:
            parsed = None
        if not isinstance(parsed, dict):
            raise Refused(400, "the request body is not a JSON object", "send the API's JSON request body")
        return parsed

    # --- forwarding -------------------------------------------------------------------------------

    async def _forward(self, request: Request, route: Route, body: dict[str, Any], started: float) -> Response:
        asked = body.get("model")
        streaming = body.get("stream") is True
        config, candidates = _plan(asked)
        first = candidates[0]
        if route.protocol is not None and serves(first.provider, route.protocol) is False:
            others = await anyio.to_thread.run_sync(who_serves, route.protocol, config)
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
            failed = response is None or response.status_code in FAILOVER_STATUSES or response.status_code >= 500
            if not failed:
                break
            wait = targets.retry_after(response.headers.get("retry-after")) if response is not None else None
            self.cooldowns.cool(upstream.provider.id, wait)
            nxt = self._next(candidates, index, route)
            if nxt is None:
                break
            if response is not None:
                await response.aclose()
            why = attempt.why or f"HTTP {response.status_code if response is not None else '?'}"
            await anyio.to_thread.run_sync(relaystate.record, upstream.role or "", upstream.ref, nxt.ref, why)
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
        return route.protocol is not None and serves(upstream.provider, route.protocol) is False

    def _next(self, candidates: list[Upstream], index: int, route: Route) -> Upstream | None:
        return next((c for c in candidates[index + 1:] if not self._skip(c, route)), None)

    async def _attempt(self, request: Request, route: Route, body: dict[str, Any], upstream: Upstream,
                       streaming: bool, *, first: bool) -> Attempt:
        """Send to ``upstream`` (``first``: the selection itself, whose key problem is the user's to fix)."""
        provider = upstream.provider
        auth = await _resolved(provider)
        if isinstance(auth, KeyProblem):
            if first:
                raise Refused(400, f"{upstream.ref}: {auth.cause}", auth.fix)
            return Attempt(upstream, why=f"no usable key ({auth.cause})", status=502)  # a chain entry: the next one
        url = _upstream_url(route, provider)
        query = request.scope.get("query_string", b"")
        if query:
            url = url.copy_with(query=query)
        headers = {k: v for k, v in request.headers.items() if k not in _DROPPED_REQUEST}
        for name, value in auth.items():
            name = name.lower()  # noqa: PLW2901 - one spelling, so a key header replaces the client's own
            if name == "anthropic-version":
                headers.setdefault(name, value)
            else:
                headers[name] = value
        content = json.dumps({**body, "model": upstream.model}, ensure_ascii=False).encode()
        client = self._client(provider)
        timeout = httpx.Timeout(provider.timeout, read=STREAM_IDLE)
        first_byte = provider.timeout if streaming else max(provider.timeout, NON_STREAMING_FLOOR)
        # the request built here rather than by client.build_request, which would parse the URL again and merge
        # params: the client's own headers (Accept-Encoding...) first, then the client's; its cookies; the timeout
        sent = httpx.Request("POST", url, content=content, headers={**client.headers, **headers}, cookies=client.cookies,
                             extensions={"timeout": timeout.as_dict()})
        try:
            arrived, response = await _unless_hung_up(client.send(sent, stream=True), request.receive, first_byte)
        except TimeoutError:
            return Attempt(upstream, why=f"no answer within {first_byte:.0f} s", status=504)
        except AnswerRefused as exc:  # a redirect elsewhere, a bomb: the user's to fix, never a failover
            raise Refused(502, f"{upstream.ref}: {exc.cause}", exc.fix) from None
        except httpx.HTTPError as exc:
            return Attempt(upstream, why=f"could not be reached ({type(exc).__name__})", status=502)
        if not arrived or response is None:
            raise Refused(499, "the client hung up before the answer", None)
        return Attempt(upstream, response, status=response.status_code)

    def _client(self, provider: ProviderConfig) -> httpx.AsyncClient:
        base = provider.base_url or ""
        found = self._clients.get((provider.id, base))
        if found is None:
            made = sdk_client(base, asynchronous=True, provider=provider.id)
            assert isinstance(made, httpx.AsyncClient)
            found = self._clients[(provider.id, base)] = made
        return found

    # --- /v1/models -------------------------------------------------------------------------------

    async def _models(self, request: Request, started: float) -> Response:
        roles, default = _roles()
        data: list[dict[str, Any]] = [_model_entry(role) for role in roles]
        headers: dict[str, str] = {}
        if default is not None:
            headers[SERVED_BY] = default.ref
            try:
                auth = await _resolved(default.provider)
                if isinstance(auth, KeyProblem):
                    raise auth
                client = self._client(default.provider)
                url = (default.provider.base_url or "").rstrip("/") + "/models"
                with anyio.fail_after(default.provider.timeout):
                    response = await client.get(url, headers=auth)
                listed = response.json().get("data", []) if response.status_code == 200 else []
                data += [_model_entry(f"{default.provider.id}/{m['id']}") for m in listed
                         if isinstance(m, dict) and isinstance(m.get("id"), str)]
            except (LlmswitchError, httpx.HTTPError, TimeoutError, ValueError, AttributeError) as exc:
                self.log(f"relay: GET /v1/models: {default.ref}'s list left out ({type(exc).__name__})")
        self._line(request, 200, started, default)
        body = {"object": "list", "data": data, "has_more": False,
                "first_id": data[0]["id"] if data else None, "last_id": data[-1]["id"] if data else None}
        return Response(json.dumps(body).encode(), 200, headers, media_type="application/json")

    # --- the log -------------------------------------------------------------------------------------

    def _line(self, request: Request, status: int, started: float, upstream: Upstream | None = None, *,
              note: str = "", skipped: list[str] | None = None) -> None:
        """One line per request: method, path, the model asked → where it went, status, time; no body, no key."""
        took = (time.monotonic() - started) * 1000
        where = f" → {upstream.ref}" if upstream is not None else ""
        role = f" {upstream.role}" if upstream is not None and upstream.role else ""
        extra = f" (after {'; '.join(skipped)})" if skipped else ""
        said = f" — {note}" if note else ""
        self.log(f"relay: {request.method} {request.url.path[:80]}{role}{where} {status} {took:.0f} ms{extra}{said}")


class Passthrough(Response):
    """An upstream answer passed to the client piece by piece as it arrives; a client that hangs up
    cancels the upstream request, and the upstream connection is always closed."""

    def __init__(self, upstream: httpx.Response, extra: dict[str, str],
                 on_done: Callable[[int, str], None]) -> None:
        self.upstream = upstream
        self.status_code = upstream.status_code
        self.on_done = on_done
        self.background = None
        raw = [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in upstream.headers.multi_items()
               if k.lower() not in _DROPPED_RESPONSE and not k.lower().startswith("access-control-")]
        self.raw_headers = raw + [(k.encode("latin-1"), v.encode("latin-1")) for k, v in extra.items()]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        note = ""
        try:
            await send({"type": "http.response.start", "status": self.status_code, "headers": self.raw_headers})
            done, said = await _unless_hung_up(self._pump(send), receive)
            note = said or "" if done else "client hung up"
        except OSError:
            note = "client hung up"
        finally:
            await asyncio.shield(self.upstream.aclose())
            self.on_done(self.status_code, note)

    async def _pump(self, send: Send) -> str:
        """Each piece to the client as it arrives; returns a note when the upstream cut the answer."""
        left = _length(self.upstream)  # known: the last piece ends the answer (one write fewer)
        finished = False
        try:
            async for piece in self.upstream.aiter_raw():  # read to its end: the connection is reused
                if left is not None:
                    left -= len(piece)
                    finished = left <= 0
                await send({"type": "http.response.body", "body": piece, "more_body": not finished})
        except (httpx.HTTPError, AnswerRefused) as exc:  # mid-stream: the answer ends, never fails over
            await send({"type": "http.response.body", "body": b"", "more_body": False})
            return f"upstream answer cut ({type(exc).__name__})"
        if not finished:
            await send({"type": "http.response.body", "body": b"", "more_body": False})
        return ""


def _length(response: httpx.Response) -> int | None:
    """The answer's Content-Length (a decoded answer has none: :func:`llmswitch.net.http.sdk_client` drops it)."""
    value = response.headers.get("content-length", "")
    return int(value) if value.isdigit() else None


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
           extra: dict[str, str] | None = None, fix: str | None = None) -> Response:
    text = f"{message} — {fix}" if fix else message
    return Response(error_body(family, status, text, code), status, extra, media_type="application/json")


def _model_entry(model_id: str) -> dict[str, Any]:
    return {"id": model_id, "object": "model", "type": "model", "display_name": model_id, "owned_by": "llmswitch",
            "created": 0, "created_at": "1970-01-01T00:00:00Z"}


# --- blocking work, run in a worker thread -------------------------------------------------------------

class _ConfigCache:
    """``config.toml`` (with the team's providers), read again only when it or the team copy changed on disk."""

    def __init__(self) -> None:
        self._seen: tuple[object, ...] | None = None
        self._config: Config | None = None

    @staticmethod
    def _signature() -> tuple[object, ...]:
        import os

        from ..base import paths

        found: list[object] = []
        for where in (paths.config_file(), paths.state_dir() / "team", paths.state_dir() / "team" / "providers.toml"):
            try:
                st = os.stat(where)
                found.append((st.st_mtime_ns, st.st_size, st.st_ino, st.st_mode))
            except OSError:
                found.append(None)
        return tuple(found)

    def load(self) -> Config:
        from ..store import config as _config

        seen = self._signature()
        if self._config is None or seen != self._seen:
            self._config, self._seen = _config.load(), seen
        return self._config


_CONFIG = _ConfigCache()


def _plan(asked: object) -> tuple[Config, list[Upstream]]:
    """The config and where the request goes. Reads two small local files (cached by their stat): cheap
    enough for the event loop, where a worker thread's hand-off would cost more than the work."""
    try:
        config = _CONFIG.load()
        return config, targets.plan(asked, config)
    except Refused:
        raise
    except LlmswitchError as exc:
        raise Refused(400, exc.cause, exc.fix) from None


async def _resolved(provider: ProviderConfig) -> dict[str, str] | KeyProblem:
    """``provider``'s key headers, or why there is none. A key from the environment is read on the event loop;
    the keyring and key commands may block, so they run in a worker thread."""
    quick = provider.key_source in ("env", "none") and all(h.env is not None for h in provider.header_sources)
    try:
        return _auth(provider) if quick else await anyio.to_thread.run_sync(_auth, provider)
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


def _roles() -> tuple[list[str], Upstream | None]:
    """The roles a client may name (set ones, default first), and where ``default`` goes now."""
    from ..store import scopes

    try:
        names = scopes.Scopes(quiet=True).roles()
    except LlmswitchError:
        names = []
    roles = [r for r in targets.ROLES if r in names] + [r for r in names if r not in targets.ROLES]
    try:
        default = targets.plan("default", _CONFIG.load())[0] if "default" in names else None
    except LlmswitchError:
        default = None
    return roles, default


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

    relay = Relay(check_host(host), port, token)
    family = socket.AF_INET6 if ":" in relay.host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)  # proto TCP: asyncio sets TCP_NODELAY
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((relay.host, port))
    except OSError as exc:
        sock.close()
        raise LlmswitchError(f"the relay cannot listen on {relay.host}:{port} ({exc.strerror or exc})",
                             f"stop the program that uses the port, or choose another: llmswitch relay --port "
                             f"{port + 1}") from None
    # loop="auto", http="auto": uvloop and httptools (dependencies) where installed, asyncio and h11 where not
    config = uvicorn.Config(relay.app(), log_level="warning", access_log=False, server_header=False, lifespan="on",
                            loop="auto", http="auto")
    server = uvicorn.Server(config)
    original_startup = server.startup

    async def startup(sockets: Any = None) -> None:
        await original_startup(sockets)
        if server.started:
            import gc

            gc.collect()
            gc.freeze()  # what start-up made lives until exit: collections skip it (no multi-ms pauses mid-request)
            relaystate.started(relay.host, port)
            _log(f"relay: listening on http://{relay.host}:{port} (stop with Ctrl-C)")

    server.startup = startup  # type: ignore[method-assign]
    try:
        server.run(sockets=[sock])
    finally:
        sock.close()
        if server.started:
            relaystate.stopped()
