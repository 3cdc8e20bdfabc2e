"""Base URLs: the one place that says what a usable one is, and what its parts are.

The config validator, the provider editor, ``providers add`` and the probe all ask
:func:`problem`; the probe and the config share :func:`is_loopback`/:func:`is_local`.
(Not on the read path: it imports ``urllib``.)
"""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit, urlunsplit

from .redact import terminal_safe

__all__ = [
    "alternative_bases", "base_for", "host_of", "host_port", "is_local", "is_loopback", "join",
    "normalize", "origin", "problem", "safe",
]

_DEFAULT_PORTS = {"http": 80, "https": 443}


def problem(url: object, provider: str = "PROVIDER") -> tuple[str, str] | None:
    """``(cause, fix)`` when ``url`` must not be used as a base URL, else None.

    Refused: empty, no ``http(s)://``, another scheme, credentials in the authority, no
    host, a bad port, a ``#fragment`` or a ``?query`` (Azure's api-version has its own field).
    """
    if not isinstance(url, str) or not url.strip():
        return "base_url is empty", "set it to the endpoint root, e.g. http://127.0.0.1:8000/v1"
    url = url.strip()
    if "://" not in url:
        host = url.split("/", 1)[0].split(":", 1)[0].lower()
        local = host in ("localhost", "127.0.0.1", "0.0.0.0", "[::1]") or host.startswith(("192.168.", "10."))
        guess = terminal_safe(("http://" if local else "https://") + url, 200)
        return "base_url has no http:// or https://", f"change base_url to {guess}"
    try:
        parts = urlsplit(url)
        _ = parts.port  # urlsplit checks the port only when asked
    except ValueError:
        return "base_url has an invalid port or shape", "set base_url to something like https://host/v1"
    if parts.scheme.lower() not in ("http", "https"):
        scheme = terminal_safe(parts.scheme or "(none)", 20)
        return f"base_url scheme {scheme}: is not http or https", "base_url must start with http:// or https://"
    if parts.username is not None or parts.password is not None or "@" in parts.netloc:
        return ("base_url has credentials in it (user:pass@)",
                f"remove them and store the key with: llmswitch key set {provider}")
    if not parts.hostname:
        return "base_url has no host", "set base_url to something like https://host/v1"
    if parts.fragment:
        return "base_url contains a #fragment", "remove it from base_url"
    if parts.query:
        return "base_url contains a ?query", "remove it (for Azure set api_version instead)"
    return None


def normalize(url: str, provider: str = "PROVIDER") -> str:
    """The base URL stripped of surrounding space and trailing slashes; ValueError("cause — fix") if refused."""
    found = problem(url, provider)
    if found is not None:
        cause, fix = found
        raise ValueError(f"{cause} — {fix}")
    return url.strip().rstrip("/")


def is_loopback(url: str) -> bool:
    """True for ``localhost``, ``*.localhost`` and loopback addresses (traffic never leaves the machine)."""
    host = host_of(url)
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def is_local(url: str) -> bool:
    """Loopback, a private-network address, ``*.local`` or Docker's host name: a server of one's own."""
    host = host_of(url)
    if host in ("localhost", "host.docker.internal") or host.endswith((".local", ".localhost")):
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    return address.is_loopback or address.is_private


def safe(url: str) -> str:
    """The URL without any ``user:password@`` part, terminal-safe."""
    try:
        parts = urlsplit(url)
        if "@" in parts.netloc:
            parts = parts._replace(netloc=parts.netloc.rpartition("@")[2])
        return terminal_safe(urlunsplit(parts), 500)
    except ValueError:
        return terminal_safe(url.split("@")[-1], 500)


def join(base: str, path: str) -> str:
    """``base + path`` with any query string of ``base`` kept at the end."""
    parts = urlsplit(base)
    return urlunsplit((parts.scheme, parts.netloc, parts.path + path, parts.query, ""))


def base_for(url: str, suffix: str = "/models") -> str | None:
    """The base URL under which ``url`` asks ``suffix``: ``https://h/v1/models`` → ``https://h/v1``.

    None when the URL's path does not end in ``suffix`` (or cannot be parsed).
    """
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if not suffix or not parts.path.endswith(suffix):
        return None
    return urlunsplit((parts.scheme, parts.netloc, parts.path[: -len(suffix)], parts.query, ""))


def alternative_bases(base: str) -> list[str]:
    """The usual slips, in order: a trailing slash, a pasted endpoint, ``/v1`` missing or extra, and for a
    path that already ends in ``/v1`` under another prefix (``/api/v1``), the origin's own ``/v1``."""
    parts = urlsplit(base)
    path = parts.path
    paths: list[str] = []
    if path.endswith("/") and path.rstrip("/") != path:
        path = path.rstrip("/")
        paths.append(path)
    for endpoint in ("/chat/completions", "/completions", "/models"):
        if path.endswith(endpoint):
            path = path[: -len(endpoint)]
            paths.append(path)
            break
    if path.endswith("/v1"):
        paths.append(path[:-3])
        if path != "/v1":
            paths.append("/v1")
    else:
        paths.append(path + "/v1")
    out: list[str] = []
    for p in paths:
        candidate = urlunsplit((parts.scheme, parts.netloc, p, parts.query, ""))
        if candidate != base and candidate not in out:
            out.append(candidate)
    return out


def origin(url: str) -> tuple[str, str, int | None]:
    """``(scheme, host, port)`` with the default port filled in: what "the same server" means."""
    try:
        parts = urlsplit(url)
        scheme = parts.scheme.lower()
        return scheme, (parts.hostname or "").lower(), parts.port or _DEFAULT_PORTS.get(scheme)
    except ValueError:
        return "", url, None


def host_of(url: str) -> str:
    """The lower-cased host name, or ``""`` when the URL has none or cannot be parsed."""
    try:
        return (urlsplit(url).hostname or "").lower()
    except ValueError:
        return ""


def host_port(url: str) -> tuple[str, int]:
    """``(host, port)`` for sentences such as "nothing listens on 127.0.0.1:8080"."""
    _, host, port = origin(url)
    return host or "?", port or 0


# --- the API root and the key's header: one rule each ---------------------------------------------

def ends_in_v1(base_url: str) -> bool:
    """True when the base URL's path ends in ``/v1`` (``…/v1``, ``…/api/v1``, ``…/v1/``)."""
    try:
        return urlsplit(base_url).path.rstrip("/").endswith("/v1")
    except ValueError:
        return False


def api_root(base_url: str) -> str:
    """The base URL without a trailing ``/v1``: where ``/v1/messages``, ``/props`` or a proxy's management
    routes (``/key/info``, ``/model/info``) answer. ``http://h:4000/v1`` → ``http://h:4000``."""
    root = base_url.rstrip("/")
    return root[: -len("/v1")] if root.endswith("/v1") else root


ANTHROPIC_VERSION = "2023-06-01"
"""The ``anthropic-version`` header sent with every Anthropic Messages request."""
KEY_HEADERS = {"anthropic": "x-api-key", "azure": "api-key"}
"""The header each API kind carries the key in; every other kind sends ``Authorization: Bearer KEY``."""


def key_header(api_kind: str) -> str:
    """The header name the key travels in for ``api_kind`` (``Authorization`` for OpenAI-compatible servers)."""
    return KEY_HEADERS.get(api_kind, "Authorization")


def auth_headers(api_kind: str, key: str | None) -> dict[str, str]:
    """The headers that carry ``key`` (and Anthropic's version) for ``api_kind``; none but the version without a key."""
    sent = {"anthropic-version": ANTHROPIC_VERSION} if api_kind == "anthropic" else {}
    if key is not None:
        header = KEY_HEADERS.get(api_kind)
        sent[header or "authorization"] = key if header else f"Bearer {key}"
    return sent
