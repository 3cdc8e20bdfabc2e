"""The one HTTP request of the probe: capped, deadlined, retried, and never raising.

``request`` sends one request with a hard deadline and reads at most ``MAX_BODY``
bytes of the answer; ``request_retrying`` adds bounded retries of 429/5xx (honouring
``Retry-After``) inside the same deadline. Secret headers go to the configured origin
only. ``diagnose_error`` turns what went wrong on the wire into a :class:`Diagnosis`.

The requests go out through :class:`ProbeClient`: httpcore's connection pool (h11) on plain asyncio streams
(:mod:`llmswitch.net.network`, the relay's too), without httpx's client layer, which the probe never used (it
follows no redirect and keeps no cookie) and whose import brings trio, click and pygments with it where they are
installed (~15 MB and ~150 ms of the picker's start, for the probe's first sweep).
"""

from __future__ import annotations

import asyncio
import json
import socket
import ssl
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Iterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import quote, urlsplit

from llmswitch.base import bounded, urls
from llmswitch.base.redact import is_secret_header
from llmswitch.net.decoding import ACCEPT_ENCODING, AnswerRefused, Decoder, decoder_for
from llmswitch.net.network import Backend, httpcore, proxy_for, ssl_context
from llmswitch.store import catalog

from ...base.outcome import DeepCheck, Diagnosis, Outcome, ProbeTarget
from .classifier import MAX_BODY, classify, out_of_quota, parse_retry_after, short

__all__ = ["Exchange", "Headers", "InvalidURL", "ProbeClient", "Response", "diagnose", "diagnose_error", "is_timeout",
           "new_client", "request", "request_headers", "request_retrying", "ssl_context"]

MAX_RETRIES = 2
"""Retries after a 429 or 5xx (so at most three attempts), all within the target's timeout."""
RETRY_AFTER_CAP = 2.0
"""Longest wait honoured from a ``Retry-After`` header, in seconds."""
BACKOFF = (0.25, 0.75)
"""Waits before the first and second retry when the server gives no ``Retry-After``."""
ANTHROPIC_VERSION = urls.ANTHROPIC_VERSION
USER_AGENT = "llmswitch-probe"


class Headers(Mapping[str, str]):
    """An answer's headers: names without case, a repeated header's values joined with ", " (as httpx shows them)."""

    def __init__(self, pairs: Iterable[tuple[str, str]] = ()) -> None:
        self._values: dict[str, str] = {}
        for name, value in pairs:
            key = name.lower()
            self._values[key] = f"{self._values[key]}, {value}" if key in self._values else value

    def __getitem__(self, name: str) -> str:
        return self._values[name.lower()]

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name.lower() in self._values

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def __repr__(self) -> str:
        return f"Headers({self._values!r})"


class InvalidURL(ValueError):
    """A URL the probe cannot request (no host, a bad port, a character a request line cannot carry)."""


@dataclass
class Response:
    """An answer as it arrives: status and headers, then the raw (still encoded) body."""

    status_code: int
    headers: Headers
    url: str
    _raw: Callable[[], AsyncIterator[bytes]] = field(repr=False)

    def aiter_raw(self) -> AsyncIterator[bytes]:
        return self._raw()


ReadSuccess = Callable[[Response, AsyncIterator[bytes]], Awaitable[DeepCheck]]
"""Reads a 2xx answer as it streams in (the deep check's first token); gets the capped body chunks."""


@dataclass
class Exchange:
    """One request and what came of it."""

    url: str
    status: int | None = None
    headers: Headers = field(default_factory=Headers)
    body: bytes = b""
    latency_ms: float | None = None
    error: BaseException | None = None
    attempts: int = 1
    answer: DeepCheck | None = None
    """What ``read_success`` made of a 2xx answer, when one was given."""
    _json: bounded.Decoded | None = field(default=None, repr=False, compare=False)

    def json(self) -> bounded.Decoded:
        """The body through the one bounded JSON decoder, decoded once: the diagnosis and the served contexts
        (``served.from_listing``) both read a model list, which can be megabytes."""
        if self._json is None:
            self._json = bounded.decode_json(self.body.decode("utf-8", "replace"))
        return self._json


KEEP_ALIVE = 8
"""Idle connections the probe's client keeps (the most recent): enough for a probe's follow-up (key check, other
base URLs, the chat check) to reuse its connection. Every answer makes httpcore look at each kept connection
(a poll for each), so keeping all of a batch's costs a whole-batch scan per request (the probe's largest CPU cost)."""

KEEP_ALIVE_EXPIRY = 5.0
"""Seconds an idle connection is kept (httpx's clients' default, which the probe had)."""

_PATH_SAFE = "/%:@!$&'()*+,;=-._~"
"""Characters a path keeps as they are (RFC 3986's path characters); any other is percent-encoded, as httpx does."""


class ProbeClient:
    """The probe's HTTP client: no automatic redirects, a pool sized for ``concurrency`` probes.

    Each probe may have two requests in flight (the keyed one and the keyless one that verifies the
    key, :func:`llmswitch.net.probe.verify.ask_keyless`), so the pool holds two connections per probe:
    a smaller one makes the last probes of a full batch wait a whole round trip for a connection.
    Proxies are those the environment names (``HTTPS_PROXY``, ``HTTP_PROXY``, ``ALL_PROXY``, ``NO_PROXY``), as
    for httpx's clients; https servers are verified with :func:`~llmswitch.net.network.ssl_context`, which is
    loaded only when an https server is first asked.
    """

    def __init__(self, concurrency: int = 32, *, given: Any = None) -> None:
        self._size = max(2 * concurrency, 10)
        self._pools: dict[tuple[str, str | None], httpcore.AsyncConnectionPool] = {}
        self._given = given

    @classmethod
    def of(cls, client: Any) -> ProbeClient:
        """``client`` as the probe's client: itself, or an ``httpx.AsyncClient`` a caller gave ``probe`` (used as
        it is, but never following a redirect; the caller closes it)."""
        return client if isinstance(client, ProbeClient) else cls(given=client)

    def _pool(self, scheme: str, url: str) -> httpcore.AsyncConnectionPool:
        proxy = proxy_for(url)
        found = self._pools.get((scheme, proxy))
        if found is None:
            options: dict[str, Any] = {"ssl_context": ssl_context() if scheme == "https" else None,
                                       "max_connections": self._size, "max_keepalive_connections": KEEP_ALIVE,
                                       "keepalive_expiry": KEEP_ALIVE_EXPIRY, "network_backend": Backend()}
            found = self._pools[(scheme, proxy)] = (
                httpcore.AsyncHTTPProxy(proxy, **options) if proxy else httpcore.AsyncConnectionPool(**options))
        return found

    @asynccontextmanager
    async def stream(self, method: str, url: str, *, headers: Mapping[str, str], timeout: float,
                     json_body: Any = None) -> AsyncIterator[Response]:
        """Send one request; the answer's status and headers, its body to be read inside the block."""
        if self._given is not None:
            async with _through_httpx(self._given, method, url, headers, timeout, json_body) as response:
                yield response
            return
        scheme, host, port, target, netloc = _parts(url)
        sent = [(b"host", netloc.encode("ascii"))]
        given = {name.lower() for name in headers}
        sent += [(b"accept", b"*/*")] if "accept" not in given else []
        sent += [(b"user-agent", USER_AGENT.encode())] if "user-agent" not in given else []
        sent += [(name.encode("ascii"), str(value).encode("utf-8")) for name, value in headers.items()]
        sent += [(b"connection", b"keep-alive")] if "connection" not in given else []
        content = b""
        if json_body is not None:
            content = json.dumps(json_body, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode()
            sent += [(b"content-length", str(len(content)).encode()), (b"content-type", b"application/json")]
        request = httpcore.Request(method.encode("ascii"), httpcore.URL(scheme=scheme, host=host, port=port,
                                                                        target=target),
                                   headers=sent, content=content,
                                   extensions={"timeout": dict.fromkeys(("connect", "read", "write", "pool"),
                                                                        timeout)})
        raw = await self._pool(scheme.decode(), url).handle_async_request(request)
        try:
            yield Response(raw.status, Headers((k.decode("latin-1"), v.decode("latin-1")) for k, v in raw.headers),
                           url, raw.aiter_stream)
        finally:
            await raw.aclose()

    async def aclose(self) -> None:
        pools, self._pools = list(self._pools.values()), {}
        for pool in pools:
            await pool.aclose()

    async def __aenter__(self) -> ProbeClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()


@asynccontextmanager
async def _through_httpx(client: Any, method: str, url: str, headers: Mapping[str, str], timeout: float,
                         json_body: Any) -> AsyncIterator[Response]:
    import httpx

    async with client.stream(method, url, headers=headers, json=json_body, timeout=httpx.Timeout(timeout),
                             follow_redirects=False) as response:
        yield Response(response.status_code, Headers(response.headers.multi_items()), url, response.aiter_raw)


def _parts(url: str) -> tuple[bytes, bytes, int | None, bytes, str]:
    """(scheme, host, port, request target, the Host header) of ``url``; refused as httpx refuses one."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise httpcore.UnsupportedProtocol(f"the URL has no http:// or https:// scheme: {url[:80]!r}")
    try:
        host, port = parts.hostname, parts.port
    except ValueError as exc:
        raise InvalidURL(f"invalid port in {url[:80]!r}") from exc
    if not host:
        raise InvalidURL(f"no host in {url[:80]!r}")
    if any(ch.isspace() or ord(ch) < 32 or ord(ch) == 127 for ch in url):
        raise InvalidURL(f"a space or control character in {url[:80]!r}")
    try:
        ascii_host = host.encode("idna") if not host.isascii() else host.encode("ascii")
    except UnicodeError as exc:
        raise InvalidURL(f"invalid host name in {url[:80]!r}") from exc
    shown = ascii_host.decode("ascii")
    shown = f"[{shown}]" if ":" in shown else shown
    default = {"http": 80, "https": 443}[scheme]
    netloc = shown if port in (None, default) else f"{shown}:{port}"
    target = quote(parts.path or "/", safe=_PATH_SAFE) + (f"?{parts.query}" if parts.query else "")
    return scheme.encode(), ascii_host, port, target.encode("ascii", "replace"), netloc


def new_client(concurrency: int = 32) -> ProbeClient:
    """The client ``probe_all`` uses (see :class:`ProbeClient`)."""
    return ProbeClient(concurrency)


def request_headers(target: ProbeTarget) -> dict[str, str]:
    """What the probe sends: accept, the target's own headers, and the key in its API kind's header."""
    headers = {"accept": "application/json", "user-agent": USER_AGENT}
    headers.update({str(k): str(v) for k, v in target.headers.items()})
    for name, value in urls.auth_headers(target.api_kind, target.key).items():
        if name == "anthropic-version":
            headers.setdefault(name, value)  # a configured version wins
        else:
            headers[name] = value
    return headers


async def request(client: ProbeClient | Any, method: str, url: str, headers: Mapping[str, str], deadline: float,
                  target: ProbeTarget, json_body: Any = None, *,
                  read_success: ReadSuccess | None = None) -> Exchange:
    """One request with a hard deadline and a capped body. Never raises, except cancellation.

    With ``read_success``, a 2xx answer is handed to it as it streams (``Exchange.answer``);
    any other answer is read into ``Exchange.body`` as usual.
    """
    client = ProbeClient.of(client)  # an httpx.AsyncClient a caller gave is used as it is (never following redirects)
    if urls.origin(url) != urls.origin(target.base_url):  # the key goes to the configured origin only
        headers = {k: v for k, v in headers.items() if not is_secret_header(k)}
    headers = {**{k: v for k, v in headers.items() if k.lower() != "accept-encoding"},
               "accept-encoding": ACCEPT_ENCODING}  # what _body_chunks can decode
    loop = asyncio.get_running_loop()
    remaining = deadline - loop.time()
    started = time.perf_counter()
    if remaining <= 0:
        return Exchange(url, error=TimeoutError("no time left"), latency_ms=0.0)
    try:
        async with asyncio.timeout(remaining):
            async with client.stream(method, url, headers=headers, timeout=remaining, json_body=json_body) as response:
                if read_success is not None and 200 <= response.status_code < 300:
                    answer = await read_success(response, _body_chunks(response))
                    return Exchange(url, response.status_code, response.headers, answer=answer,
                                    latency_ms=(time.perf_counter() - started) * 1000)
                body = bytearray()
                async for chunk in _body_chunks(response):
                    body += chunk
                latency = (time.perf_counter() - started) * 1000
                return Exchange(url, response.status_code, response.headers, bytes(body), latency)
    except asyncio.CancelledError:
        raise
    except Exception as exc:  # transport trouble of any kind becomes a diagnosis
        return Exchange(url, error=exc, latency_ms=(time.perf_counter() - started) * 1000)


async def _body_chunks(response: Response) -> AsyncIterator[bytes]:
    """The answer's decoded bytes, stopping once more than ``MAX_BODY`` were decoded.

    The raw bytes are decoded here, a piece at a time (``llmswitch.net.decoding.Decoder``): a
    compression bomb costs one piece beyond the cap, never its inflated size.
    """
    read = 0
    decoder: Decoder | None = None
    async for raw in response.aiter_raw():
        if not raw:
            continue
        decoder = decoder or decoder_for(response.headers.get("content-encoding"))
        for piece in decoder.feed(raw):
            read += len(piece)
            yield piece
            if read > MAX_BODY:
                return


async def request_retrying(client: ProbeClient, method: str, url: str, headers: Mapping[str, str],
                           deadline: float, target: ProbeTarget, json_body: Any = None) -> Exchange:
    """``request`` with bounded retries of 429 and 5xx inside the deadline; other answers fail fast."""
    loop = asyncio.get_running_loop()
    attempt = 0
    while True:
        exchange = await request(client, method, url, headers, deadline, target, json_body)
        exchange.attempts = attempt + 1
        status = exchange.status
        retryable = status is not None and (status == 429 or (500 <= status < 600 and status not in (501, 505)))
        if status == 429 and out_of_quota(exchange.body):
            retryable = False  # out of quota: waiting will not help
        if not retryable or attempt >= MAX_RETRIES:
            return exchange
        asked = parse_retry_after({k.lower(): v for k, v in exchange.headers.items()})
        wait = min(asked if asked is not None else BACKOFF[attempt], RETRY_AFTER_CAP)
        if loop.time() + wait + 0.05 >= deadline:
            return exchange
        await asyncio.sleep(wait)
        attempt += 1


def diagnose(exchange: Exchange, target: ProbeTarget) -> Diagnosis:
    """What an exchange means: its transport failure, or its answer (with the attempts it took)."""
    if exchange.error is not None:
        return diagnose_error(exchange.error, target, exchange.url)
    decoded = exchange.json() if len(exchange.body) <= MAX_BODY else None  # larger: refused before decoding
    diagnosis = classify(exchange.status, exchange.headers, exchange.body, target=target, decoded=decoded)
    if exchange.attempts > 1 and diagnosis.outcome in (Outcome.RATE_LIMITED, Outcome.SERVER_ERROR):
        diagnosis = replace(diagnosis, summary=f"{diagnosis.summary} ({exchange.attempts} attempts)")
    return diagnosis


def diagnose_error(error: BaseException, target: ProbeTarget, url: str) -> Diagnosis:
    """Turn a transport failure into an outcome: refused, DNS, TLS, timeout, or broken connection."""
    host, port = urls.host_port(url)
    where = f"{host}:{port}"
    chain = list(_exception_chain(error))
    refused = next((e for e in chain if isinstance(e, AnswerRefused)), None)
    if refused is not None:  # an answer we would not read or follow: its own sentence
        return Diagnosis(refused.outcome, refused.cause, refused.fix)
    text = " ".join(str(e) for e in chain)
    lowered = text.lower()
    if any(is_timeout(e) for e in chain):
        return Diagnosis(Outcome.TIMEOUT, f"no answer from {where} within {target.timeout:g} s",
                         f"check the server is up and not overloaded, or raise its timeout (timeout = "
                         f"{max(30, target.timeout * 3):g} under [providers.{target.provider}] in config.toml)")
    if any(isinstance(e, socket.gaierror) for e in chain) or any(
            w in lowered for w in ("name or service not known", "nodename nor servname", "getaddrinfo failed",
                                   "temporary failure in name resolution", "no address associated")):
        return Diagnosis(Outcome.DNS_FAILURE, f"host not found: {host}",
                         "check the host name in base_url (and your network or DNS)")
    if any(isinstance(e, ConnectionRefusedError) for e in chain) or "connection refused" in lowered or (
            "all connection attempts failed" in lowered):
        return Diagnosis(Outcome.CONNECTION_REFUSED, f"no server on {where}", _start_hint(target, port))
    ssl_errors = [e for e in chain if isinstance(e, ssl.SSLError)]
    if ssl_errors or "[ssl" in lowered or "certificate verify failed" in lowered:
        detail = short(str(ssl_errors[0]) if ssl_errors else text, target.key)
        plain = any(w in lowered for w in ("wrong version number", "record layer failure", "packet length too long",
                                           "unknown protocol", "http request"))
        if plain:
            return Diagnosis(Outcome.TLS_ERROR, f"TLS failed: {where} seems to speak plain HTTP",
                             "use http:// instead of https:// in base_url", server_message=detail)
        if "certificate" in lowered:
            return Diagnosis(Outcome.TLS_ERROR, f"TLS failed: the certificate of {host} is not trusted",
                             "if a proxy or self-signed certificate is expected, point SSL_CERT_FILE at its CA bundle",
                             server_message=detail)
        return Diagnosis(Outcome.TLS_ERROR, f"TLS handshake with {where} failed",
                         "check the scheme and port in base_url", server_message=detail)
    message = short(text, target.key)
    if any(isinstance(e, _kinds("RemoteProtocolError") + _kinds("ReadError")) for e in chain):
        return Diagnosis(Outcome.CONNECTION_ERROR, f"connection to {where} broke mid-answer",
                         "check the server's logs; a proxy in between may be cutting answers off",
                         server_message=message)
    if any(isinstance(e, _kinds("UnsupportedProtocol", InvalidURL) + _kinds("InvalidURL")) for e in chain):
        return Diagnosis(Outcome.INVALID_URL, "base_url cannot be requested",
                         "base_url must look like https://host/v1", server_message=message)
    return Diagnosis(Outcome.CONNECTION_ERROR, f"could not talk to {where} ({type(error).__name__})",
                     "check base_url and that the server is running", server_message=message)


def is_timeout(error: BaseException) -> bool:
    """Whether ``error`` is a request running out of time (asyncio's deadline, or httpcore's or httpx's timeouts)."""
    return isinstance(error, _kinds("TimeoutException", TimeoutError))


def _kinds(name: str, *also: type[BaseException]) -> tuple[type[BaseException], ...]:
    """httpcore's exception class ``name`` and httpx's of that name when httpx is loaded (the SDK's errors, which
    ``repl.explain`` reads, are httpx's; an httpx error cannot exist before httpx is imported), then ``also``."""
    found = [getattr(module, name, None) for module in (httpcore, sys.modules.get("httpx"))]
    return tuple(k for k in found if isinstance(k, type) and issubclass(k, BaseException)) + also


def _exception_chain(error: BaseException) -> Iterable[BaseException]:
    seen: set[int] = set()
    stack = [error]
    while stack:
        exc = stack.pop()
        if id(exc) in seen:
            continue
        seen.add(id(exc))
        yield exc
        stack.extend(e for e in (exc.__cause__, exc.__context__) if e is not None)
        if isinstance(exc, BaseExceptionGroup):
            stack.extend(exc.exceptions)


def _start_hint(target: ProbeTarget, port: int) -> str:
    """The target's start hint (from its preset), else where nothing listens."""
    preset = catalog.local_preset(target.preset)
    hint = catalog.start_hint(target.start_hint or (preset.start_hint if preset else None), target.model,
                              target.base_url)
    if hint:
        return hint
    if urls.is_local(target.base_url):
        return f"start the server, or fix the port in base_url (nothing listens on {port})"
    return "check the host and port in base_url, and that the server is running"
