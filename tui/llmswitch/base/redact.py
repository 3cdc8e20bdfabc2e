"""Keeping secrets and hostile text out of what we show.

Stdlib only: used on the read path and in error messages everywhere.
"""

from __future__ import annotations

import re

from . import chars


def redact_key(secret: str | None) -> str:
    """A recognisable but useless form of a key: ``sk-or-…f3a9``.

    Keeps a vendor prefix (up to the last dash of the first 8 characters) and
    the last four characters, and only when the key is long enough that this
    reveals almost nothing.
    """
    if not secret:
        return "(none)"
    if len(secret) < 16:
        return "…" + "*" * 4
    head = secret[:8]
    cut = head.rfind("-")
    prefix = head[: cut + 1] if cut > 0 else ""
    return f"{prefix}…{secret[-4:]}"


SECRET_HEADERS = frozenset({"authorization", "api-key", "x-api-key", "proxy-authorization", "cookie"})
"""Header names that carry the credential itself; refused as literal headers in config.toml."""

_SECRET_WORDS = ("key", "token", "secret", "auth", "cookie", "password")


def is_secret_header(name: str) -> bool:
    """True for a header that may carry a credential: the names above, or one with a secret word in it."""
    lowered = name.lower()
    return lowered in SECRET_HEADERS or any(word in lowered for word in _SECRET_WORDS)


def redact_header(name: str, value: str) -> str:
    """A header value fit to show: a credential header's value redacted (keeping an auth scheme
    such as ``Bearer``), and in any other header every key-shaped word (``Helicone-Auth``,
    ``X-Goog-Api-Key`` or ``X-Anything: Bearer sk-…``: redacted by value, whatever the name)."""
    if is_secret_header(name):
        scheme, _, token = value.partition(" ")
        if token and scheme.isalpha() and len(scheme) <= 12:
            return f"{scheme} {redact_key(token)}"
        return redact_key(value)
    return redact_secrets(value)


_KEY_PREFIX = re.compile(r"^(sk|gsk|pk|rk|xai|key|api|tok|ghp|glpat|AIza)[-_]", re.I)
_JWT = re.compile(r"^eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*$")
_WORD = re.compile(r"[^\s\"',;&=<>()\[\]{}/?#@:]+")


def looks_like_secret(value: object) -> bool:
    """True for strings shaped like an API key (long, no spaces, letters and digits or a key prefix) or a JWT."""
    if not isinstance(value, str) or len(value) < 16 or any(ch.isspace() for ch in value):
        return False
    if _KEY_PREFIX.match(value) or _JWT.match(value):
        return True
    return len(value) >= 24 and any(ch.isdigit() for ch in value) and any(ch.isalpha() for ch in value) \
        and "/" not in value and "." not in value


def redact_secrets(text: str) -> str:
    """``text`` with each key-shaped word in it redacted (``Bearer sk-live-…5678``); other words untouched.

    Words are split at spaces, quotes and URL/list punctuation, so a key in a query string
    or a path segment is found too."""
    return _WORD.sub(lambda m: redact_key(m.group()) if looks_like_secret(m.group()) else m.group(), text)


def _holds_secret(value: object, depth: int = 0) -> bool:
    if looks_like_secret(value):
        return True
    if depth > 20:
        return True  # absurd nesting: do not show it either
    if isinstance(value, dict):
        return any(_holds_secret(k, depth + 1) or _holds_secret(v, depth + 1) for k, v in value.items())
    if isinstance(value, (list, tuple, set)):
        return any(_holds_secret(v, depth + 1) for v in value)
    return False


def shown(value: object, limit: int = 60) -> str:
    """``repr(value)`` for an error message, except that nothing shaped like a key is ever shown."""
    if _holds_secret(value):
        return "(a value shaped like a key, not shown)"
    text = repr(value)
    return terminal_safe(text if len(text) <= limit else text[: limit - 1] + "…")


MIN_SECRET_LENGTH = 8
"""A secret shorter than this (LiteLLM's conventional ``sk-1234``, ``ollama``) is scrubbed only
where it stands alone: replacing it inside longer words would mangle ordinary text."""


def scrub(text: str, secret: str | None) -> str:
    """Replace every occurrence of ``secret`` in ``text`` by its redacted form.

    The secret is known exactly, so it is scrubbed whatever its length; a short one (see
    ``MIN_SECRET_LENGTH``) only where it is not part of a longer word.
    """
    if not secret or secret not in text:
        return text
    shown = redact_key(secret)
    if len(secret) >= MIN_SECRET_LENGTH:
        return text.replace(secret, shown)
    return re.sub(rf"(?<![\w-]){re.escape(secret)}(?![\w-])", lambda _: shown, text)


terminal_safe = chars.terminal_safe
"""The one terminal-safe renderer lives in :mod:`llmswitch.base.chars`; these names stay for its many callers."""
terminal_safe_lines = chars.terminal_safe_lines
