"""The REPL's model index: every model llmswitch knows, which providers are *yours*, prefix tables for completion.

The rows come from :func:`llmswitch.services.models.provider_rows` (the one merge of
favourites, cached live lists and the catalog) and queries go through
:func:`llmswitch.services.models.search` (the one matcher); what is left here is
choosing the pool (your providers first) and answering completion from sorted
tables with ``bisect``.
"""

from __future__ import annotations

import bisect
import os
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from ..base import paths
from ..services.matching import CONFIGURED, UNCONFIGURED, WORKING
from ..services.models import ModelRow, close_refs, make_row, provider_rows, search
from ..store import catalog, keys, state
from ..store import selection as _selection
from ..store.config import UnknownProvider
from ..store.selection import SelectionError

if TYPE_CHECKING:  # pragma: no cover
    from ..store.config import Config, ProviderConfig

__all__ = ["COMPLETION_LIMIT", "ModelIndex", "models_cache_dir", "mtime"]

COMPLETION_LIMIT = 400


class ModelIndex:
    """Every model llmswitch knows, prepared for fuzzy search and prefix completion.

    Built once (≈ 0.1–0.3 s with the full catalog, mostly loading the catalog
    itself) and then answered from sorted lists with ``bisect``. ``mine`` is
    the list of *your* providers; queries and bare-word completion look there
    first.
    """

    def __init__(self, config: Config, *, extra_refs: Iterable[str] = (), current: str | None = None) -> None:
        extra_refs = list(extra_refs)
        self.config = config
        self.provider_ids: list[str] = sorted(set(config.providers) | set(catalog.presets()))
        self.provider_set = set(self.provider_ids) | set(_aliases())
        self.recent = [r for r in state.recent() if "/" in r]
        self.mine: list[str] = self._mine(config, extra_refs, current)
        self.standing: dict[str, int] = self._standing(config, current)
        """Per provider of yours, how it ranks (``matching.WORKING`` first); the rest rank ``UNCONFIGURED``."""
        rows: dict[str, ModelRow] = {}
        by_provider: dict[str, list[ModelRow]] = {}
        for pid in self.provider_ids:
            provider = self._provider(pid)
            if provider is not None:
                by_provider[pid] = provider_rows(provider, recent=self.recent)
                rows.update((row.ref, row) for row in by_provider[pid])
        self.listed: dict[str, list[ModelRow]] = {pid: list(found) for pid, found in by_provider.items()}
        """Per provider, the models its live list, the catalog or its favourites name (not just recents)."""
        for ref in [*self.recent, *extra_refs]:
            pid, _, model = ref.partition("/")
            if ref not in rows and pid in by_provider and model:
                rows[ref] = make_row(pid, model, catalog.model_info(pid, model),
                                     recent=self.recent.index(ref) if ref in self.recent else None)
                by_provider[pid].append(rows[ref])
        self.rows = rows
        self.by_provider = by_provider
        self.mine_rows = [row for pid in self.mine for row in by_provider.get(pid, ())]
        # prefix tables: sorted lower-case keys and their completion texts
        self._refs = _table((row.ref.lower(), row.ref) for row in rows.values())
        bare: dict[str, str] = {}
        for row in self.mine_rows or rows.values():
            head = row.model.split("/", 1)[0]
            if "/" in row.model and head.lower() in self.provider_set:
                continue  # "anthropic/claude…" would read as provider anthropic: complete the full ref instead
            bare.setdefault(row.model.lower(), row.model)
        self._bare = _table(bare.items())
        self._providers = _table((p.lower(), p + "/") for p in self.provider_ids)
        self._own: dict[str, set[str]] = {}
        self._standing_of_bare: dict[str, int] | None = None

    def _provider(self, pid: str) -> ProviderConfig | None:
        try:
            return self.config.provider(pid)
        except UnknownProvider:
            return None

    def _standing(self, config: Config, current: str | None) -> dict[str, int]:
        """Configured (or in use now) and its last probe usable → WORKING; configured or in use → CONFIGURED."""
        ranks: dict[str, int] = {}
        for pid in dict.fromkeys([*config.providers, *([current.partition("/")[0]] if current else [])]):
            provider = self._provider(pid)
            if provider is None:
                continue
            last = state.last_probe(pid, provider.base_url)
            ranks[pid] = WORKING if last is not None and last.usable else CONFIGURED
        return ranks

    def _mine(self, config: Config, extra_refs: list[str], current: str | None) -> list[str]:
        """Your providers: the current one, configured, selected, recent, probed, or with a key in the environment."""
        found: dict[str, None] = {}
        if current:
            found[current.partition("/")[0]] = None
        found.update(dict.fromkeys(config.providers))
        try:
            found.update(dict.fromkeys(sel.provider for sel in _selection.read_all().values()))
        except SelectionError:
            pass
        found.update(dict.fromkeys(ref.partition("/")[0] for ref in [*extra_refs, *self.recent]))
        try:
            cached = sorted(p.stem for p in models_cache_dir().iterdir() if p.suffix == ".json")
        except OSError:
            cached = []
        for pid in cached:
            provider = self._provider(pid)
            if provider is not None and state.known_models(pid, provider.base_url):
                found[pid] = None
        for pid, preset in catalog.presets().items():
            if not preset.local and (os.environ.get(keys.override_var(pid))
                                     or any(os.environ.get(v) for v in preset.key_env)):
                found[pid] = None
        return [pid for pid in found if pid in self.provider_set]

    # -- search
    def search(self, query: str, *, everywhere: bool = False, prefer: str | None = None) -> tuple[int, list[ModelRow]]:
        """(band, rows) for ``query`` (:func:`llmswitch.services.models.search`): among your providers, else everywhere.

        ``everywhere`` searches the whole catalog, without the separator-blind (``gpt4o``) matches.
        """
        pool = self.rows.values() if everywhere or not self.mine_rows else self.mine_rows
        return search(pool, query, prefer=prefer, recent=self.recent, loose=not everywhere, standing=self.standing)

    def did_you_mean(self, query: str, n: int = 3) -> list[str]:
        """Close refs (or provider ids) for a query that matched nothing."""
        return close_refs(query, self.mine_rows or self.rows.values(), self.provider_ids, n)

    def models_of(self, provider: str) -> list[ModelRow]:
        return list(self.by_provider.get(provider, ()))

    def row(self, ref: str) -> ModelRow | None:
        return self.rows.get(ref)

    # -- completion
    def complete_word(self, word: str, prefer: str | None = None) -> list[str]:
        """Completions for one argument word; every one starts with ``word`` (case-insensitively)."""
        w = word.lower()
        out = sorted((r for r in self.recent if r.lower().startswith(w)),  # stable: yours that work first
                     key=lambda ref: self.standing.get(ref.partition("/")[0], UNCONFIGURED))
        head, slash, _ = w.partition("/")
        if slash and head in self.provider_set:
            out += _prefix(self._refs, w)
        else:
            out += _prefix(self._providers, w)
            bare = _prefix(self._bare, w)
            if prefer:  # the current provider's models first
                own = self._own.get(prefer)
                if own is None:
                    own = self._own[prefer] = {row.model for row in self.by_provider.get(prefer, ())}
                bare.sort(key=lambda m: m not in own)
            bare.sort(key=self._bare_standing)  # stable: then yours that work, before presets nobody set up
            out += bare
        return list(dict.fromkeys(out))[:COMPLETION_LIMIT]


    def _bare_standing(self, model: str) -> int:
        """The best standing among the providers that list ``model`` (a bare id completes for any of them)."""
        if self._standing_of_bare is None:
            best: dict[str, int] = {}
            for row in self.mine_rows or self.rows.values():
                rank = self.standing.get(row.provider, UNCONFIGURED)
                if rank < best.get(row.model, UNCONFIGURED + 1):
                    best[row.model] = rank
            self._standing_of_bare = best
        return self._standing_of_bare.get(model, UNCONFIGURED)


def _table(pairs: Iterable[tuple[str, str]]) -> tuple[list[str], list[str]]:
    """(sorted lower-case keys, the completion texts in the same order)."""
    ordered = sorted(pairs)
    return [k for k, _ in ordered], [text for _, text in ordered]


def _prefix(table: tuple[list[str], list[str]], prefix: str) -> list[str]:
    """The texts whose keys start with ``prefix`` (at most COMPLETION_LIMIT), found by two bisections."""
    keys, texts = table
    start = bisect.bisect_left(keys, prefix)
    end = min(bisect.bisect_left(keys, prefix + "\U0010ffff", start), start + COMPLETION_LIMIT)
    return texts[start:end]


def _aliases() -> list[str]:
    names = ["lmstudio"]
    for preset in catalog.presets().values():
        names += preset.aliases
    return names


def models_cache_dir() -> Path:
    return paths.cache_dir() / "models"


def mtime(path: Path | str) -> int | None:
    try:
        return os.stat(path).st_mtime_ns
    except OSError:
        return None
