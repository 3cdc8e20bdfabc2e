"""A yes/no question as a modal (with an optional checkbox)."""

from __future__ import annotations

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Checkbox, Static


class ConfirmScreen(ModalScreen[bool | tuple[bool, bool]]):
    """Ask; dismiss with True/False (or ``(answer, checkbox)`` when a checkbox is shown)."""

    DEFAULT_CSS = """
    ConfirmScreen { align: center middle; }
    ConfirmScreen > #confirm-box { width: 64; max-width: 95%; height: auto; border: thick $warning;
                                   background: $surface; padding: 1 2; }
    ConfirmScreen #confirm-question { height: auto; }
    ConfirmScreen #confirm-check { margin-top: 1; }
    ConfirmScreen #confirm-buttons { height: auto; margin-top: 1; align-horizontal: right; }
    ConfirmScreen Button { margin-left: 2; }
    """
    BINDINGS = [
        Binding("escape", "answer(False)", "Cancel", id="confirm.cancel"),
        Binding("y", "answer(True)", "Yes", show=False, id="confirm.yes"),
        Binding("n", "answer(False)", "No", show=False, id="confirm.no"),
    ]

    def __init__(self, question: str | Text, yes: str = "Yes", no: str = "No", checkbox: str | None = None,
                 checked: bool = True) -> None:
        super().__init__()
        self.question = question if isinstance(question, Text) else Text(question)
        self.yes_label, self.no_label = yes, no
        self.checkbox = checkbox
        self.checked = checked

    def compose(self) -> ComposeResult:
        with Vertical(id="confirm-box"):
            yield Static(self.question, id="confirm-question", markup=False)
            if self.checkbox:
                yield Checkbox(self.checkbox, self.checked, id="confirm-check")
            with Horizontal(id="confirm-buttons"):
                yield Button(self.no_label, id="no")
                yield Button(self.yes_label, id="yes", variant="warning")

    def on_mount(self) -> None:
        self.query_one("#no", Button).focus()

    def _result(self, answer: bool) -> bool | tuple[bool, bool]:
        if self.checkbox:
            return (answer, self.query_one("#confirm-check", Checkbox).value)
        return answer

    def action_answer(self, answer: bool) -> None:
        self.dismiss(self._result(answer))

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        self.dismiss(self._result(event.button.id == "yes"))
