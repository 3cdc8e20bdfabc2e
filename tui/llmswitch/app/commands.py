"""Command-palette entries "switch model: provider/model" (recent first)."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING, cast

from textual.command import DiscoveryHit, Hit, Hits, Provider

from ..base.redact import terminal_safe
from ..services.models import CONTAINS, EXACT, PREFIX, WORD, WORDS, Keys, Query
from ..store import state

if TYPE_CHECKING:  # pragma: no cover
    from .app import LLMSwitchApp


class SwitchModelCommands(Provider):
    """Palette entries "switch model: provider/model", recent models first."""

    def _refs(self) -> list[str]:
        from .screens.picker import PickerScreen  # the palette opens late; screens import the app

        refs = list(state.recent())
        picker = next((s for s in self.app.screen_stack if isinstance(s, PickerScreen)), None)
        if picker is not None:
            refs.extend(picker.known_refs())
        return list(dict.fromkeys(refs))

    def _summaries(self) -> dict[str, str]:
        """``ref`` → context and prices of the models a gateway described (marked as from the gateway)."""
        from ..net.gateway import kind_of
        from ..services.models import summary
        from .screens.picker import PickerScreen

        picker = next((s for s in self.app.screen_stack if isinstance(s, PickerScreen)), None)
        if picker is None:
            return {}
        gateways = [pid for pid, provider in picker.providers.items() if kind_of(provider)]
        said = {row.ref: summary(row) for pid in gateways for row in picker.rows_for(pid) if row.gateway is not None}
        for ref, served in self._served().items():
            said[ref] = f"{served} · {said[ref]}" if said.get(ref) else served
        return said

    def _served(self) -> dict[str, str]:
        """``ref`` → ``served 512 of 4k`` (``⚠`` when smaller than the model's) for models whose server said it."""
        from ..services.served import details
        from ..store import served as kept
        from .screens.picker import PickerScreen

        picker = next((s for s in self.app.screen_stack if isinstance(s, PickerScreen)), None)
        found: dict[str, str] = {}
        if picker is None:
            return found
        for pid, provider in picker.providers.items():
            read = kept.contexts(pid, provider.base_url)
            if read is None:
                continue
            for row in picker.rows_for(pid):
                if row.model in read.models:
                    line, warning = details(provider, row.model, row)
                    if line.startswith("served"):
                        found[row.ref] = ("⚠ " if warning else "") + line.partition(" · ")[0]
        return found

    def _command(self, ref: str) -> Callable[[], None]:
        app = cast("LLMSwitchApp", self.app)
        return partial(app.switch_from_palette, ref)

    async def discover(self) -> Hits:
        for ref in state.recent(10):
            yield DiscoveryHit(f"switch model: {terminal_safe(ref)}", self._command(ref), help="recently used")

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        terms = Query(" ".join(search_terms(query)))
        recent = set(state.recent())
        summaries = self._summaries()
        hits = 0
        for ref in self._refs():
            text = f"switch model: {terminal_safe(ref)}"
            score = rank(terms, ref, matcher.match(text))
            if score > 0:
                if ref in recent:  # recent models first among equals
                    score += 0.02
                hits += 1
                yield Hit(score, matcher.highlight(text), self._command(ref), text=text,
                          help=terminal_safe(summaries.get(ref, "")) or None)
                if hits >= 200:
                    return


def search_terms(query: str) -> list[str]:
    """The words of a palette query that are about the model ("switch m1" → ["m1"])."""
    words = query.lower().split()
    while words and words[0] in ("switch", "model", "model:", "switch:", "use"):
        words.pop(0)
    return words


_BANDS = {EXACT: 1.0, PREFIX: 0.95, WORD: 0.85, CONTAINS: 0.75, WORDS: 0.75}


def rank(query: Query, ref: str, fuzzy: float) -> float:
    """Exact model ids first, then ids that start or contain the query (shorter ids first), then fuzzy matches.

    The tiers are :class:`llmswitch.services.models.Query`'s, as the REPL's; bands: 1.0 exact id, 0.95 prefix,
    0.85 at a word start, 0.75 every word a substring, below 0.5 Textual's fuzzy score (squeezed,
    order kept; its highlight marks the same letters).
    """
    squeezed = 0.5 * fuzzy / (1 + fuzzy) if fuzzy > 0 else 0.0  # Textual's fuzzy scores are unbounded
    tier = query.tier(Keys.of(ref), loose=False)
    if tier is None:
        return squeezed
    if tier == EXACT:
        return 1.0
    tightness = min(0.09, len(ref.partition("/")[2]) / 1000)  # the shorter the id, the closer the match
    return _BANDS[tier] - tightness
