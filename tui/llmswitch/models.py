"""Models as every surface shows them: one merge, one formatter, one fuzzy matcher.

* **Merge** — :func:`provider_rows` (and :func:`merge` under it) joins a
  provider's favourites, the live list its last probe cached and the catalog
  into :class:`ModelRow` s, with catalog metadata and recent positions. The
  CLI's ``list``, the REPL's ``/model`` index, the picker and the wizard all
  build their rows here.
* **Format** — :func:`fmt_tokens` (``128k``, ``1M``), :func:`fmt_price`
  (USD per million tokens), :func:`fmt_usd`, :func:`fmt_prices`.
* **Match** — one scoring rule for a query word against a row's text
  (:class:`Token`): contiguous at a word start, contiguous, or its letters in
  order with gaps. :class:`Filter` (the picker: every keystroke over ~5,000
  rows, narrowing incrementally) and :class:`Query` (tiers — exact id, prefix,
  word start, substring, all words, separators ignored, letters in order —
  for the REPL's "one clear match" and the palette's bands) are built on it;
  :func:`search` is the REPL's ranking (current provider, then recent).

No Textual and no httpx here: the CLI, the REPL and the benchmarks use it
directly, and its tests need no terminal.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from functools import cached_property, partial
from typing import TYPE_CHECKING, Any, Generic, TypeVar, overload

from . import catalog, state
from .catalog import ModelInfo

if TYPE_CHECKING:  # pragma: no cover
    from .config import Config, ProviderConfig

__all__ = [
    "COMPACT", "CONTAINS", "EXACT", "LISTED", "NOT_LISTED", "POPULAR", "PREFIX", "SORTS", "SPREAD", "UNKNOWN", "WORD",
    "WORDS", "Filter", "Keys", "ModelRow", "Query", "Token", "close_refs", "fmt_price", "fmt_prices", "fmt_tokens",
    "fmt_usd", "list_line", "make_row", "merge", "owners", "provider_rows", "search", "sort_rows",
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
_WORD_SEPARATORS = ("/", "-", " ", ".", ":", "_")
_SEPARATOR_RUN = re.compile(r"[-_./:@\s]+")


# --- rows ---------------------------------------------------------------------------------------

class Keys:
    """A model's lower-cased texts, as the tiers of :class:`Query` compare them."""

    __slots__ = ("compact", "hay", "model", "name", "ref", "tail")

    def __init__(self, provider: str, model: str, name: str = "") -> None:
        self.model = model.lower()
        self.tail = self.model.rsplit("/", 1)[-1]
        self.name = name.lower() if name != model else ""
        self.ref = f"{provider}/{model}".lower()
        self.hay = f"{self.ref} {self.name} {_SEPARATOR_RUN.sub(' ', self.ref)} {_SEPARATOR_RUN.sub(' ', self.name)}"
        """Ref and name, also with separators as spaces: what query words are looked for in."""
        self.compact = _SEPARATOR_RUN.sub("", self.model + self.name)
        """Model id and name without separators (``gpt4o`` finds ``gpt-4o``)."""

    @classmethod
    def of(cls, ref: str, name: str = "") -> Keys:
        provider, _, model = ref.partition("/")
        return cls(provider, model, name)


class _FromInfo(Generic[T]):
    """A row attribute read from its catalog entry; ``empty`` when the catalog does not know the model."""

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

    name = _FromInfo("")
    context = _FromInfo[int | None](None)
    max_output = _FromInfo[int | None](None)
    input_price = _FromInfo[float | None](None)
    output_price = _FromInfo[float | None](None)
    tools = _FromInfo(False)
    vision = _FromInfo(False)
    reasoning = _FromInfo(False)

    @property
    def in_catalog(self) -> bool:
        return self.info is not None

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
        """The row for ``llmswitch list PROVIDER --json``."""
        return {"id": self.model, "live": self.listing == LISTED, "favorite": self.favorite,
                "context": self.context, "max_output": self.max_output, "input_price": self.input_price,
                "output_price": self.output_price}


def make_row(provider: str, model: str, info: ModelInfo | None = None, *, listing: str = UNKNOWN,
             favorite: bool = False, recent: int | None = None) -> ModelRow:
    """A row from a model id and its catalog ``ModelInfo`` (or None)."""
    name = info.name if info is not None else ""
    haystack = f"{provider}/{model} {name}".lower() if name and name != model else f"{provider}/{model}".lower()
    return ModelRow(provider, model, info, listing, favorite, recent, haystack)


def merge(provider: str, live: Sequence[str] | None, catalog_models: Iterable[ModelInfo], *,
          lookup: Callable[[str], ModelInfo | None] | None = None, favorites: Iterable[str] = (),
          recent: Sequence[str] = ()) -> list[ModelRow]:
    """The rows for one provider: favourites, then the live list, then the catalog, each model once.

    ``live`` is the server's ``/models`` list (None when unknown). Every live
    model is LISTED, with catalog metadata when the catalog knows it
    (``lookup`` finds loose matches for local servers); catalog models and
    favourites the server does not list are NOT_LISTED. Without a live list
    everything is UNKNOWN.
    """
    favs = set(favorites)
    rank = {ref: i for i, ref in enumerate(recent)}
    known = {m.id: m for m in catalog_models}
    listed = set(live) if live is not None else set()
    absent = NOT_LISTED if live is not None else UNKNOWN
    rows: list[ModelRow] = []
    for model in dict.fromkeys([*favorites, *(live or ()), *known]):
        info = known.get(model) or (lookup(model) if lookup else None)
        rows.append(make_row(provider, model, info, listing=LISTED if model in listed else absent,
                             favorite=model in favs, recent=rank.get(f"{provider}/{model}")))
    return rows


def provider_rows(provider: ProviderConfig, live: Sequence[str] | None = None, *,
                  recent: Sequence[str] = ()) -> list[ModelRow]:
    """:func:`merge` for a configured (or preset) provider.

    ``live`` is a list just probed; None reads the one the last probe cached for
    the provider's URL. Local and unknown servers get the catalog's loose lookup
    (``llama3.1:8b`` → Llama 3.1 8B); for a hosted preset the catalog's ids are exact.
    """
    source = provider.preset or provider.id
    if live is None:
        live = state.known_models(provider.id, provider.base_url)
    known = catalog.catalog_models(source)
    # a hosted preset's catalog ids are exact (model_info would find nothing more)
    lookup = partial(catalog.model_info, source) if provider.local or not known else None
    return merge(provider.id, live, known, lookup=lookup, favorites=provider.favorites, recent=recent)


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


def fmt_price(p: float | None, none: str = "—") -> str:
    """USD per million tokens: ``0.15``, ``3``, ``free``; ``none`` when unknown."""
    if p is None:
        return none
    if p == 0:
        return "free"
    if p >= 100:
        return f"{p:.0f}"
    if p >= 10:
        return f"{p:.1f}".rstrip("0").rstrip(".")
    return f"{p:.2f}".rstrip("0").rstrip(".")


def fmt_usd(p: float | None, none: str = "-") -> str:
    """``$0.15``, ``$3``, ``free``; ``none`` when unknown."""
    return none if p is None else "free" if p == 0 else "$" + fmt_price(p)


def fmt_prices(input_price: float | None, output_price: float | None) -> str:
    """``$2.5/$10 per M`` (input/output, USD per million tokens); ``""`` when the input price is unknown."""
    if input_price is None:
        return ""
    both = fmt_usd(input_price) + ("" if output_price is None else "/" + fmt_usd(output_price))
    return both + " per M"


def list_line(row: ModelRow) -> str:
    """One line of ``llmswitch list PROVIDER``: favourite mark, ref, context, input and output price."""
    mark = "*" if row.favorite else " "
    return (f"{mark} {row.provider}/{row.model:<50} ctx {fmt_tokens(row.context, '-'):>6}  "
            f"in {fmt_usd(row.input_price):>7}  out {fmt_usd(row.output_price):>7}")


# --- matching -------------------------------------------------------------------------------------

def _subsequence(token: str) -> re.Pattern[str]:
    """The characters of ``token`` in order, gaps allowed; possessive gaps keep it linear (no backtracking)."""
    parts = [re.escape(token[0])]
    for ch in token[1:]:
        escaped = re.escape(ch)
        parts.append(f"[^{escaped}]*+{escaped}")
    return re.compile("".join(parts))


class Token:
    """One lower-case word of a query, ready to score texts (the one scoring rule)."""

    __slots__ = ("spread", "starts", "text")

    def __init__(self, text: str) -> None:
        self.text = text
        self.starts = tuple(sep + text for sep in _WORD_SEPARATORS) if len(text) > 1 else ()
        self.spread = _subsequence(text)

    def score(self, hay: str) -> int | None:
        """0 contiguous at a word start (a one-letter word: anywhere), 1 contiguous, 2 + gaps: its letters in order.

        None when the letters are not there in order.
        """
        if self.text in hay:
            return 0 if not self.starts or hay.startswith(self.text) or any(s in hay for s in self.starts) else 1
        found = self.spread.search(hay)
        return None if found is None else 2 + found.end() - found.start() - len(self.text)


class Filter:
    """The picker's filter over pre-sorted rows, remembering recent queries to narrow incrementally.

    Every word of the query must score (:meth:`Token.score`) against the
    row's haystack; rows are ordered by the sum, the input order breaking ties.
    A query that extends a remembered one only looks at that one's matches
    (they can only shrink), and a remembered query (backspace) is answered
    from memory.
    """

    REMEMBER = 32
    """Queries kept (each holds at most the rows it matched)."""

    def __init__(self, rows: Sequence[ModelRow]) -> None:
        self.rows = list(rows)
        self._seen: dict[str, tuple[list[ModelRow], list[ModelRow]]] = {}
        """query → (its matches in input order, the same best first)."""

    def matches(self, query: str) -> list[ModelRow]:
        """Every matching row, best first (the input order breaks ties). Shared with later calls: read only."""
        query = query.strip().lower()
        if not query:
            return self.rows
        seen = self._seen.get(query)
        if seen is not None:
            return seen[1]
        base = max((q for q in self._seen if query.startswith(q)), key=len, default="")
        candidates = self._seen[base][0] if base else self.rows
        scores = [0] * len(candidates)
        for word in query.split():
            token = Token(word)
            # Token.score, inlined: a call per row would cost ~1 ms per keystroke on 5,000 rows
            text, starts, spread = token.text, token.starts, token.spread
            kept: list[ModelRow] = []
            kept_scores: list[int] = []
            for row, score in zip(candidates, scores, strict=True):
                hay = row.haystack
                if text in hay:
                    kept.append(row)
                    kept_scores.append(score if not starts or hay.startswith(text)
                                       or any(start in hay for start in starts) else score + 1)
                else:
                    found = spread.search(hay)
                    if found is not None:
                        kept.append(row)
                        kept_scores.append(score + 2 + found.end() - found.start() - len(text))
            candidates, scores = kept, kept_scores
        if any(scores):
            best = [candidates[i] for i in sorted(range(len(candidates)), key=scores.__getitem__)]
        else:  # all equally good (one-letter words, word starts): the input order stands
            best = candidates
        if len(self._seen) >= self.REMEMBER:
            del self._seen[next(iter(self._seen))]  # the oldest
        self._seen[query] = (candidates, best)
        return best


EXACT, PREFIX, WORD, CONTAINS, WORDS, COMPACT, SPREAD = range(7)
"""How well a query matches a model, best first: the id (or its last part, its name, the ref) is the
query; starts with it; contains it at a word start; contains it; contains every word; contains it
with separators ignored (``gpt4o``); has every word's letters in order."""


class Query:
    """A query, normalised once, that ranks models in :data:`EXACT` … :data:`SPREAD` tiers."""

    def __init__(self, text: str) -> None:
        self.text = " ".join(text.lower().split())
        self.tokens = [Token(word) for word in self.text.split()]
        self.compact = _SEPARATOR_RUN.sub("", self.text)

    def tier(self, keys: Keys, *, loose: bool = True, spread: bool = False) -> int | None:
        """The tier of one model, or None. ``loose`` allows COMPACT, ``spread`` allows SPREAD."""
        q = self.text
        if not q:
            return None
        if q in (keys.model, keys.tail, keys.name, keys.ref):
            return EXACT
        if keys.model.startswith(q) or keys.tail.startswith(q) or keys.ref.startswith(q) or (
                keys.name and keys.name.startswith(q)):
            return PREFIX
        hay = keys.hay
        if q in hay:
            return WORD if hay.startswith(q) or any(sep + q in hay for sep in _WORD_SEPARATORS) else CONTAINS
        if all(t.text in hay for t in self.tokens):
            return WORDS
        if loose and len(self.compact) >= 3 and self.compact in keys.compact:
            return COMPACT
        if spread and all(t.spread.search(hay) for t in self.tokens):
            return SPREAD
        return None


_BANDS = {EXACT: 0, PREFIX: 1, WORD: 2, CONTAINS: 2, WORDS: 3, COMPACT: 3}
"""The REPL's bands: a query switches only on one clear match in the best band, so a word-start
and a mid-word substring of the same query are equally "clear"."""


def search(rows: Iterable[ModelRow], query: str, *, prefer: str | None = None, recent: Sequence[str] = (),
           loose: bool = True) -> tuple[int, list[ModelRow]]:
    """(band, rows) of the best band: 0 exact id or name, 1 prefix, 2 substring, 3 all words; (-1, []) for none.

    ``loose`` also finds ids with separators ignored (``gpt4o``). Rows are ordered by
    ``prefer``'s provider first, then recent, then the finer tier, shorter ids, the ref.
    """
    q = Query(query)
    if not q.text:
        return -1, []
    bands: list[list[tuple[int, ModelRow]]] = [[], [], [], []]
    for row in rows:
        tier = q.tier(row.keys, loose=loose)
        if tier is not None:
            bands[_BANDS[tier]].append((tier, row))
    where = {ref: i for i, ref in enumerate(recent)}
    for band, found in enumerate(bands):
        if found:
            found.sort(key=lambda tr: (tr[1].provider != prefer, where.get(tr[1].ref, len(where)), tr[0],
                                       len(tr[1].model), tr[1].keys.ref))
            return band, [row for _, row in found]
    return -1, []


def close_refs(query: str, rows: Iterable[ModelRow], provider_ids: Iterable[str] = (), n: int = 3) -> list[str]:
    """Refs close to a query that matched nothing (typos), else provider ids (``"ollama/"``) close to it."""
    q = query.lower().strip()
    names: dict[str, str] = {}
    for row in rows:
        names.setdefault(row.keys.tail, row.ref)
        names.setdefault(row.keys.model, row.ref)
    close = difflib.get_close_matches(q, list(names), n=n, cutoff=0.6)
    if not close:  # a mistyped provider id, then
        names = {pid: pid + "/" for pid in provider_ids}
        close = difflib.get_close_matches(q.rstrip("/"), list(names), n=n, cutoff=0.75)
    return list(dict.fromkeys(names[c] for c in close))
