"""Reading an answer's bytes under caps, without httpx: one ``Content-Encoding`` decoded a piece at a time.

* :class:`Decoder` decodes one ``Content-Encoding`` (gzip or deflate) incrementally, in pieces of at most
  64 KiB, so a reader that stops at its cap stops the decoding too: a 590-byte answer that inflates to
  gigabytes costs one piece, not the gigabytes. Stacked encodings (``gzip, gzip``) and encodings we cannot
  decode are refused with a sentence.
* :func:`decoded` decodes a whole answer and refuses one that inflates like a bomb (the SDK client's and the
  relay's cap).

The probe reads through it directly; :mod:`llmswitch.net.http` (the ``httpx`` client handed to the SDK) raises
the same refusals as ``httpx.HTTPError`` subclasses as well.
"""

from __future__ import annotations

import zlib
from collections.abc import AsyncIterable, AsyncIterator, Iterator
from typing import Any

from ..base.errors import LlmswitchError
from ..base.outcome import Outcome
from ..base.redact import terminal_safe

__all__ = ["ACCEPT_ENCODING", "PIECE", "SDK_DECODED_FLOOR", "SDK_MAX_RATIO", "AnswerRefused", "Cap", "Decoder",
           "EncodingRefused", "RedirectRefused", "decoded", "decoder_for"]

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

_NAMES = {"gzip": "gzip", "x-gzip": "gzip", "deflate": "deflate"}
_CHECK_BASE = "check base_url points at an OpenAI-compatible API"


class AnswerRefused(LlmswitchError):
    """An answer llmswitch will not read or follow; ``outcome`` is what the probe calls it."""

    outcome: Outcome = Outcome.NOT_OPENAI


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


def decoder_for(content_encoding: str | None, refused: type[EncodingRefused] = EncodingRefused) -> Decoder:
    """The decoder for a ``Content-Encoding`` header; ``refused`` (an :class:`EncodingRefused`) when stacked or
    unsupported, and later when the data is corrupt."""
    names = [part.strip().lower() for part in (content_encoding or "").split(",")]
    names = [name for name in names if name and name != "identity"]
    if len(names) > 1:
        raise refused(f"not OpenAI-compatible: stacked content-encoding {_shown(', '.join(names))} (refused)",
                      "an API compresses an answer once at most; check base_url and any proxy in between")
    if names and names[0] not in _NAMES:
        raise refused(f"not OpenAI-compatible: unsupported content-encoding {_shown(names[0])}",
                      f"{_CHECK_BASE} (llmswitch reads plain, gzip and deflate answers)")
    return Decoder(_NAMES[names[0]] if names else "identity", refused)


class Decoder:
    """Incremental decoding of one encoding, at most :data:`PIECE` bytes per step.

    ``feed`` is a generator: decoding happens only as its pieces are taken, so a reader
    that stops at its cap stops the work. Data after the end of a gzip/deflate stream is ignored.
    """

    def __init__(self, encoding: str, refused: type[EncodingRefused] = EncodingRefused) -> None:
        self.encoding = encoding
        self._refused = refused
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
            raise self._refused(f"not OpenAI-compatible: the answer's {self.encoding} encoding is corrupt",
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


class Cap:
    """Counts raw and decoded bytes; refuses an answer inflating past the floor at a bomb's ratio."""

    def __init__(self, where: str, floor: int = SDK_DECODED_FLOOR, ratio: int = SDK_MAX_RATIO,
                 refused: type[EncodingRefused] = EncodingRefused) -> None:
        self.where, self.floor, self.ratio, self.refused = where, floor, ratio, refused
        self.raw = self.decoded = 0

    def __call__(self, piece: bytes) -> bytes:
        self.decoded += len(piece)
        if self.decoded > self.floor and self.decoded > self.ratio * self.raw:
            raise self.refused(f"the answer from {self.where} inflates to over {self.floor // (1024 * 1024)} MiB, "
                               f"more than {self.ratio} times its compressed size (refused: a compression bomb?)",
                               f"{_CHECK_BASE}; a proxy in between may be misbehaving")
        return piece


async def decode_capped(raw: AsyncIterable[bytes], encoding: str, cap: Cap) -> AsyncIterator[bytes]:
    """``raw`` decoded piece by piece under ``cap``."""
    decoder: Decoder | None = None
    async for chunk in raw:
        if chunk:
            cap.raw += len(chunk)
            decoder = decoder or decoder_for(encoding, cap.refused)
            for piece in decoder.feed(chunk):
                yield cap(piece)


def decoded(raw: AsyncIterable[bytes], encoding: str, where: str,
            refused: type[EncodingRefused] = EncodingRefused) -> AsyncIterator[bytes]:
    """``raw`` (an answer sent with ``Content-Encoding: encoding``) decoded piece by piece, refused with ``refused``
    when it inflates like a bomb (``where`` names the server)."""
    return decode_capped(raw, encoding, Cap(where, refused=refused))
