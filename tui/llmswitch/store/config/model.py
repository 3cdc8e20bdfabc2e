"""What the providers file describes: providers, the parsed file, and the tables of its fields.

No parsing here (see :mod:`.validate`) and no writing (see :mod:`.edit`).
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ...base import errors, urls
from ...base.errors import UnknownProvider
from ...base.redact import looks_like_secret, shown, terminal_safe

if TYPE_CHECKING:
    from ..catalog import Preset

__all__ = [
    "DEFAULT_TIMEOUT", "HEADER_SOURCE_FIELDS", "PREFERENCE_FIELDS", "PROVIDER_FIELDS", "SECRET_FIELD_NAMES", "TOP_LEVEL", "Config",
    "HeaderSource", "PROVIDER_ID", "Problem", "ProviderConfig", "did_you_mean", "id_for_commands", "plain_http", "plain_http_warning", "provider_from_preset", "unknown_provider",
    "unknown_provider_message",
]

PROVIDER_FIELDS = {
    "name": "display name shown in lists",
    "preset": "catalog/local preset this provider starts from",
    "kind": "API kind: openai, azure or anthropic",
    "base_url": "endpoint root, e.g. https://openrouter.ai/api/v1",
    "key_source": 'where the key comes from: "keyring", "env:VAR", "command:CMD" or "none"',
    "key_required": "false when the server works without a key",
    "headers": 'extra HTTP headers: "Name" = "value", or "Name" = { env = "VAR" } / { keyring = "ENTRY" } for a secret',
    "favorites": "model ids pinned to the top of lists",
    "timeout": "probe/request timeout in seconds",
    "api_version": "Azure OpenAI api-version",
}
PREFERENCE_FIELDS = {"probe_timeout": "default probe timeout in seconds", "recent_limit": "how many recent models to remember",
                     "confirm_costly": "ask before switching to a much dearer model or on a nearly spent budget",
                     "budget_warn_share": "share of a budget (0 to 1) below which a switch asks first"}
TOP_LEVEL = {"version", "preferences", "providers", "failover"}
SECRET_FIELD_NAMES = {"api_key", "apikey", "key", "token", "secret", "password", "api_token", "access_token"}
HEADER_SOURCE_FIELDS = {"env": "the environment variable holding the value",
                        "keyring": "the keyring entry (service llmswitch) holding the value",
                        "prefix": 'text put before the secret, e.g. "Bearer "'}
DEFAULT_TIMEOUT = 10.0


class Problem(errors.Problem):
    """:class:`llmswitch.base.errors.Problem`, which every file problem is.

    Transitional: it also answers to the old name ``message`` (the cause), as a keyword and in
    :meth:`as_dict`, for callers not yet moved to ``cause``. When none is left this class
    becomes ``Problem = errors.Problem``.
    """

    __slots__ = ()

    def __init__(self, cause: str | None = None, fix: str | None = None, *, message: str | None = None,
                 file: str | None = None, line: int | None = None, key: str | None = None,
                 severity: str = "error") -> None:
        super().__init__(cause if cause is not None else message or "", fix, file=file, line=line, key=key,
                         severity=severity)

    @property
    def message(self) -> str:
        """Deprecated name of ``cause``."""
        return self.cause

    def as_dict(self) -> dict[str, Any]:
        return {**super().as_dict(), "message": self.cause}


PROVIDER_ID = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}$")
"""What a provider id may be: it names a TOML table, a keyring entry and an env var suffix."""


@dataclass(frozen=True)
class HeaderSource:
    """A header whose value is a secret kept outside the file: an env var or its own keyring entry.

    Written ``"Helicone-Auth" = { env = "HELICONE_API_KEY", prefix = "Bearer " }`` or
    ``"cf-aig-authorization" = { keyring = "gw:gateway" }``; resolved by
    :func:`llmswitch.store.keys.headers_for`, never written anywhere.
    """

    name: str
    """The HTTP header name."""
    env: str | None = None
    """The env var holding the value (exactly one of ``env`` and ``keyring`` is set)."""
    keyring: str | None = None
    """The keyring username (service ``llmswitch``) holding the value."""
    prefix: str = ""
    """Sent before the secret (``Bearer ``)."""

    def source_text(self) -> str:
        """``env HELICONE_API_KEY`` or ``keyring llmswitch/gw:gateway``: where the value is looked for."""
        return f"env {self.env}" if self.env else f"keyring llmswitch/{self.keyring}"


@dataclass(frozen=True)
class ProviderConfig:
    """One provider, as configured or as implied by a preset."""

    id: str
    name: str
    base_url: str | None
    """Normalised endpoint root (no trailing slash)."""
    kind: str = "openai"
    key_source: str = "keyring"
    """keyring | env | command | none (:data:`llmswitch.store.selection.KEY_SOURCES`)."""
    key_env: tuple[str, ...] = ()
    """Env vars tried after the keyring (or the one named by ``env:VAR``)."""
    key_command: str | None = None
    key_required: bool = True
    headers: dict[str, str] = field(default_factory=dict)
    """Literal, non-secret headers (credential-like names and key-shaped values are refused)."""
    favorites: tuple[str, ...] = ()
    timeout: float = DEFAULT_TIMEOUT
    preset: str | None = None
    api_version: str | None = None
    configured: bool = True
    """False when the provider comes from a preset with no config entry."""
    local: bool = False
    key_check_path: str | None = None
    start_hint: str | None = None
    header_sources: tuple[HeaderSource, ...] = ()
    """Headers whose secret value comes from an env var or the keyring (see :class:`HeaderSource`)."""
    origin: str | None = None
    """None for config.toml (or a preset); the team file's source (URL or path) for a shared provider."""
    reads_override: bool = True
    """Whether ``LLMSWITCH_KEY_<ID>`` is consulted: always for your own providers; for a team provider only
    once you accepted that variable (``team add|update --accept-env LLMSWITCH_KEY_<ID>``)."""

    def key_source_text(self) -> str:
        """The ``key_source`` value as written in config.toml."""
        if self.key_source == "env":
            return f"env:{self.key_env[0]}" if self.key_env else "env"
        if self.key_source == "command":
            return f"command:{self.key_command}"
        return self.key_source


@dataclass(frozen=True)
class Config:
    """The parsed providers file."""

    path: Path
    exists: bool
    providers: dict[str, ProviderConfig]
    probe_timeout: float = DEFAULT_TIMEOUT
    recent_limit: int = 20
    warnings: tuple[errors.Problem, ...] = ()
    confirm_costly: bool = True
    """False: a switch never asks about prices or budgets (``--yes`` does that once)."""
    budget_warn_share: float = 0.1
    """Below this share of a gateway's budget left, a switch to a paid model asks first."""
    failover: dict[str, tuple[str, ...]] = field(default_factory=dict)
    """``[failover]``: role → the ``PROVIDER/MODEL`` references the relay tries, in order, after the role's
    selection fails (``llmswitch relay``); a role not named here never fails over."""

    def provider(self, provider_id: str) -> ProviderConfig:
        """A configured provider, else one implied by a preset; raises UnknownProvider."""
        if provider_id in self.providers:
            return self.providers[provider_id]
        from .. import catalog

        found = catalog.preset(provider_id)
        if found is not None:
            if found.id in self.providers:
                return self.providers[found.id]
            return provider_from_preset(found)
        raise unknown_provider(provider_id, self)

    def known_ids(self) -> list[str]:
        from .. import catalog

        return sorted(set(self.providers) | set(catalog.preset_ids()))


def did_you_mean(name: str, candidates: list[str] | set[str] | tuple[str, ...], *, n: int = 3) -> list[str]:
    """At most ``n`` close matches, each terminal-safe and short (never a line of thousands of ids)."""
    close = difflib.get_close_matches(name, list(candidates), n=n, cutoff=0.6)
    return [terminal_safe(c, 40) for c in close[:n]]


def id_for_commands(provider_id: str) -> str:
    """``provider_id`` when it can be typed in a suggested command, else ``ID`` (never a key, never escapes)."""
    return provider_id if PROVIDER_ID.match(provider_id) and not looks_like_secret(provider_id) else "ID"


def unknown_provider(provider_id: str, config: Config) -> UnknownProvider:
    """A provider id neither configured nor a preset: the did-you-mean in the cause, how to add it as the fix."""
    close = did_you_mean(provider_id, config.known_ids())
    hint = f" (did you mean {', '.join(close)}?)" if close else ""
    return UnknownProvider(f"unknown provider {shown(provider_id, 40)}{hint}",
                           f"run `llmswitch list --presets` to see presets, or add it: "
                           f"llmswitch providers add {id_for_commands(provider_id)} --base-url URL")


def unknown_provider_message(provider_id: str, config: Config) -> str:
    """The sentence of :func:`unknown_provider` (for callers that print text)."""
    return unknown_provider(provider_id, config).sentence()


def provider_from_preset(preset: Preset, overrides: dict[str, Any] | None = None) -> ProviderConfig:
    """The provider a preset implies, before any config.toml settings (and a key, when a probe saw one wanted)."""
    from .. import state

    base_url = preset.resolved_base_url()
    return ProviderConfig(
        id=preset.id,
        name=preset.name,
        base_url=base_url,
        kind=preset.kind,
        key_env=preset.key_env,
        key_required=preset.key_required or state.needs_key(preset.id, base_url),
        preset=preset.id,
        configured=False,
        local=preset.local,
        key_check_path=preset.key_check_path,
        start_hint=preset.start_hint,
        **(overrides or {}),
    )


def plain_http(provider: ProviderConfig) -> tuple[str, str] | None:
    """``(cause, fix)`` when a key would cross the network unencrypted, else None."""
    if not provider.base_url or not provider.base_url.startswith("http://") or urls.is_loopback(provider.base_url):
        return None
    if provider.key_source == "none":
        return None
    host = urls.host_of(provider.base_url)
    return (f"a key would be sent over plain http to {host}",
            'use https, or set key_source = "none" if that server needs no key')


def plain_http_warning(provider: ProviderConfig) -> str | None:
    """:func:`plain_http` as one sentence about the provider."""
    found = plain_http(provider)
    return f"{provider.id}: {found[0]} — {found[1]}" if found else None
