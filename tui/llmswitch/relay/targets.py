"""Where one request goes: its ``model`` (a role or ``PROVIDER/MODEL``) read against the selection *now*.

A role is resolved from the scopes on every request, so ``llmswitch use`` anywhere reaches the
next request of every client. A role may fail over along its ``[failover]`` chain in
``config.toml``: the selection first, always, then each entry not cooling down. ``PROVIDER/MODEL``
is that provider exactly, never another. No httpx here.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ..base.errors import LlmswitchError

if TYPE_CHECKING:
    from ..store.config import Config, ProviderConfig

ROLES = ("default", "small", "embedding")
"""The roles a client names as its model; any other role set in the selection is accepted too."""
FORMS = "a role (default, small or embedding) or PROVIDER/MODEL (e.g. groq/llama-3.3-70b-versatile)"
DEFAULT_COOLDOWN = 30.0
"""Seconds a provider that failed is skipped as a chain entry when it did not say (``Retry-After``)."""
MAX_COOLDOWN = 3600.0


class Refused(LlmswitchError):
    """A request the relay answers itself, with ``status`` and one sentence, in the client's protocol."""

    def __init__(self, status: int, cause: str, fix: str | None = None, *, code: str | None = None) -> None:
        super().__init__(cause, fix)
        self.status = status
        self.code = code


@dataclass(frozen=True)
class Upstream:
    """One place a request may go."""

    provider: ProviderConfig
    model: str
    role: str | None
    """The role the client asked for (None for ``PROVIDER/MODEL``)."""
    chained: bool = False
    """From the role's failover chain (a cooldown may skip it); False for the selection itself."""

    @property
    def ref(self) -> str:
        return f"{self.provider.id}/{self.model}"


@dataclass
class Cooldowns:
    """Providers that failed, skipped as chain entries until their time is up (the selection is always tried)."""

    until: dict[str, float] = field(default_factory=dict)

    def cooling(self, provider: str, now: float | None = None) -> bool:
        return self.until.get(provider, 0.0) > (time.monotonic() if now is None else now)

    def cool(self, provider: str, seconds: float | None) -> None:
        wait = DEFAULT_COOLDOWN if seconds is None else min(max(seconds, 0.0), MAX_COOLDOWN)
        self.until[provider] = max(self.until.get(provider, 0.0), time.monotonic() + wait)


def retry_after(value: str | None) -> float | None:
    """Seconds from a ``Retry-After`` header (seconds or an HTTP date); None when absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    try:
        return float(value)
    except ValueError:
        pass
    from email.utils import parsedate_to_datetime

    try:
        return parsedate_to_datetime(value).timestamp() - time.time()
    except (TypeError, ValueError):
        return None


def plan(asked: object, config: Config) -> list[Upstream]:
    """Where a request for model ``asked`` goes, in order: the selection, then its role's chain."""
    if not isinstance(asked, str) or not asked.strip():
        raise Refused(400, "the request names no model", f"send model as {FORMS}", code="model")
    asked = asked.strip()
    if "/" in asked:
        return [_exact(asked, config)]
    from ..store import scopes
    from ..store.selection import _role_name

    looked = scopes.Scopes(quiet=True)
    if not _role_name().match(asked) or (asked not in ROLES and asked not in looked.roles()):
        raise Refused(400, f"model {asked!r} is not something the relay forwards", f"send model as {FORMS}",
                      code="model")
    from ..base.errors import NoSelection
    from ..store import keys

    try:
        sel = looked.resolve(asked).selection
    except NoSelection as exc:
        raise Refused(400, f"role {asked} has no selection ({exc.cause})", exc.fix or f"run: llmswitch use --role {asked} "
                      "PROVIDER/MODEL", code="model") from None
    out = [Upstream(keys.provider_for(sel, config), sel.model, asked)]
    for ref in config.failover.get(asked, ()):
        try:
            entry = _exact(ref, config)
        except Refused:
            continue  # config validation names it; a chain entry gone bad is skipped, never fatal
        if entry.ref != out[0].ref:
            out.append(Upstream(entry.provider, entry.model, asked, chained=True))
    return out


def _exact(ref: str, config: Config) -> Upstream:
    from ..store.refs import SwitchError, parse_ref

    try:
        provider, model = parse_ref(ref, config)
    except SwitchError as exc:
        raise Refused(400, f"model {ref!r}: {exc.cause}", exc.fix or f"send model as {FORMS}", code="model") from None
    return Upstream(provider, model, None)
