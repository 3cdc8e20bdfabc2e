"""Models as every surface shows them: one merge, one formatter; matching lives in :mod:`.matching`.

* **Merge** — :func:`provider_rows` (and :func:`merge` under it) joins a
  provider's favourites, the live list its last probe cached, what a gateway
  says about its models (:mod:`llmswitch.net.gateway`) and the catalog into
  :class:`ModelRow` s, with metadata and recent positions. The CLI's ``list``,
  the REPL's ``/model`` index, the picker and the wizard all build their rows
  here; :func:`for_role` keeps embedding models for the ``embedding`` role.
* **Format** — :func:`fmt_tokens` (``128k``, ``1M``), :func:`fmt_price`
  (USD per million tokens), :func:`fmt_usd`, :func:`fmt_prices`.
* **Match** — :class:`Token`, :class:`Filter`, :class:`Query`, :func:`search`
  and :func:`close_refs`, re-exported from :mod:`.matching`.

No Textual and no httpx here: the CLI, the REPL and the benchmarks use it
directly, and its tests need no terminal.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from functools import cached_property, partial
from typing import TYPE_CHECKING, Any, Generic, TypeVar, overload

from ..base.outcome import ServedContext
from ..net import gateway
from ..store import catalog, served, state
from ..store.catalog import ModelInfo
from .matching import (
    COMPACT,
    CONTAINS,
    EXACT,
    PREFIX,
    SPREAD,
    WORD,
    WORDS,
    Filter,
    Keys,
    Needs,
    Query,
    Token,
    close_refs,
    search,
)

if TYPE_CHECKING:  # pragma: no cover
    from collections.abc import Mapping

    from ..net.gateway import GatewayModel
    from ..store.config import Config, ProviderConfig

__all__ = [
    "COMPACT", "CONTAINS", "EXACT", "LISTED", "NOT_LISTED", "POPULAR", "PREFIX", "SORTS", "SPREAD", "UNKNOWN", "WORD",
    "WORDS", "Filter", "Keys", "ModelRow", "Needs", "Query", "Token", "close_refs", "fmt_money", "fmt_price", "fmt_prices",
    "fmt_tokens", "fmt_usd", "for_role", "gateway_note", "list_line", "make_row", "merge", "owners", "provider_rows", "search",
    "sort_rows", "summary",
]

SORTS = ("name", "context", "price")

LISTED = "listed"
"""The server lists the model (and the catalog may know it)."""
NOT_LISTED = "not-listed"
"""The catalog knows the model but the server's live list does not have it."""
UNKNOWN = "unknown"
"""No live list yet (never probed, or the probe failed): catalog only."""

POPULAR = ("openai", "openrouter", "anthropic", "groq", "togetherai", "deepseek", "mistral", "google", "xai")
"""Hosted providers suggested first when a bare model id could be any of several."""

T = TypeVar("T")


# --- rows ---------------------------------------------------------------------------------------

class _FromInfo(Generic[T]):
    """A row attribute: what the gateway says, else its catalog entry; ``empty`` when neither knows."""

    def __init__(self, empty: T) -> None:
        self.empty = empty
        self.name = ""

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    @overload
    def __get__(self, row: None, owner: type) -> _FromInfo[T]: ...
    @overload
    def __get__(self, row: ModelRow, owner: type) -> T: ...

    def __get__(self, row: ModelRow | None, owner: type) -> T | _FromInfo[T]:
        if row is None:
            return self
        said = getattr(row.gateway, self.name, None) if row.gateway is not None else None
        if said is not None:
            return said  # type: ignore[no-any-return]
        info = row.info
        value: T = self.empty if info is None else getattr(info, self.name)
        return value


@dataclass(frozen=True)
class ModelRow:
    """One model of one provider: its catalog entry (if any) and what the last probe and your lists say."""

    provider: str
    model: str
    info: ModelInfo | None = None
    """What the catalog says (context, prices, flags); None when it does not know the model."""
    listing: str = UNKNOWN
    """LISTED, NOT_LISTED or UNKNOWN."""
    favorite: bool = False
    recent: int | None = None
    """Position in the recent list (0 = newest), or None."""
    haystack: str = field(default="", compare=False, repr=False)
    """Lower-cased text the picker's filter searches: ``provider/model name``."""
    gateway: GatewayModel | None = None
    """What the provider itself (a LiteLLM proxy, OpenRouter) says; its values win over the catalog's."""
    served: ServedContext | None = None
    """What the server said about the model's context when last probed (:mod:`llmswitch.store.served`)."""

    name = _FromInfo("")
    context = _FromInfo[int | None](None)
    max_output = _FromInfo[int | None](None)
    input_price = _FromInfo[float | None](None)
    output_price = _FromInfo[float | None](None)
    tools = _FromInfo(False)
    vision = _FromInfo(False)
    reasoning = _FromInfo(False)

    @property
    def usable_context(self) -> int | None:
        """The context a request can use: what the server serves when a probe read it, else :attr:`context`."""
        if self.served is not None and self.served.served is not None:
            return self.served.served
        return self.context

    @property
    def in_catalog(self) -> bool:
        return self.info is not None

    @property
    def mode(self) -> str | None:
        """``chat``, ``embedding``, … where the gateway says; None when unknown."""
        return self.gateway.mode if self.gateway is not None else None

    @property
    def upstream(self) -> str | None:
        """The model a gateway alias routes to, where the gateway says."""
        return self.gateway.upstream if self.gateway is not None else None

    @property
    def metadata(self) -> str | None:
        """Where context and prices come from: ``gateway``, ``catalog`` or None."""
        return "gateway" if self.gateway is not None else "catalog" if self.info is not None else None

    @property
    def ref(self) -> str:
        return f"{self.provider}/{self.model}"

    @property
    def pinned(self) -> bool:
        """Favourites and recents go on top."""
        return self.favorite or self.recent is not None

    @cached_property
    def keys(self) -> Keys:
        """The texts :class:`Query` compares (made on first use: the picker never needs them)."""
        return Keys(self.provider, self.model, self.name)

    def flags(self) -> str:
        return ("T" if self.tools else "·") + ("V" if self.vision else "·") + ("R" if self.reasoning else "·")

    def as_dict(self) -> dict[str, Any]:
        """The row for ``llmswitch list PROVIDER --json`` (the served context: :func:`llmswitch.services.served.context_view`)."""
        return {"id": self.model, "live": self.listing == LISTED, "favorite": self.favorite,
                "context": self.context, "max_output": self.max_output, "input_price": self.input_price,
                "output_price": self.output_price, "tools": self.tools, "vision": self.vision,
                "reasoning": self.reasoning, "mode": self.mode, "upstream": self.upstream, "metadata": self.metadata}


def make_row(provider: str, model: str, info: ModelInfo | None = None, *, listing: str = UNKNOWN,
             favorite: bool = False, recent: int | None = None, said: GatewayModel | None = None) -> ModelRow:
    """A row from a model id, its catalog ``ModelInfo`` (or None) and what the gateway ``said`` (or None)."""
    name = info.name if info is not None else ""
    haystack = f"{provider}/{model} {name}".lower() if name and name != model else f"{provider}/{model}".lower()
    return ModelRow(provider, model, info, listing, favorite, recent, haystack, said)


def merge(provider: str, live: Sequence[str] | None, catalog_models: Iterable[ModelInfo], *,
          lookup: Callable[[str], ModelInfo | None] | None = None, favorites: Iterable[str] = (),
          recent: Sequence[str] = (), said: Mapping[str, GatewayModel] | None = None) -> list[ModelRow]:
    """The rows for one provider: favourites, the live list, the gateway's, then the catalog, each model once.

    ``live`` is the server's ``/models`` list (None when unknown). Every live
    model is LISTED, with catalog metadata when the catalog knows it
    (``lookup`` finds loose matches for local servers); catalog models and
    favourites the server does not list are NOT_LISTED. Without a live list
    everything is UNKNOWN. ``said`` is what the gateway reports per model
    (:mod:`llmswitch.net.gateway`): where it has a value, that value wins.
    """
    favs = set(favorites)
    rank = {ref: i for i, ref in enumerate(recent)}
    known = {m.id: m for m in catalog_models}
    listed = set(live) if live is not None else set()
    absent = NOT_LISTED if live is not None else UNKNOWN
    rows: list[ModelRow] = []
    said = said or {}
    for model in dict.fromkeys([*favorites, *(live or ()), *(said if live is None else ()), *known]):
        info = known.get(model) or (lookup(model) if lookup else None)
        rows.append(make_row(provider, model, info, listing=LISTED if model in listed else absent,
                             favorite=model in favs, recent=rank.get(f"{provider}/{model}"), said=said.get(model)))
    return rows


def provider_rows(provider: ProviderConfig, live: Sequence[str] | None = None, *,
                  recent: Sequence[str] = ()) -> list[ModelRow]:
    """:func:`merge` for a configured (or preset) provider.

    ``live`` is a list just probed; None reads the one the last probe cached for
    the provider's URL. Local and unknown servers get the catalog's loose lookup
    (``llama3.1:8b`` → Llama 3.1 8B); for a hosted preset the catalog's ids are exact.
    A gateway's own word on its models (:func:`llmswitch.net.gateway.cached`, no network) is laid over it.
    """
    source = provider.preset or provider.id
    if live is None:
        live = state.known_models(provider.id, provider.base_url)
    known = catalog.catalog_models(source)
    # a hosted preset's catalog ids are exact (model_info would find nothing more)
    lookup = partial(catalog.model_info, source) if provider.local or not known else None
    told = gateway.cached(provider) if gateway.kind_of(provider) else None
    rows = merge(provider.id, live, known, lookup=lookup, favorites=provider.favorites, recent=recent,
                 said=told.models if told is not None else None)
    read = served.contexts(provider.id, provider.base_url)
    if read is None:
        return rows
    return [replace(row, served=read.models[row.model]) if row.model in read.models else row for row in rows]


def for_role(rows: Iterable[ModelRow], role: str) -> list[ModelRow]:
    """The rows offered for ``role``: embedding models only for ``embedding``, never as chat models.

    Only a gateway's ``mode`` decides; a model whose mode nobody stated is offered everywhere.
    """
    if role == "embedding":
        return [r for r in rows if r.mode in (None, "embedding")]
    return [r for r in rows if r.mode not in gateway.NOT_CHAT_MODES]


def owners(model: str, config: Config, limit: int = 3) -> list[str]:
    """``provider/model`` refs for a bare model id: your providers' lists first, then the catalog's.

    For "did you mean fake/fake-large?" when a reference names no provider.
    """
    mine = [f"{pid}/{model}" for pid, provider in config.providers.items()
            if any(row.model == model for row in provider_rows(provider))]
    hosted = sorted((pid for pid, m in catalog.all_models() if m.id == model),
                    key=lambda pid: (pid not in POPULAR, pid))
    return list(dict.fromkeys([*mine, *(f"{pid}/{model}" for pid in hosted)]))[:limit]


def _sort_key(sort: str) -> Callable[[ModelRow], tuple[Any, ...]]:
    if sort == "context":
        return lambda r: (not r.pinned, r.listing == NOT_LISTED, -(r.context or 0), r.haystack)
    if sort == "price":
        big = float("inf")
        return lambda r: (not r.pinned, r.listing == NOT_LISTED, big if r.input_price is None else r.input_price,
                          r.haystack)
    return lambda r: (not r.pinned, r.recent if r.recent is not None else 1 << 30, r.listing == NOT_LISTED,
                      r.haystack)


def sort_rows(rows: Iterable[ModelRow], sort: str = "name") -> list[ModelRow]:
    """Favourites and recents on top, models the server does not list at the bottom.

    Then by name, context (largest first) or input price (cheapest first).
    """
    return sorted(rows, key=_sort_key(sort))


# --- formatting -----------------------------------------------------------------------------------

def fmt_tokens(n: int | None, none: str = "—") -> str:
    """``128000`` → ``128k``; ``1048576`` → ``1.0M``; ``2000000`` → ``2M``; ``none`` when unknown."""
    if not n:
        return none
    if n >= 1_000_000:
        value = n / 1_000_000
        return f"{value:.0f}M" if value >= 10 or value == int(value) else f"{value:.1f}M"
    if n >= 1000:
        return f"{n / 1000:.0f}k"
    return str(n)


CENT = 0.01
"""Below this a price is shown as ``<0.01`` (``<$0.01``), never rounded to 0 or "free"."""


def fmt_price(p: float | None, none: str = "—") -> str:
    """USD per million tokens: ``0.15``, ``3``, ``<0.01``, ``free`` (exactly 0 only); ``none`` when unknown."""
    if p is None:
        return none
    if p == 0:
        return "free"
    if 0 < p < CENT:
        return f"<{CENT}"
    if p >= 100:
        return f"{p:.0f}"
    if p >= 10:
        return f"{p:.1f}".rstrip("0").rstrip(".")
    return f"{p:.2f}".rstrip("0").rstrip(".")


def fmt_usd(p: float | None, none: str = "-") -> str:
    """``$0.15``, ``$3``, ``<$0.01``, ``free``; ``none`` when unknown."""
    if p is None:
        return none
    if 0 < p < CENT:
        return f"<${CENT}"
    return "free" if p == 0 else "$" + fmt_price(p)


def fmt_money(amount: float) -> str:
    """An amount of US dollars: ``$1,234.50``, ``<$0.01`` for a positive amount below a cent, ``-$3.00``."""
    if 0 < amount < CENT:
        return f"<${CENT}"
    return f"-${-amount:,.2f}" if amount < 0 else f"${amount:,.2f}"


def fmt_prices(input_price: float | None, output_price: float | None) -> str:
    """``$2.5/$10 per M`` (input/output, USD per million tokens); ``""`` when the input price is unknown."""
    if input_price is None:
        return ""
    both = fmt_usd(input_price) + ("" if output_price is None else "/" + fmt_usd(output_price))
    return both + " per M"


def list_line(row: ModelRow) -> str:
    """One line of ``llmswitch list PROVIDER``: favourite mark, ref, context, input and output price."""
    mark = "*" if row.favorite else " "
    line = (f"{mark} {row.provider}/{row.model:<50} ctx {fmt_tokens(row.context, '-'):>6}  "
            f"in {fmt_usd(row.input_price):>7}  out {fmt_usd(row.output_price):>7}")
    return line + (f"  {gateway_note(row)}" if row.gateway is not None else "")


def summary(row: ModelRow) -> str:
    """``ctx 128k · $2.5/$10 per M · from the gateway``: what the palette says beside a ref ("" when nothing is known)."""
    parts = [f"ctx {fmt_tokens(row.context)}"] if row.context else []
    prices = fmt_prices(row.input_price, row.output_price)
    parts += [prices] if prices else []
    if row.gateway is not None:
        parts.append("from the gateway" + (f" ({row.mode})" if row.mode and row.mode != "chat" else ""))
    return " · ".join(parts)


def gateway_note(row: ModelRow) -> str:
    """``[gateway → openai/gpt-4o, embedding]``: where a row's metadata came from (call only for gateway rows)."""
    from ..base.redact import terminal_safe

    parts = [f"→ {terminal_safe(row.upstream, 60)}"] if row.upstream else []
    if row.mode and row.mode != "chat":
        parts.append(terminal_safe(row.mode, 20))
    return "[gateway" + (" " + ", ".join(parts) if parts else "") + "]"
