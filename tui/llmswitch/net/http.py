"""What llmswitch reads over HTTP is bounded, and the key never follows a redirect to another origin.

* :class:`Decoder` decodes one ``Content-Encoding`` (gzip or deflate) incrementally, in
  pieces of at most 64 KiB, so a reader that stops at its cap stops the decoding too: a
  590-byte answer that inflates to gigabytes costs one piece, not the gigabytes. Stacked
  encodings (``gzip, gzip``) and encodings we cannot decode are refused with a sentence.
  The probe (``probe.transport``) reads raw bytes through it.
* :func:`sdk_client` is the ``httpx`` client handed to the ``openai`` SDK (``chat``,
  ``llmswitch.client()``): the same decoding with a cap on amplification, and
  redirects followed only within the configured origin; one to another origin is an
  error saying what the probe says.

Errors are both ``httpx.HTTPError`` (callers of the SDK already catch those) and
:class:`~llmswitch.base.errors.LlmswitchError` (cause and fix as fields). They are not
``httpx.RequestError``, so the SDK does not retry them or hide them as "Connection error".
"""

from __future__ import annotations

import zlib
from collections.abc import AsyncIterable, AsyncIterator, Iterator
from typing import Any

import httpx

from ..base import urls
from ..base.errors import LlmswitchError
from ..base.outcome import Outcome
from ..base.redact import terminal_safe

__all__ = [
    "ACCEPT_ENCODING", "MAX_CONNECTIONS", "MAX_KEEPALIVE", "SDK_DECODED_FLOOR", "SDK_MAX_RATIO", "AnswerRefused",
    "Decoder", "EncodingRefused", "RedirectRefused", "decoded", "decoder_for", "redirect_destination", "sdk_client",
]

ACCEPT_ENCODING = "gzip, deflate"
"""The encodings we ask for: exactly those :class:`Decoder` reads (brotli and zstd are not installed)."""
PIECE = 64 * 1024
"""Most bytes one step of decoding produces."""
SDK_DECODED_FLOOR = 16 * 1024 * 1024
SDK_MAX_RATIO = 200
"""The SDK path refuses a compressed answer once it decoded more than ``SDK_DECODED_FLOOR`` bytes
at more than ``SDK_MAX_RATIO`` times the bytes received. A bomb inflates ~1000-fold; text and
embeddings compress 3–60-fold, and even a stream of chat chunks from a 15-word vocabulary only
~120-fold. So a long answer is never cut off for its length; only amplification is refused (an
uncompressed answer makes the server send every byte it makes us hold)."""

MAX_CONNECTIONS = 100
MAX_KEEPALIVE = 20
"""Connections per upstream client (open at once, kept idle for reuse)."""

_NAMES = {"gzip": "gzip", "x-gzip": "gzip", "deflate": "deflate"}
_CHECK_BASE = "check base_url points at an OpenAI-compatible API"


class AnswerRefused(httpx.HTTPError, LlmswitchError):
    """An answer llmswitch will not read or follow; ``outcome`` is what the probe calls it."""

    outcome: Outcome = Outcome.NOT_OPENAI

    def __init__(self, cause: str, fix: str | None = None, *, subject: str | None = None) -> None:
        LlmswitchError.__init__(self, cause, fix, subject=subject)
        self._request: httpx.Request | None = None


class EncodingRefused(AnswerRefused):
    """Stacked, unknown or corrupt ``Content-Encoding``, or more decoded bytes than the cap."""


class RedirectRefused(AnswerRefused):
    """A redirect to another origin (or to an address with credentials): not followed."""

    outcome = Outcome.REDIRECTED

    def __init__(self, cause: str, fix: str | None = None, *, subject: str | None = None,
                 suggested_base_url: str | None = None) -> None:
        super().__init__(cause, fix, subject=subject)
        self.suggested_base_url = suggested_base_url


def _shown(value: str) -> str:
    return terminal_safe(value, 60)


def decoder_for(content_encoding: str | None) -> Decoder:
    """The decoder for a ``Content-Encoding`` header; ``EncodingRefused`` when stacked or unsupported."""
    names = [part.strip().lower() for part in (content_encoding or "").split(",")]
    names = [name for name in names if name and name != "identity"]
    if len(names) > 1:
        raise EncodingRefused(f"not OpenAI-compatible: stacked content-encoding {_shown(', '.join(names))} (refused)",
                              "an API compresses an answer once at most; check base_url and any proxy in between")
    if names and names[0] not in _NAMES:
        raise EncodingRefused(f"not OpenAI-compatible: unsupported content-encoding {_shown(names[0])}",
                              f"{_CHECK_BASE} (llmswitch reads plain, gzip and deflate answers)")
    return Decoder(_NAMES[names[0]] if names else "identity")


class Decoder:
    """Incremental decoding of one encoding, at most :data:`PIECE` bytes per step.

    ``feed`` is a generator: decoding happens only as its pieces are taken, so a reader
    that stops at its cap stops the work. Data after the end of a gzip/deflate stream is ignored.
    """

    def __init__(self, encoding: str) -> None:
        self.encoding = encoding
        self._inflate: Any = None
        # deflate input, kept until its first two bytes prove a zlib header (else it is raw deflate)
        self._early: bytes | None = b"" if encoding == "deflate" else None
        self._ended = False
        if encoding == "gzip":
            self._inflate = zlib.decompressobj(16 + zlib.MAX_WBITS)
        elif encoding == "deflate":
            self._inflate = zlib.decompressobj()

    def feed(self, data: bytes) -> Iterator[bytes]:
        """The decoded pieces of ``data`` (the next bytes of the body)."""
        if self._inflate is None:
            if data:
                yield data
            return
        if self._ended or not data:
            return
        try:
            yield from self._pieces(data)
        except zlib.error as exc:
            raise EncodingRefused(f"not OpenAI-compatible: the answer's {self.encoding} encoding is corrupt",
                                  f"{_CHECK_BASE}; a proxy in between may be mangling answers") from exc

    def _pieces(self, data: bytes) -> Iterator[bytes]:
        if self._early is not None:
            self._early += data
        while True:
            try:
                out = self._inflate.decompress(data, PIECE)
            except zlib.error:
                if self._early is None or self.encoding != "deflate":
                    raise
                # no zlib header: "deflate" sent as raw deflate, which servers often do
                self._inflate, data, self._early = zlib.decompressobj(-zlib.MAX_WBITS), self._early, None
                continue
            if self._early is not None and len(self._early) >= 2:
                self._early = None  # the two header bytes passed: it is zlib-wrapped
            if out:
                yield out
            if self._inflate.eof:
                self._ended = True
                return
            data = self._inflate.unconsumed_tail
            if not data and len(out) < PIECE:
                return


class _Cap:
    """Counts raw and decoded bytes; refuses an answer inflating past the floor at a bomb's ratio."""

    def __init__(self, where: str, floor: int = SDK_DECODED_FLOOR, ratio: int = SDK_MAX_RATIO) -> None:
        self.where, self.floor, self.ratio = where, floor, ratio
        self.raw = self.decoded = 0

    def __call__(self, piece: bytes) -> bytes:
        self.decoded += len(piece)
        if self.decoded > self.floor and self.decoded > self.ratio * self.raw:
            raise EncodingRefused(f"the answer from {self.where} inflates to over {self.floor // (1024 * 1024)} MiB, "
                                  f"more than {self.ratio} times its compressed size (refused: a compression bomb?)",
                                  f"{_CHECK_BASE}; a proxy in between may be misbehaving")
        return piece


class _DecodedStream(httpx.SyncByteStream):
    def __init__(self, raw: httpx.SyncByteStream, encoding: str, cap: _Cap) -> None:
        self._raw, self._encoding, self._cap = raw, encoding, cap

    def __iter__(self) -> Iterator[bytes]:
        decoder: Decoder | None = None
        for chunk in self._raw:
            if chunk:
                self._cap.raw += len(chunk)
                decoder = decoder or decoder_for(self._encoding)
                for piece in decoder.feed(chunk):
                    yield self._cap(piece)

    def close(self) -> None:
        self._raw.close()


async def _decode(raw: AsyncIterable[bytes], encoding: str, cap: _Cap) -> AsyncIterator[bytes]:
    decoder: Decoder | None = None
    async for chunk in raw:
        if chunk:
            cap.raw += len(chunk)
            decoder = decoder or decoder_for(encoding)
            for piece in decoder.feed(chunk):
                yield cap(piece)


class _AsyncDecodedStream(httpx.AsyncByteStream):
    def __init__(self, raw: httpx.AsyncByteStream, encoding: str, cap: _Cap) -> None:
        self._raw, self._encoding, self._cap = raw, encoding, cap

    def __aiter__(self) -> AsyncIterator[bytes]:
        return _decode(self._raw, self._encoding, self._cap)

    async def aclose(self) -> None:
        await self._raw.aclose()


class _Guard:
    """The response hook of :func:`sdk_client`: refuse cross-origin redirects, decode with a cap."""

    def __init__(self, base_url: str, provider: str | None) -> None:
        self.base_url, self.origin, self.provider = base_url, urls.origin(base_url), provider
        self.base_path = httpx.URL(base_url).path.rstrip("/")

    def check(self, response: httpx.Response) -> None:
        if response.has_redirect_location:
            self._check_redirect(response)
        encoding = response.headers.get("content-encoding")
        if encoding:
            host, port = urls.host_port(str(response.url))
            cap = _Cap(f"{host}:{port}")
            if isinstance(response.stream, httpx.AsyncByteStream):
                response.stream = _AsyncDecodedStream(response.stream, encoding, cap)
            elif isinstance(response.stream, httpx.SyncByteStream):
                response.stream = _DecodedStream(response.stream, encoding, cap)
            del response.headers["content-encoding"]  # decoded here; httpx must not decode again
            response.headers.pop("content-length", None)  # the encoded length: not the length of what is read

    def _check_redirect(self, response: httpx.Response) -> None:
        self.destination(response.status_code, response.url, response.headers["location"])

    def destination(self, status: int, url: httpx.URL, location: str) -> httpx.URL:
        """Where a redirect from ``url`` leads; :class:`RedirectRefused` when it leaves the origin."""
        from .probe.classifier import cross_origin_redirect

        try:
            destination = url.join(location)
        except Exception:  # noqa: BLE001 - any malformed Location is refused the same way
            raise RedirectRefused(f"redirected (HTTP {status}) to an invalid address",
                                  "point base_url at the API's own address", subject=self.provider) from None
        if destination.userinfo or urls.origin(str(destination)) != self.origin:
            suffix = url.path[len(self.base_path):] if url.path.startswith(self.base_path) else ""
            summary, fix, suggested = cross_origin_redirect(status, str(destination), suffix)
            raise RedirectRefused(summary, fix, subject=self.provider, suggested_base_url=suggested)
        return destination

    async def acheck(self, response: httpx.Response) -> None:
        self.check(response)


def redirect_destination(base_url: str, provider: str | None, status: int, url: httpx.URL,
                         location: str) -> httpx.URL:
    """Where a redirect (HTTP ``status``, ``Location: location``) from ``url`` leads, when it stays within
    ``base_url``'s origin; :class:`RedirectRefused` otherwise (the rule :func:`sdk_client` follows)."""
    return _Guard(base_url, provider).destination(status, url, location)


def decoded(raw: AsyncIterable[bytes], encoding: str, where: str) -> AsyncIterator[bytes]:
    """``raw`` (an answer sent with ``Content-Encoding: encoding``) decoded piece by piece, refused with
    :class:`EncodingRefused` when it inflates like a bomb (the cap :func:`sdk_client` applies; ``where``
    names the server)."""
    return _decode(raw, encoding, _Cap(where))


def sdk_client(base_url: str, *, asynchronous: bool = False,
               provider: str | None = None) -> httpx.Client | httpx.AsyncClient:
    """The httpx client for an ``openai`` client talking to ``base_url``.

    Follows redirects within ``base_url``'s origin only (a redirect elsewhere raises
    :class:`RedirectRefused` before anything is sent there), asks for the encodings
    :class:`Decoder` reads, and refuses a compressed answer that inflates like a bomb
    (see ``SDK_MAX_RATIO``). ``provider`` names the subject of those errors.
    """
    guard = _Guard(base_url, provider)
    headers = {"accept-encoding": ACCEPT_ENCODING}
    limits = httpx.Limits(max_connections=MAX_CONNECTIONS, max_keepalive_connections=MAX_KEEPALIVE)
    if asynchronous:
        return httpx.AsyncClient(follow_redirects=True, headers=headers, limits=limits,
                                 event_hooks={"response": [guard.acheck]})
    return httpx.Client(follow_redirects=True, headers=headers, limits=limits, event_hooks={"response": [guard.check]})
