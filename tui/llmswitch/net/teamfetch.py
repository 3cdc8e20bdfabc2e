"""Fetching the team file: https (certificate verified, conditional on the last fetch) or a local path.

The store (:mod:`llmswitch.store.team`) keeps the record, the copy and the rules; this module is the
wire and the bounded read, so the store never imports the HTTP client.
"""

from __future__ import annotations

from pathlib import Path

from ..base import bounded, urls
from ..base.errors import LlmswitchError
from ..base.redact import terminal_safe
from ..store.team import MAX_BYTES, Fetched, Record, _refused

__all__ = ["fetch"]


def fetch(source: str, previous: Record | None = None, *, timeout: float = 15.0) -> Fetched:
    """The team file's bytes from https (certificate verified) or a local path; conditional when ``previous``.

    A local path is read through :func:`llmswitch.base.bounded.read_file` (a regular file, or a symlink to
    one, of at most 1 MiB: never a FIFO or a device); either way the bytes must decode as TOML within
    the bounds of :func:`llmswitch.base.bounded.decode_toml` before anything else looks at them.
    """
    if "://" not in source:
        shown = terminal_safe(source, 200)
        raw = bounded.read_file(Path(source).expanduser(), bounded.TEAM_FILE)
        if isinstance(raw, bounded.Refusal):
            fix = raw.fix if raw.problem != bounded.Problem.MISSING else "check the path"
            raise _refused(f"{shown} {raw.cause}", fix)
        return Fetched(_decodable(raw, shown))
    if not source.startswith("https://"):
        raise _refused(f"{urls.safe(source)} is not https", "fetch the team file over https (or give a local path)")
    fetched = _fetch_https(source, previous, timeout)
    if fetched.data is not None:
        _decodable(fetched.data, urls.safe(source))
    return fetched


def _decodable(data: bytes, where: str) -> bytes:
    """``data`` when it is TOML within bounds (size, nesting, numbers); a one-sentence refusal otherwise."""
    decoded = bounded.decode_toml(data, bounded.TEAM_FILE)
    later = (bounded.Problem.NOT_PARSED, bounded.Problem.NOT_TEXT)  # check() names the line (or byte) of those
    if decoded.refusal is not None and decoded.refusal.problem not in later:
        raise _refused(f"{where} {decoded.refusal.cause}", "ask whoever maintains the team file to fix it")
    return data


def _fetch_https(url: str, previous: Record | None, timeout: float) -> Fetched:
    import httpx

    from .http import sdk_client

    headers = {"accept": "application/toml, text/plain, */*"}
    if previous is not None and previous.source == url:
        if previous.etag:
            headers["if-none-match"] = previous.etag
        if previous.last_modified:
            headers["if-modified-since"] = previous.last_modified
    where = urls.safe(url)
    client = sdk_client(url, provider="team")
    assert isinstance(client, httpx.Client)
    try:
        with client, client.stream("GET", url, headers=headers, timeout=timeout) as response:
            if response.status_code == 304:
                return Fetched(None, previous.etag if previous else None, previous.last_modified if previous else None)
            body = bytearray()
            for piece in response.iter_bytes():
                body += piece
                if len(body) > MAX_BYTES:
                    raise _refused(f"{where} sent over {MAX_BYTES // 1024} KiB", "check the URL names a providers file")
            if response.status_code != 200:
                raise _refused(f"{where} answered HTTP {response.status_code}", "check the URL")
            return Fetched(bytes(body), response.headers.get("etag"), response.headers.get("last-modified"))
    except httpx.HTTPError as exc:
        if isinstance(exc, LlmswitchError):
            raise
        reason = "its certificate is not trusted" if "CERTIFICATE" in str(exc).upper() else type(exc).__name__
        raise _refused(f"could not fetch {where} ({reason})", "check the URL and your network "
                       "(llmswitch verifies certificates; SSL_CERT_FILE names an extra CA bundle)") from None
