"""The key bindings' footer: Textual's, rebuilt once for the binding changes that arrive before it is rebuilt."""

from __future__ import annotations

from typing import Any

from textual.screen import Screen
from textual.widgets import Footer as TextualFooter


class Footer(TextualFooter):
    """Textual's :class:`~textual.widgets.Footer`, rebuilding its keys once per batch of binding changes.

    Textual's footer removes and mounts every key again for each change of the bindings it hears of, each after
    the next refresh. Before the picker's first frame it hears of four (the focus, the screen's resume, the first
    details, idle); with the picker's six keys each rebuild cost ~10 ms of that frame. A rebuild reads the bindings
    as they are when it runs, so one queued behind it has nothing new to show unless a change came in between.
    """

    _stale = True
    """A binding changed since the last rebuild began (and read the bindings)."""

    def bindings_changed(self, screen: Screen[Any]) -> None:
        self._stale = True
        super().bindings_changed(screen)

    async def recompose(self) -> None:
        if not self._stale:
            return  # the rebuild before this one read the bindings after their last change
        self._stale = False
        await super().recompose()
