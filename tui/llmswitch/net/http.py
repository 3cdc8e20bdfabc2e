"""What llmswitch reads over HTTP is bounded, and the key never follows a redirect to another origin.

* The decoding itself (:class:`~llmswitch.net.decoding.Decoder`: one ``Content-Encoding`` at a time, in pieces of
  at most 64 KiB, so a reader that stops at its cap stops the decoding too) is :mod:`llmswitch.net.decoding`,
  which the probe reads through without httpx.
* :func:`sdk_client` is the ``httpx`` client handed to the ``openai`` SDK (``chat``,
  ``llmswitch.client()``): the same decoding with a cap on amplification, and
  redirects followed only within the configured origin; one to another origin is an
  error saying what the probe says.

Errors are both ``httpx.HTTPError`` (callers of the SDK already catch those) and
:class:`~llmswitch.base.errors.LlmswitchError` (cause and fix as fields), and the refusals of
:mod:`~llmswitch.net.decoding` (what the probe looks for). They are not ``httpx.RequestError``, so the SDK does
not retry them or hide them as "Connection error".
"""

from __future__ import annotations

from collections.abc import AsyncIterable, AsyncIterator, Iterator

import httpx

from ..base import urls
from ..base.errors import LlmswitchError
from . import decoding
from .decoding import ACCEPT_ENCODING, PIECE, SDK_DECODED_FLOOR, SDK_MAX_RATIO, Cap, Decoder, decode_capped

__all__ = [
    "ACCEPT_ENCODING", "MAX_CONNECTIONS", "MAX_KEEPALIVE", "PIECE", "SDK_DECODED_FLOOR", "SDK_MAX_RATIO",
    "AnswerRefused", "Decoder", "EncodingRefused", "RedirectRefused", "decoded", "decoder_for", "redirect_destination",
    "sdk_client",
]

MAX_CONNECTIONS = 100
MAX_KEEPALIVE = 20
"""Connections per upstream client (open at once, kept idle for reuse)."""


class AnswerRefused(httpx.HTTPError, decoding.AnswerRefused):
    """An answer llmswitch will not read or follow; ``outcome`` is what the probe calls it."""

    def __init__(self, cause: str, fix: str | None = None, *, subject: str | None = None) -> None:
        LlmswitchError.__init__(self, cause, fix, subject=subject)
        self._request: httpx.Request | None = None


class EncodingRefused(AnswerRefused, decoding.EncodingRefused):
    """Stacked, unknown or corrupt ``Content-Encoding``, or more decoded bytes than the cap."""


class RedirectRefused(AnswerRefused, decoding.RedirectRefused):
    """A redirect to another origin (or to an address with credentials): not followed."""

    def __init__(self, cause: str, fix: str | None = None, *, subject: str | None = None,
                 suggested_base_url: str | None = None) -> None:
        super().__init__(cause, fix, subject=subject)
        self.suggested_base_url = suggested_base_url


def decoder_for(content_encoding: str | None) -> Decoder:
    """The decoder for a ``Content-Encoding`` header; :class:`EncodingRefused` when stacked or unsupported."""
    return decoding.decoder_for(content_encoding, EncodingRefused)


class _DecodedStream(httpx.SyncByteStream):
    def __init__(self, raw: httpx.SyncByteStream, encoding: str, cap: Cap) -> None:
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


class _AsyncDecodedStream(httpx.AsyncByteStream):
    def __init__(self, raw: httpx.AsyncByteStream, encoding: str, cap: Cap) -> None:
        self._raw, self._encoding, self._cap = raw, encoding, cap

    def __aiter__(self) -> AsyncIterator[bytes]:
        return decode_capped(self._raw, self._encoding, self._cap)

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
            cap = Cap(f"{host}:{port}", refused=EncodingRefused)
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
    return decoding.decoded(raw, encoding, where, EncodingRefused)


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
