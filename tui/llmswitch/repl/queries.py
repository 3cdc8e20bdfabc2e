"""What a ``/model QUERY`` or ``/models [QUERY]`` finds: a model to switch to, or a reply (a list, did-you-mean).

Pure answers over a :class:`~llmswitch.repl.index.ModelIndex`; the switcher
does the switching. ``current`` is the role's current ref (its provider is
preferred, and it is marked ``*`` in lists).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..services.matching import UNCONFIGURED
from ..services.models import make_row, search
from ..store import catalog
from .reply import Reply, count, numbered

if TYPE_CHECKING:  # pragma: no cover
    from ..store.config import Config
    from .index import ModelIndex

__all__ = ["SwitchTo", "find", "listing"]


@dataclass(frozen=True)
class SwitchTo:
    """The query names one model: switch to ``ref`` (``hint``: shown with any warning or refusal)."""

    ref: str
    hint: str | None = None


def _provider_id(pid: str, config: Config) -> str:
    """A configured id as written, else the preset's own id for an alias (``lmstudio`` → ``lm_studio``)."""
    preset = catalog.preset(pid)
    return pid if pid in config.providers or preset is None else preset.id


def find(query: str, index: ModelIndex, config: Config, current: str | None, *, force: bool) -> Reply | SwitchTo:
    """``PROVIDER/MODEL`` (a hard constraint), an exact ref, or a fuzzy query among your providers."""
    head, slash, model = query.partition("/")
    if slash and " " not in query and head in index.provider_set:
        return _explicit(head, model, index, config, current, force)
    if " " not in query and query in index.rows:
        return SwitchTo(query)
    return _query(query, index, current)


def _explicit(provider_id: str, model: str, index: ModelIndex, config: Config, current: str | None,
              force: bool) -> Reply | SwitchTo:
    pid = _provider_id(provider_id, config)
    ref = f"{pid}/{model}"
    known = index.listed.get(pid, [])
    ids = {row.model for row in known}
    if model and known and not force and model not in ids and f"{model}:latest" not in ids:
        _, matches = search(known, model)
        if matches:
            return numbered(f"{pid} lists no model {model!r}; did you mean:", matches,
                            f"pick one: /model N — or /model --force {ref} to use the id as typed", current)
    whole = f"{provider_id}/{model}"
    elsewhere = [row.ref for row in index.mine_rows if row.model == whole and row.provider != pid][:2]
    hint = (f"did you mean {' or '.join(elsewhere)}? (the first part of PROVIDER/MODEL is the provider)"
            if elsewhere else None)
    return SwitchTo(ref, hint)


def _query(query: str, index: ModelIndex, current: str | None) -> Reply | SwitchTo:
    prefer = current.partition("/")[0] if current else None
    band, matches = index.search(query, prefer=prefer)
    if matches:
        clear = matches[0] if len(matches) == 1 else None
        if clear is None and band == 0 and prefer:
            own = [m for m in matches if m.provider == prefer]
            clear = own[0] if len(own) == 1 else None
        if clear is not None:
            return SwitchTo(clear.ref)
        return numbered(f"{count(len(matches), 'model')} match {query!r}:", matches,
                        "pick one: /model N (or narrow the query)", current)
    word = "/" not in query and " " not in query
    unlisted = prefer is not None and not index.listed.get(prefer) and word
    if index.mine_rows:
        _, elsewhere = index.search(query, everywhere=True, prefer=prefer)
        if elsewhere:
            footer = "pick one: /model N (you may need its key: llmswitch key set PROVIDER)"
            if unlisted:
                footer += (f"\n{prefer} has no model list yet — /model {prefer}/{query} uses the id as typed "
                           f"(llmswitch probe {prefer} fetches its list)")
            return numbered(f"none of your providers has {query!r}; in the catalog:", elsewhere, footer, current)
    close = index.did_you_mean(query)
    hint = f"did you mean {', '.join(close)}?" if close else "see /models"
    if word and unlisted:
        hint = (f"{prefer} has no model list yet, so {query!r} was not looked up — to use it as typed: "
                f"/model {prefer}/{query}")
    elif word:
        hint += f" (to use an id as typed: /model PROVIDER/{query})"
    return Reply(f"no model matches {query!r} — {hint}", ok=False)


def _models_of_yours(query: str, index: ModelIndex, config: Config) -> bool:
    """``/models llama``: a word that names a provider nobody set up, but also models of your providers —
    the models win (``/models llama/`` still lists the provider)."""
    if query.endswith("/") or _provider_id(query, config) in index.mine:
        return False
    return bool(index.mine_rows) and bool(index.search(query)[1])


def listing(query: str, index: ModelIndex, config: Config, current: str | None) -> Reply:
    """``/models``: your providers' models; ``/models PROVIDER``; ``/models QUERY`` (yours first, then everywhere)."""
    head, slash, rest = query.partition("/")
    if not query:
        matches = list(index.mine_rows)
        if current and current not in {m.ref for m in matches}:
            pid, _, model = current.partition("/")
            matches.insert(0, index.row(current) or make_row(pid, model))
        if not matches:
            return Reply("no providers of yours yet — add one: llmswitch providers add ID, or /models QUERY "
                         "searches the catalog", ok=False)
        recent = {r: i for i, r in enumerate(index.recent)}
        matches.sort(key=lambda m: (m.ref != current, index.standing.get(m.provider, UNCONFIGURED),
                                    recent.get(m.ref, len(recent)), m.provider, m.model))
        title = f"{count(len(matches), 'model')} from your providers ({', '.join(index.mine) or '-'}):"
    elif query.rstrip("/") in index.provider_set and " " not in query and not _models_of_yours(query, index, config):
        pid = _provider_id(query.rstrip("/"), config)
        matches = index.models_of(pid)
        if not matches:
            return Reply(f"{pid}: no models known yet — run: llmswitch probe {pid}", ok=False)
        title = f"{pid}: {count(len(matches), 'model')}:"
    else:
        if slash and head in index.provider_set and " " not in query:
            _, matches = search(index.by_provider.get(head, []), rest)
        else:
            _, matches = index.search(query, prefer=current.partition("/")[0] if current else None)
            if not matches:
                _, matches = index.search(query, everywhere=True)
        if not matches:
            close = index.did_you_mean(query)
            return Reply(f"no model matches {query!r}" + (f" — did you mean {', '.join(close)}?" if close else ""),
                         ok=False)
        title = f"{count(len(matches), 'model')} match{'es' if len(matches) == 1 else ''} {query!r}:"
        if query in index.provider_set:
            title = title[:-1] + f" (/models {query}/ lists the provider {query}):"
    return numbered(title, matches, "switch: /model N (this session) · /model --save N", current)
