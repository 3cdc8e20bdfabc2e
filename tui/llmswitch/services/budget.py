"""Budgets before a switch: what a gateway says is left, and the one rule that decides whether to ask.

* :func:`refresh` asks the gateway what the key may still spend — OpenRouter's
  ``GET /api/v1/key`` (``limit``, ``limit_remaining``, ``usage``, ``limit_reset``), a LiteLLM
  proxy's ``GET /key/info`` (``info.max_budget``, ``info.spend``, ``info.budget_duration``) —
  and keeps the answer with its time (read back by :func:`cached`, and by
  :mod:`llmswitch.store.budgetcache` on the read path). A proxy without a database cannot say: that
  is kept too, as ``unavailable`` with the reason, never as "no limit".
* :func:`judge` is the pure rule all three surfaces (picker, ``use``, ``/model``) apply: a
  model priced at least ``factor`` times the current one for the role (both prices known), or
  a budget with less than ``min_share`` left, needs a yes (the TUI asks; the CLI and the REPL
  warn on stderr); going from a free, local or unpriced model to a paid one states the price
  once. :func:`assess` gathers its inputs from what is on disk (no network).
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from ..base import urls
from ..base.errors import LlmswitchError
from ..net import gateway
from ..store import budgetcache
from .models import fmt_money, fmt_prices, fmt_usd

if TYPE_CHECKING:
    from ..store.config import Config, ProviderConfig

__all__ = ["BUDGET_MAX_AGE", "FACTOR", "MIN_SHARE", "Budget", "Price", "Verdict", "assess", "cached", "judge",
           "current_ref", "price_of", "refresh", "refresh_stale", "warning_lines"]

FACTOR = 5.0
"""A model this many times dearer than the current one (input or output price) needs a yes."""
MIN_SHARE = 0.1
"""Default share of the budget below which any switch to a paid model needs a yes (preference
``budget_warn_share``)."""
BUDGET_MAX_AGE = 600.0
"""Seconds a kept budget is fresh: the picker and ``doctor`` fetch older ones again."""
_MAX_USD = 1e12


@dataclass(frozen=True)
class Budget:
    """What a gateway said the key may spend (USD), at ``fetched``; ``unavailable`` when it cannot say."""

    provider: str
    base_url: str
    source: str
    """``GET https://openrouter.ai/api/v1/key``: where it came from."""
    fetched: datetime
    limit: float | None = None
    """None: no limit on the key (or, with ``unavailable``, unknown)."""
    remaining: float | None = None
    usage: float | None = None
    reset: str | None = None
    """``monthly``, ``30d``…: when the limit resets, where the gateway says."""
    unavailable: str | None = None
    """Why the gateway cannot report a budget (a LiteLLM proxy without a database)."""
    fix: str | None = None

    @property
    def share_left(self) -> float | None:
        if self.limit is None or self.remaining is None or self.limit <= 0:
            return None
        return max(0.0, self.remaining / self.limit)

    def age(self) -> float:
        return max(0.0, (datetime.now(UTC) - self.fetched).total_seconds())

    def line(self) -> str:
        """``$74.50 of $100 left (monthly) · 5 min ago`` — or why nothing is known."""
        when = gateway.fmt_age(self.age())
        if self.unavailable:
            return f"budget unknown: {self.unavailable} · {when}"
        if self.limit is None:
            spent = f", {fmt_money(self.usage)} spent" if self.usage is not None else ""
            return f"no spending limit on this key{spent} · {when}"
        left = fmt_money(self.remaining) if self.remaining is not None else "?"
        reset = f" ({self.reset})" if self.reset else ""
        return f"{left} of {fmt_money(self.limit)} left{reset} · {when}"

    def as_dict(self) -> dict[str, Any]:
        return {"source": self.source, "limit": self.limit, "remaining": self.remaining, "usage": self.usage,
                "reset": self.reset, "unavailable": self.unavailable, "fix": self.fix,
                "fetched": self.fetched.isoformat(), "age_seconds": round(self.age())}


# --- fetching and keeping ---------------------------------------------------------------------

def _usd(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not -_MAX_USD < value < _MAX_USD:
        return None
    return float(value)


def _short(value: Any) -> str | None:
    from ..base.redact import terminal_safe

    return terminal_safe(value, 20) if isinstance(value, str) and value else None


def _litellm_root(base_url: str) -> str:
    """``http://h:4000/v1`` → ``http://h:4000``: the proxy's management routes are not under ``/v1``."""
    return urls.api_root(base_url)


def refresh(provider: ProviderConfig, *, timeout: float | None = None) -> Budget | None:
    """Ask the gateway what is left and keep it; None when the provider is no gateway.

    Raises :class:`llmswitch.net.gateway.GatewayUnavailable` when it cannot be asked (unreachable,
    key refused); a proxy that keeps no budgets is an answer (``unavailable``), not an error.
    """
    kind = gateway.kind_of(provider)
    if kind is None or not provider.base_url:
        return None
    if kind == gateway.OPENROUTER:
        url = urls.join(provider.base_url, "/key")
    else:
        url = urls.join(_litellm_root(provider.base_url), "/key/info")
    status, data = gateway.fetch_json(provider, url, timeout=timeout)
    now = datetime.now(UTC).replace(microsecond=0)
    source = f"GET {urls.safe(url)}"
    made: Budget
    if status in (401, 403):
        raise gateway.failure(provider, url, status, data)
    if kind == gateway.OPENROUTER and status == 200 and isinstance(data, dict) and isinstance(data.get("data"), dict):
        body = data["data"]
        made = Budget(provider.id, provider.base_url, source, now, limit=_usd(body.get("limit")),
                      remaining=_usd(body.get("limit_remaining")), usage=_usd(body.get("usage")),
                      reset=_short(body.get("limit_reset")))
    elif kind == gateway.LITELLM and status == 200 and isinstance(data, dict) and isinstance(data.get("info"), dict):
        info = data["info"]
        limit, spend = _usd(info.get("max_budget")), _usd(info.get("spend"))
        made = Budget(provider.id, provider.base_url, source, now, limit=limit, usage=spend,
                      remaining=None if limit is None or spend is None else limit - spend,
                      reset=_short(info.get("budget_duration")))
    elif kind == gateway.LITELLM:
        said = gateway.failure(provider, url, status, data).cause
        made = Budget(provider.id, provider.base_url, source, now,
                      unavailable=f"the proxy keeps no budgets ({said}; a LiteLLM proxy without a database cannot)",
                      fix="ask whoever runs the proxy for a virtual key on a proxy with a database")
    else:
        raise gateway.failure(provider, url, status, data)
    _save(made)
    return made


def _save(made: Budget) -> None:
    from ..base.files import atomic_write

    document = {**made.as_dict(), "base_url": made.base_url, "fetched_epoch": made.fetched.timestamp()}
    document.pop("age_seconds")
    path = budgetcache.path(made.provider)
    from pathlib import Path

    atomic_write(Path(path), json.dumps(document).encode())


def cached(provider: ProviderConfig) -> Budget | None:
    """The kept budget for this provider at this URL, or None. No network."""
    found = budgetcache.read(provider.id, provider.base_url)
    if found is None or not provider.base_url:
        return None
    fetched = datetime.fromtimestamp(time.time() - found["age_seconds"], UTC).replace(microsecond=0)
    return Budget(provider.id, provider.base_url, str(found.get("source") or ""), fetched,
                  limit=_usd(found.get("limit")), remaining=_usd(found.get("remaining")), usage=_usd(found.get("usage")),
                  reset=_short(found.get("reset")), unavailable=_short_text(found.get("unavailable")),
                  fix=_short_text(found.get("fix")))


def _short_text(value: Any) -> str | None:
    from ..base.redact import terminal_safe

    return terminal_safe(value, 200) if isinstance(value, str) and value else None


def refresh_stale(provider: ProviderConfig, *, timeout: float | None = None) -> str | None:
    """:func:`refresh` when the kept budget is missing or old and the gateway was probed; a failure as a sentence."""
    if gateway.kind_of(provider) is None or not gateway.probed(provider):
        return None
    kept = cached(provider)
    if kept is not None and kept.age() <= BUDGET_MAX_AGE:
        return None
    try:
        refresh(provider, timeout=timeout)
    except LlmswitchError as exc:
        return exc.sentence()
    return None


# --- the rule -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Price:
    """One model's price (USD per million tokens; None: unknown), and whether it runs on your machine."""

    ref: str
    input: float | None = None
    output: float | None = None
    local: bool = False

    @property
    def known(self) -> bool:
        return self.input is not None or self.output is not None

    @property
    def paid(self) -> bool:
        return (self.input or 0) > 0 or (self.output or 0) > 0

    def text(self) -> str:
        return fmt_prices(self.input, self.output) or f"{fmt_usd(self.output)} out per M"


@dataclass(frozen=True)
class Verdict:
    """What a switch should say: ``ask`` needs a yes (or a warning where nobody can answer); ``note`` is said once."""

    ask: tuple[str, ...] = ()
    note: str | None = None

    @property
    def quiet(self) -> bool:
        return not self.ask and self.note is None


def _ratio(new: float | None, old: float | None) -> float | None:
    return new / old if new is not None and old is not None and old > 0 and new > 0 else None


def judge(current: Price | None, new: Price, budget: Budget | None = None, *, factor: float = FACTOR,
          min_share: float = MIN_SHARE) -> Verdict:
    """The one rule (pure): ask before a much dearer model or on a nearly spent budget; state a first price."""
    ask: list[str] = []
    if current is not None and current.paid and not current.local and new.paid:
        ratios = [r for r in (_ratio(new.input, current.input), _ratio(new.output, current.output)) if r is not None]
        if ratios and max(ratios) >= factor:
            ask.append(f"{new.ref} costs {new.text()}, {max(ratios):.0f}× {current.ref} ({current.text()})")
    if budget is not None and not (new.known and not new.paid) and budget.share_left is not None \
            and budget.share_left < min_share:
        left = fmt_money(budget.remaining) if budget.remaining is not None else "nothing"
        ask.append(f"{budget.provider} has {left} of {fmt_money(budget.limit or 0.0)} left "
                   f"({budget.share_left:.0%}, as of {gateway.fmt_age(budget.age())})")
    note = None
    if not ask and new.paid and (current is None or current.local or not current.known or not current.paid):
        note = f"{new.ref} costs {new.text()}"
    return Verdict(tuple(ask), note)


def price_of(provider: ProviderConfig, model: str) -> Price:
    """A model's price from the one model merge (the gateway's word, else the catalog's)."""
    from .models import provider_rows

    row = next((r for r in provider_rows(provider) if r.model == model), None)
    local = provider.local and gateway.kind_of(provider) is None  # a gateway's prices are somebody's money
    ref = f"{provider.id}/{model}"
    return Price(ref, row.input_price, row.output_price, local) if row is not None else Price(ref, local=local)


def current_ref(role: str) -> str | None:
    """The ref active for ``role`` in active.toml, or None (nothing selected, or unreadable)."""
    from ..store import selection

    try:
        return selection.read(role).ref
    except (LlmswitchError, OSError):
        return None


def assess(config: Config, ref: str, current: str | None) -> Verdict:
    """:func:`judge` for switching from ``current`` to ``ref``, from what is on disk (no network).

    Quiet when the preference ``confirm_costly = false`` turns it off, or when nothing changes.
    """
    from ..base.errors import UnknownProvider

    if not config.confirm_costly or current == ref:
        return Verdict()
    try:
        provider = config.provider(ref.partition("/")[0])
        was = config.provider(current.partition("/")[0]) if current else None
    except UnknownProvider:
        return Verdict()  # the switch itself says so
    before = price_of(was, current.partition("/")[2]) if was is not None and current else None
    return judge(before, price_of(provider, ref.partition("/")[2]), cached(provider),
                 min_share=config.budget_warn_share)


def warning_lines(verdict: Verdict, *, yes: bool = False) -> list[str]:
    """What the CLI and the REPL print, where nobody can be asked: each reason, then the price once."""
    lines = [] if yes else [f"{reason} — switched anyway; --yes (or confirm_costly = false) skips this check"
                            for reason in verdict.ask]
    if verdict.note:
        lines.append(verdict.note + " (a paid model)")
    return lines
