"""The picker's model rows: merging live lists with the catalog, and the fuzzy filter.

No Textual here: the benchmark and the unit tests use it directly, and the
filter must be cheap enough to run on every keystroke over ~5,000 rows
(the work is one compiled regex per row plus a sort of the matches).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

SORTS = ("name", "context", "price")

LISTED = "listed"
"""The server lists the model (and the catalog may know it)."""
NOT_LISTED = "not-listed"
"""The catalog knows the model but the server's live list does not have it."""
UNKNOWN = "unknown"
"""No live list yet (never probed, or the probe failed): catalog only."""


@dataclass(frozen=True)
class ModelRow:
    """One model in the picker."""

    provider: str
    model: str
    name: str = ""
    context: int | None = None
    max_output: int | None = None
    input_price: float | None = None
    output_price: float | None = None
    tools: bool = False
    vision: bool = False
    reasoning: bool = False
    listing: str = UNKNOWN
    """LISTED, NOT_LISTED or UNKNOWN."""
    in_catalog: bool = True
    favorite: bool = False
    recent: int | None = None
    """Position in the recent list (0 = newest), or None."""
    haystack: str = field(default="", compare=False, repr=False)
    """Lower-cased text the filter searches: ``provider/model name``."""

    @property
    def ref(self) -> str:
        return f"{self.provider}/{self.model}"

    @property
    def pinned(self) -> bool:
        """Favourites and recents go on top."""
        return self.favorite or self.recent is not None

    def flags(self) -> str:
        return ("T" if self.tools else "·") + ("V" if self.vision else "·") + ("R" if self.reasoning else "·")


def make_row(provider: str, model: str, info=None, *, listing: str = UNKNOWN, favorite: bool = False,
             recent: int | None = None) -> ModelRow:
    """A row from a model id and its catalog ``ModelInfo`` (or None)."""
    name = info.name if info is not None else ""
    haystack = f"{provider}/{model} {name}".lower() if name and name != model else f"{provider}/{model}".lower()
    if info is None:
        return ModelRow(provider, model, name, listing=listing, in_catalog=False, favorite=favorite,
                        recent=recent, haystack=haystack)
    return ModelRow(provider, model, name, info.context, info.max_output, info.input_price, info.output_price,
                    info.tools, info.vision, info.reasoning, listing, True, favorite, recent, haystack)


def merge(provider: str, live: Sequence[str] | None, catalog_models: Iterable, *, lookup=None,
          favorites: Iterable[str] = (), recent: Sequence[str] = ()) -> list[ModelRow]:
    """The rows for one provider.

    ``live`` is the server's ``/models`` list (None when unknown). Every live
    model is shown, with catalog metadata when the catalog knows it (``lookup``
    finds loose matches for local servers); catalog models the server does not
    list are kept and marked NOT_LISTED. Without a live list the catalog is
    shown as UNKNOWN.
    """
    favs = set(favorites)
    rank = {ref: i for i, ref in enumerate(recent)}
    known = {m.id: m for m in catalog_models}
    rows: list[ModelRow] = []
    seen: set[str] = set()
    if live is not None:
        for model in live:
            if model in seen:
                continue
            seen.add(model)
            info = known.get(model) or (lookup(model) if lookup else None)
            rows.append(make_row(provider, model, info, listing=LISTED, favorite=model in favs,
                                 recent=rank.get(f"{provider}/{model}")))
    listing = NOT_LISTED if live is not None else UNKNOWN
    for model_id, info in known.items():
        if model_id not in seen:
            seen.add(model_id)
            rows.append(make_row(provider, model_id, info, listing=listing, favorite=model_id in favs,
                                 recent=rank.get(f"{provider}/{model_id}")))
    for model in favs - seen:  # a favourite nobody lists is still offered
        rows.append(make_row(provider, model, None, listing=listing, favorite=True,
                             recent=rank.get(f"{provider}/{model}")))
    return rows


def _sort_key(sort: str):
    if sort == "context":
        return lambda r: (not r.pinned, r.listing == NOT_LISTED, -(r.context or 0), r.haystack)
    if sort == "price":
        big = float("inf")
        return lambda r: (not r.pinned, r.listing == NOT_LISTED, big if r.input_price is None else r.input_price,
                          r.haystack)
    return lambda r: (not r.pinned, r.recent if r.recent is not None else 1 << 30, r.listing == NOT_LISTED,
                      r.haystack)


def sort_rows(rows: Iterable[ModelRow], sort: str = "name") -> list[ModelRow]:
    """Favourites and recents on top, models the server does not list at the bottom; then by name, context (largest first) or input price (cheapest first)."""
    return sorted(rows, key=_sort_key(sort))


_WORD_SEPARATORS = ("/", "-", " ", ".", ":", "_")


def _subsequence(token: str) -> re.Pattern[str]:
    """The characters of ``token`` in order, gaps allowed; possessive gaps keep it linear (no backtracking)."""
    parts = [re.escape(token[0])]
    for ch in token[1:]:
        escaped = re.escape(ch)
        parts.append(f"[^{escaped}]*+{escaped}")
    return re.compile("".join(parts))


class Filter:
    """Fuzzy filter over pre-sorted rows, remembering the last query to narrow incrementally.

    Each whitespace-separated token must match: contiguously (best when it
    starts a word) or as a subsequence (worse the more it is spread out).
    Rows keep their input order among equal scores.
    """

    def __init__(self, rows: Sequence[ModelRow]):
        self.rows = list(rows)
        self._last_query = ""
        self._last_matches: list[ModelRow] = self.rows

    def matches(self, query: str) -> list[ModelRow]:
        """Every matching row, best first (the input order breaks ties)."""
        query = query.strip().lower()
        if not query:
            self._last_query, self._last_matches = "", self.rows
            return self.rows
        narrowing = bool(self._last_query) and query.startswith(self._last_query)  # matches can only shrink
        candidates = self._last_matches if narrowing else self.rows
        scores = [0] * len(candidates)
        for token in query.split():
            starts = tuple(sep + token for sep in _WORD_SEPARATORS) if len(token) > 1 else ()
            spread = _subsequence(token)
            kept: list[ModelRow] = []
            kept_scores: list[int] = []
            for row, score in zip(candidates, scores, strict=True):
                hay = row.haystack
                if token in hay:
                    kept.append(row)
                    kept_scores.append(score if not starts or hay.startswith(token)
                                       or any(start in hay for start in starts) else score + 1)
                else:
                    found = spread.search(hay)
                    if found is not None:
                        kept.append(row)
                        kept_scores.append(score + 2 + found.end() - found.start() - len(token))
            candidates, scores = kept, kept_scores
        self._last_query, self._last_matches = query, candidates
        order = sorted(range(len(candidates)), key=scores.__getitem__)
        return [candidates[i] for i in order]


def fmt_tokens(n: int | None) -> str:
    """``128000`` → ``128k``; ``1048576`` → ``1M``."""
    if not n:
        return "—"
    if n >= 1_000_000:
        value = n / 1_000_000
        return f"{value:.0f}M" if value >= 10 or value == int(value) else f"{value:.1f}M"
    if n >= 1000:
        return f"{n / 1000:.0f}k"
    return str(n)


def fmt_price(p: float | None) -> str:
    """USD per million tokens: ``0.15``, ``3``, ``free``."""
    if p is None:
        return "—"
    if p == 0:
        return "free"
    if p >= 100:
        return f"{p:.0f}"
    if p >= 10:
        return f"{p:.1f}".rstrip("0").rstrip(".")
    return f"{p:.2f}".rstrip("0").rstrip(".")
