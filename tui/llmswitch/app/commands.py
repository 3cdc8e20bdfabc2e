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
        refs = self._refs()
        recent = set(state.recent())
        hits = 0
        for ref in refs:
            text = f"switch model: {terminal_safe(ref)}"
            score = matcher.match(text)
            if score > 0:
                if ref in recent:  # recent models first among equals
                    score = min(1.0, score + 0.25)
                hits += 1
                yield Hit(score, matcher.highlight(text), self._command(ref), text=text)
                if hits >= 200:
                    return
