"""The one HTTP request of the probe: capped, deadlined, retried, and never raising.

``request`` sends one request with a hard deadline and reads at most ``MAX_BODY``
bytes of the answer; ``request_retrying`` adds bounded retries of 429/5xx (honouring
``Retry-After``) inside the same deadline. Secret headers go to the configured origin
only. ``diagnose_error`` turns what went wrong on the wire into a :class:`Diagnosis`.
"""

from __future__ import annotations

import asyncio
import functools
import os
import socket
import ssl
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import httpx

from llmswitch.base import bounded, urls
from llmswitch.base.redact import is_secret_header
from llmswitch.net.http import ACCEPT_ENCODING, AnswerRefused, Decoder, decoder_for
from llmswitch.store import catalog

from ...base.outcome import DeepCheck, Diagnosis, Outcome, ProbeTarget
from .classifier import MAX_BODY, classify, out_of_quota, parse_retry_after, short

__all__ = ["Exchange", "diagnose", "diagnose_error", "new_client", "request", "request_headers", "request_retrying"]

MAX_RETRIES = 2
"""Retries after a 429 or 5xx (so at most three attempts), all within the target's timeout."""
RETRY_AFTER_CAP = 2.0
"""Longest wait honoured from a ``Retry-After`` header, in seconds."""
BACKOFF = (0.25, 0.75)
"""Waits before the first and second retry when the server gives no ``Retry-After``."""
ANTHROPIC_VERSION = urls.ANTHROPIC_VERSION
USER_AGENT = "llmswitch-probe"

ReadSuccess = Callable[[httpx.Response, AsyncIterator[bytes]], Awaitable[DeepCheck]]
"""Reads a 2xx answer as it streams in (the deep check's first token); gets the capped body chunks."""


@dataclass
class Exchange:
    """One request and what came of it."""

    url: str
    status: int | None = None
    headers: httpx.Headers = field(default_factory=httpx.Headers)
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


def new_client(concurrency: int = 32) -> httpx.AsyncClient:
    """The client ``probe_all`` uses: no automatic redirects, a pool sized for ``concurrency`` probes.

    Each probe may have two requests in flight (the keyed one and the keyless one that verifies the
    key, :func:`llmswitch.net.probe.verify.ask_keyless`), so the pool holds two connections per probe:
    a smaller one makes the last probes of a full batch wait a whole round trip for a connection.
    """
    pool = max(2 * concurrency, 10)
    return httpx.AsyncClient(
        follow_redirects=False,
        verify=ssl_context(),
        limits=httpx.Limits(max_connections=pool, max_keepalive_connections=KEEP_ALIVE),
        headers={"user-agent": USER_AGENT},
    )


def ssl_context() -> ssl.SSLContext:
    """httpx's default TLS context (certifi, or SSL_CERT_FILE/SSL_CERT_DIR), built once for the CA files named.

    Loading the CA bundle costs 30–300 ms; a re-probe, or each tool's check in ``connect --all``, should not pay
    it again.
    """
    return _ssl_context(os.environ.get("SSL_CERT_FILE"), os.environ.get("SSL_CERT_DIR"))


@functools.cache
def _ssl_context(cert_file: str | None, cert_dir: str | None) -> ssl.SSLContext:
    return httpx.create_ssl_context()  # reads the same two variables


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


async def request(client: httpx.AsyncClient, method: str, url: str, headers: Mapping[str, str], deadline: float,
                  target: ProbeTarget, json_body: Any = None, *,
                  read_success: ReadSuccess | None = None) -> Exchange:
    """One request with a hard deadline and a capped body. Never raises, except cancellation.

    With ``read_success``, a 2xx answer is handed to it as it streams (``Exchange.answer``);
    any other answer is read into ``Exchange.body`` as usual.
    """
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
            async with client.stream(method, url, headers=headers, json=json_body, timeout=httpx.Timeout(remaining),
                                     follow_redirects=False) as response:
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


async def _body_chunks(response: httpx.Response) -> AsyncIterator[bytes]:
    """The answer's decoded bytes, stopping once more than ``MAX_BODY`` were decoded.

    The raw bytes are decoded here, a piece at a time (``llmswitch.net.http.Decoder``): a
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


async def request_retrying(client: httpx.AsyncClient, method: str, url: str, headers: Mapping[str, str],
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
    if any(isinstance(e, TimeoutError | httpx.TimeoutException) for e in chain):
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
    if any(isinstance(e, httpx.RemoteProtocolError | httpx.ReadError) for e in chain):
        return Diagnosis(Outcome.CONNECTION_ERROR, f"connection to {where} broke mid-answer",
                         "check the server's logs; a proxy in between may be cutting answers off",
                         server_message=message)
    if any(isinstance(e, httpx.UnsupportedProtocol | httpx.InvalidURL) for e in chain):
        return Diagnosis(Outcome.INVALID_URL, "base_url cannot be requested",
                         "base_url must look like https://host/v1", server_message=message)
    return Diagnosis(Outcome.CONNECTION_ERROR, f"could not talk to {where} ({type(error).__name__})",
                     "check base_url and that the server is running", server_message=message)


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
