"""F1: every key binding, with its id (for remapping) and what it does.

The screen is handed the sections to show (the app knows its screens); it imports none.
"""

from __future__ import annotations

from collections.abc import Sequence

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static


def _key_text(key: str) -> str:
    return " / ".join(k.replace("ctrl+", "^").replace("slash", "/") for k in key.split(","))


class HelpScreen(ModalScreen[None]):
    """The list of bindings; escape or F1 closes it."""

    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    HelpScreen > VerticalScroll { width: 90; max-width: 100%; height: 90%; border: thick $primary;
                                  background: $surface; padding: 0 1; }
    """
    BINDINGS = [Binding("escape,f1,q", "close", "Close", id="help.close")]

    def __init__(self, sections: Sequence[tuple[str, Sequence[Binding]]], here: str | None = None) -> None:
        super().__init__()
        self.sections = list(sections)
        """(title, bindings) in the order shown."""
        self.here = here
        """The title of the section of the screen the help was opened from (marked "this screen")."""

    def compose(self) -> ComposeResult:
        with VerticalScroll():
            yield Static(self._table(), markup=False)

    def on_mount(self) -> None:
        self.query_one(VerticalScroll).border_title = "Keys — F1 or escape closes"

    def _table(self) -> Table:
        table = Table(box=None, expand=True, show_header=True, header_style="bold", pad_edge=False)
        table.add_column("Key", no_wrap=True)
        table.add_column("Does")
        table.add_column("Binding id (remappable)", style="dim", no_wrap=True)
        for title, bindings in self.sections:
            here = "(this screen)" if title == self.here else ""
            table.add_row(Text(title, style="bold underline"), Text(here, style="dim"), "")
            for binding in bindings:
                table.add_row(_key_text(binding.key), binding.tooltip or binding.description, binding.id or "")
        table.add_row("", "", "")
        table.add_row(Text("Also", style="bold underline"), "", "")
        table.add_row("^p", "command palette: every action, and “switch model: provider/model”", "")
        table.add_row("tab", "move between the providers, the filter and the models", "")
        table.add_row("typing", "filters the models (fuzzy)", "")
        table.add_row("", "", "")
        table.add_row(Text("Remapping", style="bold underline"), "", "")
        table.add_row("", "set LLMSWITCH_KEYMAP, e.g. “picker.reprobe=r;picker.role=ctrl+y”", "")
        return table

    def action_close(self) -> None:
        self.dismiss(None)
