"""Where a switch from the picker is written, when a shell or project scope is involved (issue 13).

The picker's Enter writes the user default (``active.toml``) as before when only the user scope
is in play. With a ``.llmswitch.toml`` in this directory tree or ``$LLMSWITCH_USE`` set, it asks:
the user default, this project's file (written and trusted), or — the shell scope cannot be set
from a child process — the ``eval`` line to copy into the shell.
"""

from __future__ import annotations

import os

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Static

from ...base.chars import shell_word, terminal_safe
from ...store import overlay, scopes


def look(role: str) -> tuple[scopes.Scopes | None, scopes.Resolved | None]:
    """The scopes here and the role's resolution (None when it cannot be read; the picker says so elsewhere)."""
    try:
        looked = scopes.Scopes(quiet=True)
    except Exception:  # noqa: BLE001 - a malformed $LLMSWITCH_USE or trust list: doctor and current say why
        return None, None
    try:
        return looked, looked.resolve(role)
    except Exception:  # noqa: BLE001 - nothing selected, or a broken file
        return looked, None


def involved(looked: scopes.Scopes | None) -> bool:
    """True when Enter should ask where to write: a project file in this tree, or a shell scope."""
    return looked is not None and (looked.overlay is not None or bool(looked.shell))


def bar_text(resolved: scopes.Resolved | None) -> str:
    """`` · project scope (/repo/.llmswitch.toml:2)`` for the picker's header, or ``""`` for the user scope."""
    return "" if resolved is None or resolved.scope == "user" else f" · {resolved.label()}"


def eval_line(ref: str, role: str) -> str:
    """The line that sets ``ref`` for ``role`` in the user's shell only, each word quoted for the shell."""
    words = ["shell", "use", ref, *([] if role == "default" else ["--role", role])]
    return scopes.eval_line(scopes.detect_shell(None), " ".join(shell_word(w) for w in words))


class WhereScreen(ModalScreen[str | None]):
    """Ask where ``ref`` goes for ``role``: dismiss with ``"user"``, ``"project"`` or None (cancelled)."""

    DEFAULT_CSS = """
    WhereScreen { align: center middle; }
    WhereScreen > #where-box { width: 76; max-width: 95%; height: auto; border: thick $accent;
                               background: $surface; padding: 1 2; }
    WhereScreen #where-text { height: auto; }
    WhereScreen #where-buttons { height: auto; margin-top: 1; align-horizontal: right; }
    WhereScreen Button { margin-left: 1; }
    """
    BINDINGS = [Binding("escape", "dismiss(None)", "Cancel", id="where.cancel")]

    def __init__(self, ref: str, role: str, looked: scopes.Scopes) -> None:
        super().__init__()
        self.ref, self.role, self.looked = ref, role, looked
        self.project_dir = looked.overlay.directory if looked.overlay is not None else os.getcwd()

    def compose(self) -> ComposeResult:
        text = Text()
        text.append(f"Where should {self.ref} be used for role {self.role}?\n\n", style="bold")
        text.append("User default: active.toml — every tool, everywhere.\n")
        project_file = terminal_safe(os.path.join(self.project_dir, overlay.PROJECT_FILE))
        text.append(f"This project: {project_file} (written, then trusted).\n")
        text.append("This shell only: the picker cannot change its shell; copy this line into it:\n  ")
        text.append(eval_line(self.ref, self.role), style="bold")
        if self.role in self.looked.shell:
            text.append(f"\n\nThis shell's ${scopes.SHELL_VAR} sets {self.role} → {self.looked.shell[self.role]}, "
                        f"which wins over both files (llmswitch shell reset drops it).", style="yellow")
        with Vertical(id="where-box"):
            yield Static(text, id="where-text", markup=False)
            with Horizontal(id="where-buttons"):
                yield Button("Cancel", id="cancel")
                yield Button("Copy shell line", id="copy")
                yield Button("This project", id="project")
                yield Button("User default", id="user", variant="primary")

    def on_mount(self) -> None:
        self.query_one("#user", Button).focus()

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "copy":
            self.app.copy_to_clipboard(eval_line(self.ref, self.role))
            self.notify("copied (if your terminal allows it): paste it into the shell", title="shell scope")
            return
        self.dismiss(None if event.button.id == "cancel" else event.button.id)
