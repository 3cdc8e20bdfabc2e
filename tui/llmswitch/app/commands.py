"""Command-palette entries "switch model: provider/model" (recent first)."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

from textual.command import DiscoveryHit, Hit, Hits, Provider

from ..redact import terminal_safe


class SwitchModelCommands(Provider):
    """Palette entries "switch model: provider/model", recent models first."""

    def _refs(self) -> list[str]:
        from .. import state
        from .screens.picker import PickerScreen

        refs = list(state.recent())
        picker = next((s for s in self.app.screen_stack if isinstance(s, PickerScreen)), None)
        if picker is not None:
            refs.extend(picker.known_refs())
        return list(dict.fromkeys(refs))

    def _command(self, ref: str) -> Callable[[], None]:
        return partial(self.app.switch_from_palette, ref)

    async def discover(self) -> Hits:
        from .. import state

        for ref in state.recent(10):
            yield DiscoveryHit(f"switch model: {terminal_safe(ref)}", self._command(ref), help="recently used")

    async def search(self, query: str) -> Hits:
        from .. import state

        matcher = self.matcher(query)
        terms = search_terms(query)
        recent = set(state.recent())
        hits = 0
        for ref in self._refs():
            text = f"switch model: {terminal_safe(ref)}"
            score = rank(terms, ref, matcher.match(text))
            if score > 0:
                if ref in recent:  # recent models first among equals
                    score += 0.02
                hits += 1
                yield Hit(score, matcher.highlight(text), self._command(ref), text=text)
                if hits >= 200:
                    return


def search_terms(query: str) -> list[str]:
    """The words of a palette query that are about the model ("switch m1" → ["m1"])."""
    words = query.lower().split()
    while words and words[0] in ("switch", "model", "model:", "switch:", "use"):
        words.pop(0)
    return words


def rank(terms: list[str], ref: str, fuzzy: float) -> float:
    """Exact model ids first, then substrings of the id (shorter ids first), then fuzzy matches.

    Bands: 1.0 exact id, 0.9 id starts with the query, 0.7–0.8 every word a substring,
    below 0.5 the fuzzy matcher's own score (squeezed, order kept).
    """
    if not terms:
        return 0.5 * fuzzy / (1 + fuzzy) if fuzzy > 0 else 0.0
    ref = ref.lower()
    model = ref.partition("/")[2]
    joined = " ".join(terms)
    if joined in (model, ref):
        return 1.0
    if all(term in ref for term in terms):
        tightness = min(0.09, len(model) / 1000)  # the shorter the id, the closer the match
        if model.startswith(joined) or ref.startswith(joined):
            return 0.95 - tightness
        if any(f"{sep}{terms[0]}" in ref for sep in "/-:._"):
            return 0.85 - tightness
        return 0.75 - tightness
    return 0.5 * fuzzy / (1 + fuzzy) if fuzzy > 0 else 0.0  # Textual's fuzzy scores are unbounded: squeezed below 0.5
