"""What llmswitch remembers between runs (all safe to delete).

* the last model list each provider answered with (cache dir), so ``use``
  can warn about typos and REPL completion works offline;
* the last probe of each provider (state dir): its outcome and when, whether the server was
  seen to want a key (:func:`needs_key`, read when config.toml is loaded), and whether its
  ``GET /models`` was seen to refuse a request without the key (:func:`models_guarded`);
* what ``probe --deep`` settled about a key that a public model list could not (state dir):
  the server accepts any key, or this key was verified by a chat (:func:`deep_verdict`);
* recently used models (state dir), shown first in pickers.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..base import paths

if TYPE_CHECKING:
    from ..base.outcome import ProbeResult

RECENT_LIMIT = 20


def _models_path(provider_id: str) -> Path:
    return paths.cache_dir() / "models" / f"{provider_id}.json"


def _now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def remember_models(provider_id: str, base_url: str, models: list[str] | tuple[str, ...],
                    server: str | None = None) -> None:
    """Keep a provider's live model list (from a probe) and the software its fingerprint named."""
    from ..base.files import atomic_write

    document = {"provider": provider_id, "base_url": base_url, "models": list(models),
                "fetched": _now().isoformat(), "server": server}
    atomic_write(_models_path(provider_id), json.dumps(document, indent=1).encode())


def remember(result: ProbeResult, base_url: str | None) -> bool:
    """Keep what a probe learned about a provider: its outcome, whether it wants a key, its model list.

    The one place that decides which probe results are worth remembering, so the CLI, the
    picker, the editor, the wizard and the REPL agree: every finished probe's outcome (for
    ``llmswitch list``); the key requirement when the answer tells (:func:`needs_key`); the
    live model list when the answer was a real list (``probe.LISTED``, at least one model).
    Returns True when a model list was written.
    """
    from ..base.outcome import LISTED, Outcome

    if not base_url or result.outcome is Outcome.CANCELLED:
        return False
    _remember_probe(result, base_url)
    _remember_deep_verdict(result, base_url)
    from . import served

    served.remember(result, base_url)  # the protocol fingerprint and the served contexts (state dir served/)
    if not result.models or result.outcome not in LISTED:
        return False
    remember_models(result.provider, base_url, result.models, result.server)
    return True


def _models_document(provider_id: str, base_url: str | None) -> dict[str, Any] | None:
    try:
        document = json.loads(_models_path(provider_id).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(document, dict) or not isinstance(document.get("models"), list):
        return None
    if base_url is not None and document.get("base_url") != base_url:
        return None
    return document


def known_models(provider_id: str, base_url: str | None = None) -> list[str] | None:
    """The last live model list, or None (never probed, or probed at another URL)."""
    document = _models_document(provider_id, base_url)
    return None if document is None else [m for m in document["models"] if isinstance(m, str)]


def known_server(provider_id: str, base_url: str | None = None) -> str | None:
    """The software the last listing probe's fingerprint named (``LiteLLM proxy``), or None."""
    document = _models_document(provider_id, base_url)
    server = None if document is None else document.get("server")
    return server if isinstance(server, str) else None


# --- the last probe, and what it taught about the key ---------------------------------------------

@dataclass(frozen=True)
class LastProbe:
    """The last finished probe of a provider at its base URL."""

    outcome: str
    """An :class:`llmswitch.base.outcome.Outcome` value (``"dns_failure"``)."""
    summary: str
    """The probe's short summary (``host not found``), terminal-safe and free of keys."""
    usable: bool
    when: datetime

    def age(self, now: datetime | None = None) -> str:
        """``just now``, ``3 min ago``, ``2 h ago``, ``5 days ago`` (:func:`fmt_age`)."""
        return fmt_age(max(0.0, ((now or _now()) - self.when).total_seconds()))


def _probe_path(provider_id: str) -> Path:
    return paths.state_dir() / "probes" / f"{provider_id}.json"


def _probe_document(provider_id: str, base_url: str | None) -> dict[str, object] | None:
    try:
        document = json.loads(_probe_path(provider_id).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(document, dict) or (base_url is not None and document.get("base_url") != base_url):
        return None
    return document


def key_wanted(result: ProbeResult) -> bool | None:
    """What an answer says about the key: True (the server wants one), False (it needs none), None (it does not say)."""
    from ..base.outcome import Outcome

    if result.outcome is Outcome.AUTH_MISSING and result.models:
        return False  # "no key stored (the server lists N models without one)": it answered without a key
    if result.outcome in (Outcome.AUTH_MISSING, Outcome.AUTH_REJECTED, Outcome.NO_CREDIT):
        return True
    if result.outcome in (Outcome.KEYLESS, Outcome.ANY_KEY):
        return False
    return None


def _remember_probe(result: ProbeResult, base_url: str) -> None:
    from ..base.files import atomic_write, locked

    path = _probe_path(result.provider)
    with locked(path):
        before = _probe_document(result.provider, base_url) or {}
        learned = key_wanted(result)
        wants = before.get("needs_key") if learned is None else learned
        document: dict[str, object] = {
            "provider": result.provider, "base_url": base_url, "outcome": result.outcome.value,
            "summary": result.summary, "usable": result.usable, "probed": _now().isoformat(),
            "needs_key": wants if isinstance(wants, bool) else None}
        guarded = _guarded_after(before.get("models_guarded"), result, base_url)
        if guarded is not None:
            document["models_guarded"] = guarded
        atomic_write(path, json.dumps(document, indent=1).encode())
    if learned is not None and learned != before.get("needs_key"):
        _refresh_selections(result.provider, base_url)


def last_probe(provider_id: str, base_url: str | None = None) -> LastProbe | None:
    """The last finished probe of ``provider_id`` (at ``base_url`` when given), or None."""
    document = _probe_document(provider_id, base_url)
    if document is None:
        return None
    outcome, summary, when = document.get("outcome"), document.get("summary"), document.get("probed")
    if not (isinstance(outcome, str) and isinstance(summary, str) and isinstance(when, str)):
        return None
    try:
        moment = datetime.fromisoformat(when)
    except ValueError:
        return None
    from ..base.redact import terminal_safe

    return LastProbe(outcome, terminal_safe(summary, 120), document.get("usable") is True, moment)


def needs_key(provider_id: str, base_url: str | None) -> bool:
    """True when the last probe that could tell saw this server (at this URL) ask for a key.

    Read where a provider is built (``config.toml`` loaded, a preset made a provider), so every
    screen that looks at ``key_required`` sees it; a ``key_required`` written in config.toml wins.
    """
    return bool(base_url) and learned_key(provider_id, base_url) is True


def learned_key(provider_id: str, base_url: str | None) -> bool | None:
    """What the last probe that could tell learned at this URL: True (it wants a key), False (it answered
    without one), None (never probed there, or no answer said)."""
    if not base_url:
        return None
    document = _probe_document(provider_id, base_url)
    wants = document.get("needs_key") if document else None
    return wants if isinstance(wants, bool) else None


# --- GET /models refused without the key: what lets a later keyed probe skip asking again ------------

MODELS_GUARDED_MAX_AGE = 3600.0
"""Seconds a sighting of ``GET /models`` refusing a request without the key is used by later probes.

Asking again costs no round trip (the keyless request leaves with the keyed one), only a request and its
connection per target in a batch, so the sighting only has to cover re-probes within a sitting (the picker
probing again, ``probe`` run again while editing config). Unlike the protocols kept a day
(:data:`llmswitch.store.served.FINGERPRINT_MAX_AGE`), who may list models is a flag a local server is
restarted with (``vllm serve --api-key``), so an hour, and any answer that says otherwise drops it at once."""


@dataclass(frozen=True)
class ModelsGuarded:
    """An earlier probe saw ``GET /models`` at this base URL refuse the request without the key."""

    server: str | None
    """The software the keyed listing's fingerprint named then; another one answering now is another server."""
    seen: datetime

    def age(self, now: datetime | None = None) -> str:
        """``just now``, ``3 min ago`` (:func:`fmt_age`)."""
        return LastProbe("", "", True, self.seen).age(now)

    def fresh(self, now: datetime | None = None) -> bool:
        return 0.0 <= ((now or _now()) - self.seen).total_seconds() <= MODELS_GUARDED_MAX_AGE


def _guarded_after(before: object, result: ProbeResult, base_url: str) -> dict[str, object] | None:
    """The sighting to keep after ``result``: a new one, the old one, or None when an answer contradicts it.

    Contradictions: ``/models`` answered without the key (``result.models_guarded`` False: listed, or anything
    but a refusal), the key sent refused, another server's fingerprint, or a new protocol fingerprint unlike
    the kept one.
    """
    from ..base.outcome import AUTH, LISTED

    if result.models_guarded is True:
        return {"seen": _now().isoformat(), "server": result.server}
    kept = _sighting(before)
    refused = result.outcome in AUTH and result.key_verified is not None  # the key sent was refused
    if kept is None or result.models_guarded is False or refused:
        return None
    if result.outcome in LISTED and result.server != kept.server:
        return None
    if result.protocols is not None and result.protocols_checked:
        from . import served

        found = served.fingerprint(result.provider, base_url)
        if found is not None and dict(result.protocols) != found.protocols:
            return None
    return before if isinstance(before, dict) else None


def _sighting(value: object) -> ModelsGuarded | None:
    if not isinstance(value, dict):
        return None
    server, seen = value.get("server"), value.get("seen")
    if not (server is None or isinstance(server, str)) or not isinstance(seen, str):
        return None
    try:
        moment = datetime.fromisoformat(seen)
    except ValueError:
        return None
    return ModelsGuarded(server, moment) if moment.tzinfo is not None else None


def models_guarded(provider_id: str, base_url: str | None) -> ModelsGuarded | None:
    """The fresh sighting (:data:`MODELS_GUARDED_MAX_AGE`) of ``GET /models`` at ``base_url`` refusing a request
    without the key, or None. A keyed probe that lists models from the same server then counts its key as
    verified without asking again (``llmswitch.net.probe.verify``); ``probe --deep`` always asks."""
    if not base_url:
        return None
    document = _probe_document(provider_id, base_url)
    found = _sighting(document.get("models_guarded")) if document else None
    return found if found is not None and found.fresh() else None


def _refresh_selections(provider_id: str, base_url: str) -> None:
    """Rewrite the key facts of the roles that use this provider, so active.toml says what was learned."""
    from .keydecision import refresh_selections

    refresh_selections((provider_id,))  # never raises: the next `llmswitch use` writes it


# --- what probe --deep settled ----------------------------------------------------------------------

@dataclass(frozen=True)
class DeepVerdict:
    """What a deep probe settled about the key at a base URL, where the model list is public.

    Read by the next plain probe (``probe.verify.recalled``), which cannot tell it by itself.
    """

    outcome: str
    """``"any_key"`` (the server takes any key: a fact about the server) or ``"ok"`` (this key was verified)."""
    because: str | None
    """How it was learned (``a chat with a wrong key succeeds too``)."""
    key: str
    """For ``"ok"``: the key as results show it (``probe.verify.key_seen``: its source and redacted form)."""
    when: datetime

    def age(self, now: datetime | None = None) -> str:
        return LastProbe(self.outcome, "", True, self.when).age(now)


def _verdict_path(provider_id: str) -> Path:
    return paths.state_dir() / "verdicts" / f"{provider_id}.json"


def _remember_deep_verdict(result: ProbeResult, base_url: str) -> None:
    """Keep what a deep probe settled; forget it when a later answer contradicts it (the key refused)."""
    from ..base.files import atomic_write
    from ..base.outcome import AUTH, DEEP, Outcome, key_seen

    deep = result.deep
    path = _verdict_path(result.provider)
    settled = deep is not None and deep.ok and (
        result.outcome is Outcome.ANY_KEY or (result.outcome is Outcome.OK and result.verified_by == DEEP))
    if settled:
        document = {"provider": result.provider, "base_url": base_url, "outcome": result.outcome.value,
                    "because": result.verified_by if result.outcome is Outcome.ANY_KEY else DEEP,
                    "key": key_seen(result) if result.outcome is Outcome.OK else "", "settled": _now().isoformat()}
        atomic_write(path, json.dumps(document, indent=1).encode())
    elif (result.outcome in AUTH or (deep is not None and result.outcome is Outcome.KEY_UNVERIFIED)) and path.exists():
        path.unlink(missing_ok=True)  # refused, or a deep probe that settled nothing: the old verdict is not true


def deep_verdict(provider_id: str, base_url: str | None) -> DeepVerdict | None:
    """What ``probe --deep`` last settled about ``provider_id`` at ``base_url``, or None."""
    try:
        document = json.loads(_verdict_path(provider_id).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(document, dict) or not base_url or document.get("base_url") != base_url:
        return None
    outcome, because, key, when = (document.get(k) for k in ("outcome", "because", "key", "settled"))
    if outcome not in ("any_key", "ok") or not isinstance(key, str) or not isinstance(when, str):
        return None
    try:
        moment = datetime.fromisoformat(when)
    except ValueError:
        return None
    from ..base.redact import terminal_safe

    return DeepVerdict(outcome, terminal_safe(because, 120) if isinstance(because, str) else None, key, moment)


# --- recently used ----------------------------------------------------------------------------------

def _recent_path() -> Path:
    return paths.state_dir() / "recent.json"


def recent(limit: int = RECENT_LIMIT) -> list[str]:
    """Recently selected ``provider/model`` refs, newest first."""
    try:
        refs = json.loads(_recent_path().read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []
    return [r for r in refs if isinstance(r, str)][:limit] if isinstance(refs, list) else []


def add_recent(ref: str, limit: int = RECENT_LIMIT) -> None:
    from ..base.files import atomic_write, locked

    path = _recent_path()
    with locked(path):
        refs = [ref, *(r for r in recent(limit) if r != ref)][:limit]
        atomic_write(path, json.dumps(refs).encode())


def fmt_age(seconds: float) -> str:
    """``just now``, ``5 min ago``, ``3 h ago``, ``1 day ago``, ``2 days ago``: how old a cached answer is."""
    whole = max(0, int(seconds))
    for size, unit in ((86400, "day"), (3600, "h"), (60, "min")):
        if whole >= size:
            count = whole // size
            return f"{count} {unit}{'s' if unit == 'day' and count != 1 else ''} ago"
    return "just now"
