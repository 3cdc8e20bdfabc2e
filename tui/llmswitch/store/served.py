"""What a server was seen to serve, kept between runs (state dir ``served/ID.json``; safe to delete).

* the protocol fingerprint of a provider's base URL (:data:`llmswitch.base.outcome.PROTOCOLS` → served,
  not served, not known), with when it was taken; it is fresh for :data:`FINGERPRINT_MAX_AGE` (a day), and
  a plain probe takes it only when there is no fresh one (:func:`fingerprint_due`);
* the context window each model is served with, as the last probe read it from the server.

:func:`serves` is the one answer to "does this provider serve this protocol?": the fingerprint where it
knows, else what the preset's documentation says (``Preset.serves``, then the API kind's), else None.
Stdlib only: ``connect`` and the relay ask it without loading the transport.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..base import paths
from ..base.outcome import PROTOCOLS, ServedContext

if TYPE_CHECKING:
    from ..base.outcome import ProbeResult
    from .config import ProviderConfig

__all__ = ["FINGERPRINT_MAX_AGE", "Contexts", "Fingerprint", "contexts", "fingerprint", "fingerprint_due",
           "remember", "serves", "static_serves"]

FINGERPRINT_MAX_AGE = 86400.0
"""Seconds a protocol fingerprint stays fresh: a plain probe does not take it again before."""


def _now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def _age(when: datetime, now: datetime | None = None) -> float:
    return max(0.0, ((now or _now()) - when).total_seconds())


@dataclass(frozen=True)
class Fingerprint:
    """The protocols a base URL was seen to serve, and when."""

    protocols: dict[str, bool | None]
    checked: datetime

    def age(self, now: datetime | None = None) -> float:
        """Seconds since it was taken."""
        return _age(self.checked, now)

    @property
    def fresh(self) -> bool:
        return self.age() <= FINGERPRINT_MAX_AGE


@dataclass(frozen=True)
class Contexts:
    """The context windows a base URL's server said it serves, per model, and when it said so."""

    models: dict[str, ServedContext]
    read: datetime

    def age(self, now: datetime | None = None) -> float:
        return _age(self.read, now)


def _path(provider_id: str) -> Path:
    return paths.state_dir() / "served" / f"{provider_id}.json"


def _document(provider_id: str, base_url: str | None) -> dict[str, Any] | None:
    if not base_url:
        return None
    try:
        document = json.loads(_path(provider_id).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(document, dict) or document.get("base_url") != base_url:
        return None
    return document


def _when(value: Any) -> datetime | None:
    try:
        moment = datetime.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None
    return moment if moment is not None and moment.tzinfo is not None else None


def remember(result: ProbeResult, base_url: str | None) -> None:
    """Keep what a probe read about protocols and contexts (called by :func:`llmswitch.store.state.remember`).

    A fingerprint is written when this probe took one (``result.protocols_checked`` is new); contexts when
    the probe read any. What the probe did not read stays as it was.
    """
    from ..base.files import atomic_write, locked

    if not base_url or (result.protocols is None and not result.served):
        return
    path = _path(result.provider)
    with locked(path):
        document = _document(result.provider, base_url) or {"provider": result.provider, "base_url": base_url}
        if result.protocols is not None and result.protocols_checked and (
                result.protocols_checked != document.get("protocols_checked")):
            document["protocols"] = {p: result.protocols.get(p) for p in PROTOCOLS}
            document["protocols_checked"] = result.protocols_checked
        if result.served:
            document["contexts"] = [{"model": c.model, "served": c.served, "served_source": c.served_source,
                                     "model_max": c.model_max, "model_max_source": c.model_max_source}
                                    for c in result.served]
            document["contexts_read"] = _now().isoformat()
        atomic_write(path, json.dumps(document, indent=1).encode())


def fingerprint(provider_id: str, base_url: str | None) -> Fingerprint | None:
    """The last protocol fingerprint taken at this base URL (of any age), or None."""
    document = _document(provider_id, base_url)
    if document is None:
        return None
    taken, found = _when(document.get("protocols_checked")), document.get("protocols")
    if taken is None or not isinstance(found, dict):
        return None
    return Fingerprint({p: found[p] if isinstance(found.get(p), bool) else None for p in PROTOCOLS}, taken)


def fingerprint_due(provider_id: str, base_url: str | None) -> bool:
    """True when no fresh fingerprint is kept for this base URL: the next probe takes one."""
    found = fingerprint(provider_id, base_url)
    return found is None or not found.fresh


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else None


def _text(value: Any) -> str | None:
    from ..base.redact import terminal_safe

    return terminal_safe(value, 120) if isinstance(value, str) and value else None


def contexts(provider_id: str, base_url: str | None) -> Contexts | None:
    """The context windows the last probe read at this base URL, or None when it read none."""
    document = _document(provider_id, base_url)
    read = _when(document.get("contexts_read")) if document else None
    rows = document.get("contexts") if document else None
    if read is None or not isinstance(rows, list):
        return None
    models: dict[str, ServedContext] = {}
    for row in rows:
        if isinstance(row, dict) and isinstance(row.get("model"), str):
            models[row["model"]] = ServedContext(row["model"], _int(row.get("served")), _text(row.get("served_source")),
                                                 _int(row.get("model_max")), _text(row.get("model_max_source")))
    return Contexts(models, read)


def static_serves(provider: ProviderConfig) -> frozenset[str] | None:
    """What the provider's documentation says it serves: its preset's ``serves``, then its API kind's; None: unknown."""
    from . import catalog

    for name in (provider.preset, provider.id):
        documented = catalog.served_by(name)
        if documented:
            return documented
    return catalog.KIND_SERVES.get(provider.kind)


def serves(provider: ProviderConfig, protocol: str) -> bool | None:
    """Does ``provider`` serve ``protocol`` (a name of :data:`PROTOCOLS`)? The one answer ``connect`` and the relay use.

    A fresh fingerprint of its base URL decides where it knows (True or False); otherwise the documented
    table (``Preset.serves``): True when it names the protocol, False when it lists others but not this
    one; None when nothing is known (the table names only :data:`llmswitch.store.catalog.PROTOCOLS`).
    """
    found = fingerprint(provider.id, provider.base_url)
    said = found.protocols.get(protocol) if found is not None and found.fresh else None
    if said is not None:
        return said
    from .catalog import PROTOCOLS as DOCUMENTED

    documented = static_serves(provider)
    if documented is None or protocol not in DOCUMENTED:
        return None  # the presets' table does not speak of count_tokens or embeddings
    return protocol in documented
