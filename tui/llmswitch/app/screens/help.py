"""F1: every key binding, with its id (for remapping) and what it does."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static


def _bindings_of(cls) -> list[Binding]:
    return [b for b in getattr(cls, "BINDINGS", []) if isinstance(b, Binding) and b.description and b.id]


def binding_sections(current: type | None = None) -> list[tuple[str, list[Binding]]]:
    """Every screen's bindings; the screen the help was opened from comes first."""
    from ..app import LLMSwitchApp
    from .confirm import ConfirmScreen
    from .picker import PickerScreen
    from .provider import PresetChooser, ProviderScreen
    from .setup import SetupWizard

    screens = [("Model picker", PickerScreen), ("Provider editor", ProviderScreen), ("Add provider", PresetChooser),
               ("Setup wizard", SetupWizard), ("Questions", ConfirmScreen)]
    here = [(title, cls) for title, cls in screens if current is not None and issubclass(current, cls)]
    others = [(title, cls) for title, cls in screens if current is None or not issubclass(current, cls)]
    return ([(title, _bindings_of(cls)) for title, cls in here] + [("Everywhere", _bindings_of(LLMSwitchApp))]
            + [(title, _bindings_of(cls)) for title, cls in others])


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

    def __init__(self, current: type | None = None) -> None:
        super().__init__()
        self.current = current
        """The class of the screen the help was opened from: its keys are listed first."""

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
        for index, (title, bindings) in enumerate(binding_sections(self.current)):
            here = index == 0 and title != "Everywhere"
            table.add_row(Text(title, style="bold underline"), Text("(this screen)" if here else "", style="dim"), "")
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
