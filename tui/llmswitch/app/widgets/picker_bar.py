"""The picker's top line: the role Enter sets, the model active for it (and in which scope), the sort."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.text import Text
from textual.widgets import Static

if TYPE_CHECKING:
    from ...store.selection import ActiveSelection
    from ..app import LLMSwitchApp


class PickerBar(Static):
    """One line; the sort is the first thing to go when the terminal is narrow (the models' header shows it too)."""

    app: LLMSwitchApp

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, markup=False)

    def show(self, role: str, active: ActiveSelection | None, scope: str, *, pick_mode: bool, sort: str) -> None:
        """``active`` is the model in force for ``role`` here, and ``scope`` where it comes from when not active.toml."""
        bar = Text()
        bar.append(" llmswitch ", style="bold reverse")
        bar.append("  pick for " if pick_mode else "  role: ", style="dim")
        bar.append(role, style="bold")
        bar.append("  active: ", style="dim")
        bar.append(self.app.shown(active.ref) if active else "none", style="bold" if active else "dim")
        bar.append(self.app.shown(scope), style="yellow")
        sorted_by = f"  sort: {sort}"
        width = self.screen.size.width or 80
        if bar.cell_len + len(sorted_by) <= width:
            bar.append(sorted_by, style="dim")
        bar.truncate(width, overflow="ellipsis")
        self.update(bar)
