"""Matching a query against models: one scoring rule, the picker's filter, the REPL's tiers.

One scoring rule for a query word against a row's text (:class:`Token`): contiguous at a
word start, contiguous, or its letters in order with gaps. :class:`Filter` (the picker:
every keystroke over ~5,000 rows, narrowing incrementally) and :class:`Query` (tiers —
exact id, prefix, word start, substring, all words, separators ignored, letters in order —
for the REPL's "one clear match" and the palette's bands) are built on it; :func:`search`
is the REPL's ranking (current provider, then recent). :mod:`llmswitch.services.models` re-exports
all of it (its rows carry :class:`Keys`).
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    from .models import ModelRow

__all__ = ["COMPACT", "CONFIGURED", "CONTAINS", "EXACT", "FLAG_WORDS", "PREFIX", "SPREAD", "UNCONFIGURED", "WORD",
           "WORDS", "WORKING", "Filter", "Keys", "Needs", "Query", "Token", "close_refs", "search"]

_WORD_SEPARATORS = ("/", "-", " ", ".", ":", "_")
_SEPARATOR_RUN = re.compile(r"[-_./:@\s]+")


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


FLAG_WORDS = ("tools", "vision", "reasoning")
"""Query words that keep only models with that capability (as the catalog or the gateway says)."""
_LIMIT_WORD = re.compile(r"^(ctx|context|price)(>=|<=|>|<|=)")
_LIMIT = re.compile(r"^(ctx|context|price)(>=|<=|>|<|=)\$?(\d+(?:\.\d+)?)([km]?)$")
_SCALE = {"": 1, "k": 1000, "m": 1_000_000}


class Needs:
    """What a query asks of a model besides its name: ``tools``, ``vision``, ``reasoning``, ``ctx>=100k``,
    ``price<=1`` (USD per million input tokens).

    The context compared is the one the server serves when a probe read it, else the catalog's
    (:attr:`llmswitch.services.models.ModelRow.usable_context`). A model whose value nobody knows does not
    pass a limit. A word still being typed (``ctx>=``) asks nothing yet, and is not searched for either.
    """

    __slots__ = ("flags", "limits")

    def __init__(self, flags: Iterable[str] = (), limits: Iterable[tuple[str, str, float]] = ()) -> None:
        self.flags = frozenset(flags)
        self.limits = tuple(limits)
        """(``context`` or ``price``, operator, value) triples."""

    @classmethod
    def split(cls, query: str) -> tuple[Needs, str]:
        """The query's filter words as :class:`Needs`, and the rest of the query (lower-cased words)."""
        flags: list[str] = []
        limits: list[tuple[str, str, float]] = []
        rest: list[str] = []
        for word in query.lower().split():
            if word in FLAG_WORDS:
                flags.append(word)
                continue
            if not _LIMIT_WORD.match(word):
                rest.append(word)
                continue
            found = _LIMIT.match(word)
            if found:
                field, op, number, scale = found.groups()
                limits.append(("price" if field == "price" else "context", op, float(number) * _SCALE[scale]))
        return cls(flags, limits), " ".join(rest)

    def __bool__(self) -> bool:
        return bool(self.flags or self.limits)

    def admits(self, row: ModelRow) -> bool:
        """True when the row has every capability asked and meets every limit."""
        if any(not getattr(row, flag) for flag in self.flags):
            return False
        for field, op, value in self.limits:
            have = row.usable_context if field == "context" else row.input_price
            if have is None or not _compare(have, op, value):
                return False
        return True


def _compare(have: float, op: str, value: float) -> bool:
    return {">=": have >= value, "<=": have <= value, ">": have > value, "<": have < value, "=": have == value}[op]


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
        needs, text = Needs.split(query)
        if needs or text != " ".join(query.split()):  # a limit typed on (price<=1 → 10) can widen: start over
            candidates = [row for row in self.rows if needs.admits(row)]
        else:
            base = max((q for q in self._seen if query.startswith(q)), key=len, default="")
            candidates = self._seen[base][0] if base else self.rows
        scores = [0] * len(candidates)
        for word in text.split():
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


WORKING, CONFIGURED, UNCONFIGURED = range(3)
"""A provider's standing for :func:`search`'s order: configured (or in use) and its last probe usable;
configured or in use; anything else (a preset nobody set up)."""

_BANDS = {EXACT: 0, PREFIX: 1, WORD: 2, CONTAINS: 2, WORDS: 3, COMPACT: 3}
"""The REPL's bands: a query switches only on one clear match in the best band, so a word-start
and a mid-word substring of the same query are equally "clear"."""


def search(rows: Iterable[ModelRow], query: str, *, prefer: str | None = None, recent: Sequence[str] = (),
           loose: bool = True, standing: Mapping[str, int] | None = None) -> tuple[int, list[ModelRow]]:
    """(band, rows) of the best band: 0 exact id or name, 1 prefix, 2 substring, 3 all words; (-1, []) for none.

    Filter words (:class:`Needs`: ``tools``, ``ctx>=100k``, ``price<=1``) keep only the rows that meet them;
    a query of filter words alone matches every such row, in band 3.

    The band is the best one among the rows of the best ``standing`` that match (a preset nobody set up
    never hides your model by matching it more closely; its closer rows are kept, after yours).
    ``loose`` also finds ids with separators ignored (``gpt4o``). Rows are ordered by their
    provider's ``standing`` (lower first: configured and working before configured before the
    rest; absent: :data:`UNCONFIGURED`), then ``prefer``'s provider, then recent, then the finer
    tier, shorter ids, the ref.
    """
    needs, query = Needs.split(query)
    if needs:
        rows = [row for row in rows if needs.admits(row)]
    q = Query(query)
    if not q.text and not needs:
        return -1, []
    matched = [(tier, row) for row in rows if (tier := q.tier(row.keys, loose=loose) if q.text else WORDS) is not None]
    if not matched:
        return -1, []

    def rank(row: ModelRow) -> int:
        return standing.get(row.provider, UNCONFIGURED) if standing else 0

    best = min(rank(row) for _, row in matched)
    band = min(_BANDS[tier] for tier, row in matched if rank(row) == best)  # a preset's closer match never hides
    found = [(tier, row) for tier, row in matched if _BANDS[tier] <= band]  # yours; it is listed after them
    where = {ref: i for i, ref in enumerate(recent)}
    found.sort(key=lambda tr: (rank(tr[1]), tr[1].provider != prefer, where.get(tr[1].ref, len(where)), tr[0],
                               len(tr[1].model), tr[1].keys.ref))
    return band, [row for _, row in found]


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
