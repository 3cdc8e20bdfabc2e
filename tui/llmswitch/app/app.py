"""The llmswitch app: one picker screen, with the editor, wizard and help on top."""

from __future__ import annotations

import os
from collections.abc import Iterable
from functools import partial
from typing import TYPE_CHECKING, Any

from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.screen import Screen

from ..base.redact import terminal_safe, terminal_safe_lines
from ..store.config import Config

if TYPE_CHECKING:
    from textual.command import Provider

    from .screens.picker import PickerScreen


def parse_keymap(text: str) -> dict[str, str]:
    """``picker.reprobe=r;picker.role=ctrl+y`` → {binding id: keys} (what ``LLMSWITCH_KEYMAP`` holds)."""
    keymap = {}
    for part in filter(None, (p.strip() for p in text.replace(";", " ").split())):
        binding_id, sep, keys = part.partition("=")
        if sep and binding_id and keys:
            keymap[binding_id.strip()] = keys.strip()
    return keymap


Section = tuple[str, list[Binding]]
"""A titled group of bindings, as the help screen shows it."""


def _described(bindings: Iterable[Binding | tuple[str, ...]]) -> list[Binding]:
    """The bindings worth listing: described, with an id (the remappable ones)."""
    return [b for b in bindings if isinstance(b, Binding) and b.description and b.id]


def _switch_model_commands() -> type[Provider]:
    from .commands import SwitchModelCommands  # textual.command is imported only when the palette opens

    return SwitchModelCommands


class LLMSwitchApp(App[str | None]):
    """Pick the active model; edit providers; first-run setup."""

    TITLE = "llmswitch"
    CSS_PATH = ["app.tcss", "screens/picker.tcss", "widgets/picker_bar.tcss", "widgets/provider_list.tcss",
                "widgets/model_browser.tcss", "widgets/details.tcss"]
    """The picker is the default screen, whose own CSS_PATH Textual does not load: its sheets come with the app."""
    COMMANDS = App.COMMANDS | {_switch_model_commands}
    BINDINGS = [
        Binding("f1", "help", "Help", id="app.help", tooltip="List every key binding"),
        Binding("ctrl+q", "quit", "Quit", show=False, priority=True, id="app.quit"),
        Binding("ctrl+p", "command_palette", "Commands", show=False, id="app.palette"),
    ]

    def __init__(self, *, setup: bool = False, pick_role: str | None = None, config: Config | None = None) -> None:
        super().__init__()
        self.start_setup = setup
        """Open the setup wizard over the picker at start (first run, or ``llmswitch setup``)."""
        self.pick_role = pick_role
        """Pick mode (``llmswitch.app.pick``): the chosen ``provider/model`` is returned, nothing is written."""
        self.initial_config = config
        """The config already loaded (and checked) by the caller; None reads it."""

    # -- text helpers
    def shown(self, text: object, limit: int | None = None) -> str:
        """Untrusted or variable text (config values, server answers), made terminal-safe on one line."""
        return "" if text is None else terminal_safe(str(text), limit)

    def shown_lines(self, text: str) -> str:
        """Like :meth:`shown` for a message of several lines (notifications): line breaks are kept."""
        return terminal_safe_lines(text)

    def on_guarded_input_key_shaped(self) -> None:
        """A key landed in a field that is not for keys (it is masked already): say so, in every screen alike."""
        from .widgets.guarded import REFUSED_SENTENCE

        self.notify(REFUSED_SENTENCE, title="Not a key field", severity="warning", markup=False)

    def get_default_screen(self) -> Screen[Any]:
        """The picker is the base screen (no extra screen to build before the first paint)."""
        from .screens.picker import PickerScreen

        return PickerScreen(config=self.initial_config, pick_role=self.pick_role)

    def on_mount(self) -> None:
        keymap = parse_keymap(os.environ.get("LLMSWITCH_KEYMAP", ""))
        if keymap:
            self.set_keymap(keymap)
            self._report_unknown_ids(keymap)
        if self.start_setup and self.pick_role is None:
            self.action_setup()

    def _report_unknown_ids(self, keymap: dict[str, str]) -> None:
        """An id in LLMSWITCH_KEYMAP that no binding has is said, with the closest ids (F1 lists them all)."""
        import difflib

        known = sorted({b.id for _, bindings in self.binding_sections()[0] for b in bindings if b.id})
        for binding_id in keymap:
            if binding_id not in known:
                close = difflib.get_close_matches(binding_id, known, n=2, cutoff=0.5)
                hint = f"did you mean {' or '.join(close)}? " if close else ""
                self.notify(f"LLMSWITCH_KEYMAP: no binding has the id {terminal_safe(binding_id, 40)!r} — {hint}"
                            "F1 lists the ids", title="Keymap", severity="warning", markup=False, timeout=10)

    # -- actions
    def action_help(self) -> None:
        from .screens.help import HelpScreen

        if not isinstance(self.screen, HelpScreen):
            sections, here = self.binding_sections(type(self.screen))
            self.push_screen(HelpScreen(sections, here))

    def binding_sections(self, current: type[Screen[Any]] | None = None) -> tuple[list[Section], str | None]:
        """Every screen's bindings, the screen ``current`` first, then the app's own; and ``current``'s title."""
        from .screens.confirm import ConfirmScreen
        from .screens.picker import PickerScreen
        from .screens.provider import PresetChooser, ProviderScreen
        from .screens.setup import SetupWizard

        screens: list[tuple[str, type[Screen[Any]]]] = [
            ("Model picker", PickerScreen), ("Provider editor", ProviderScreen), ("Add provider", PresetChooser),
            ("Setup wizard", SetupWizard), ("Questions", ConfirmScreen)]
        here = [(title, cls) for title, cls in screens if current is not None and issubclass(current, cls)]
        others = [(title, cls) for title, cls in screens if (title, cls) not in here]
        sections = ([(title, _described(cls.BINDINGS)) for title, cls in here]
                    + [("Everywhere", _described(type(self).BINDINGS))]
                    + [(title, _described(cls.BINDINGS)) for title, cls in others])
        return sections, here[0][0] if here else None

    def action_setup(self) -> None:
        from .screens.setup import SetupWizard

        if not isinstance(self.screen, SetupWizard):
            self.push_screen(SetupWizard(), self._after_setup)

    def _after_setup(self, finished: bool | None) -> None:
        picker = self.picker
        if picker is not None and finished:
            picker.reload()

    @property
    def picker(self) -> PickerScreen | None:
        """The picker screen (the base screen; absent only while the app starts or ends)."""
        from .screens.picker import PickerScreen

        return next((s for s in self.screen_stack if isinstance(s, PickerScreen)), None)

    def switch_from_palette(self, ref: str) -> None:
        picker = self.picker
        if picker is not None:
            picker.request_switch_ref(ref)

    # -- command palette: every action of the current screen, plus the app's own
    def get_system_commands(self, screen: Screen[Any]) -> Iterable[SystemCommand]:
        for command in super().get_system_commands(screen):
            if command.title != "Keys":  # Textual's keys panel: "Help: key bindings" below is ours (F1)
                yield command
        yield SystemCommand("Help: key bindings", "List every key binding (F1)", self.action_help)
        if self.pick_role is None:
            yield SystemCommand("Setup wizard", "Detect providers, enter keys, pick a default model", self.action_setup)
        seen: set[str] = set()
        for binding in getattr(screen, "BINDINGS", []):
            if not isinstance(binding, Binding) or not binding.description or binding.action in seen:
                continue
            if binding.action in ("cursor_up", "cursor_down", "page_up", "page_down"):
                continue
            if hasattr(screen, "check_action") and screen.check_action(binding.action, ()) is False:
                continue
            seen.add(binding.action)
            yield SystemCommand(binding.description, binding.tooltip or f"key: {binding.key.split(',')[0]}",
                                partial(self._run_screen_action, screen, binding.action))

    def _run_screen_action(self, screen: Screen[Any], action: str) -> None:
        self.call_later(screen.run_action, action)
