"""Add, edit and remove a provider; enter its key (stored in the keyring, never shown).

:class:`ProviderScreen` is the editor: the form (:class:`~..widgets.provider_form.ProviderForm`, which
owns its fields and what they mean), the probe's diagnosis under it, and what Save, Probe and Remove do.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen, Screen
from textual.widgets import Button, Input, OptionList, Static
from textual.widgets.option_list import Option

from ...base import paths
from ...store import catalog, keys
from ...store.config import ConfigError, ProviderConfig, add_provider, load, provider_from_preset, remove_provider
from ..status import diagnosis_text
from ..widgets.footer import Footer
from ..widgets.guarded import REFUSED_SENTENCE, GuardedInput
from ..widgets.provider_form import ProviderForm

if TYPE_CHECKING:
    from ...base.outcome import ProbeResult
    from ..app import LLMSwitchApp


class PresetChooser(ModalScreen[ProviderConfig | None]):
    """Searchable list of presets (catalog + local servers), plus a custom URL."""

    DEFAULT_CSS = """
    PresetChooser { align: center middle; }
    PresetChooser > Vertical { width: 80; max-width: 100%; height: 90%; border: thick $primary;
                               background: $surface; }
    PresetChooser #preset-list { height: 1fr; border: none; }
    """
    BINDINGS = [
        Binding("escape", "cancel", "Cancel", id="preset.cancel"),
        Binding("down", "cursor_down", "Down", show=False),
        Binding("up", "cursor_up", "Up", show=False),
    ]

    def compose(self) -> ComposeResult:
        with Vertical():
            yield GuardedInput(placeholder="search presets (openrouter, groq, ollama…); Enter alone: custom URL",
                               id="preset-search", compact=True)
            yield OptionList(id="preset-list")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one(Vertical).border_title = "Add a provider"
        self._fill("")

    def _fill(self, query: str) -> None:
        query = query.strip().lower()
        options = self.query_one("#preset-list", OptionList)
        options.clear_options()
        items = [Option(Text.assemble(("Custom URL", "bold"), ("  any OpenAI-compatible server", "dim")), id="")]
        for preset in catalog.presets().values():
            if query and query not in preset.id.lower() and query not in preset.name.lower():
                continue
            line = Text.assemble((preset.name, "bold"), (f"  {preset.id}", "dim"),
                                 ("  local" if preset.local else "", "green"),
                                 (f"  {preset.base_url or 'URL needed'}", "dim"))
            items.append(Option(line, id=preset.id))
        options.add_options(items)
        # nothing highlighted until a search: the first Down lands on "Custom URL", the first row
        options.highlighted = (1 if len(items) > 1 else 0) if query else None

    @on(Input.Changed, "#preset-search")
    def _search(self) -> None:
        self._fill(self.query_one("#preset-search", GuardedInput).usable_value)

    @on(Input.Submitted, "#preset-search")
    def _submitted(self) -> None:
        search = self.query_one("#preset-search", GuardedInput)
        options = self.query_one("#preset-list", OptionList)
        if search.holds_key:
            self.notify(REFUSED_SENTENCE, title="Not a key field", severity="warning", markup=False)
        elif options.highlighted is not None:
            self._choose(options.get_option_at_index(options.highlighted).id or "")
        elif not search.value.strip():
            self._choose("")  # Enter alone: a custom URL

    @on(OptionList.OptionSelected, "#preset-list")
    def _selected(self, event: OptionList.OptionSelected) -> None:
        self._choose(event.option.id or "")

    def _choose(self, preset_id: str) -> None:
        if not preset_id:
            self.dismiss(ProviderConfig(id="", name="", base_url=None, configured=False))
            return
        preset = catalog.preset(preset_id)
        if preset is None:  # the list offers only presets; a catalog that changed underneath is not one
            self.notify(f"{preset_id} is not a preset any more", severity="warning", markup=False)
            return
        try:
            existing = load().providers.get(preset_id)
        except ConfigError:
            existing = None
        if existing is not None:
            self.notify(f"{preset_id} is already configured — editing it", markup=False)
            self.dismiss(existing)
            return
        self.dismiss(provider_from_preset(preset))

    def action_cancel(self) -> None:
        self.dismiss(None)

    def action_cursor_down(self) -> None:
        self.query_one("#preset-list", OptionList).action_cursor_down()

    def action_cursor_up(self) -> None:
        self.query_one("#preset-list", OptionList).action_cursor_up()


class ProviderScreen(Screen[bool]):
    """Edit one provider; Save writes config.toml (and the key to the keyring), then probes."""

    CSS_PATH = ["provider.tcss", "../widgets/provider_form.tcss"]
    BINDINGS = [
        Binding("ctrl+s", "save", "Save & probe", id="provider.save", tooltip="Write config.toml, store the key, probe"),
        Binding("ctrl+r", "probe", "Probe", id="provider.probe", tooltip="Probe the saved settings again"),
        Binding("f8", "remove", "Remove", id="provider.remove", tooltip="Remove this provider (asks first)"),
        Binding("ctrl+g", "apply_fix", "Fix", id="provider.fix",
                tooltip="Set Base URL to the one the probe found answering, and save"),
        Binding("escape", "close", "Back", id="provider.close", tooltip="Back to the picker"),
        # priority: the focus moves before the next key is delivered, so fast typing never lands in the
        # field just left; in an open menu up/down move its cursor (enter or space opens a menu)
        Binding("tab,down", "field(1)", "Next field", show=False, priority=True, id="provider.next-field",
                tooltip="Next field (in an open menu: next choice)"),
        Binding("shift+tab,up", "field(-1)", "Previous field", show=False, priority=True,
                id="provider.previous-field", tooltip="Previous field (in an open menu: previous choice)"),
    ]

    app: LLMSwitchApp

    def __init__(self, provider: ProviderConfig, *, new: bool = False, result: ProbeResult | None = None,
                 for_key: bool = False) -> None:
        super().__init__()
        self.form = ProviderForm(provider, new=new or not provider.configured, for_key=for_key, id="provider-form")
        self.result = result
        self.changed = False

    @property
    def provider(self) -> ProviderConfig:
        """The provider as last saved (or as opened)."""
        return self.form.provider

    @property
    def new(self) -> bool:
        """Being added: not in config.toml yet."""
        return self.form.new

    @property
    def keyring_problem(self) -> str | None:
        """Why the keyring cannot be used here (checked as the editor opens), or None."""
        return self.form.keyring_problem

    def compose(self) -> ComposeResult:
        yield self.form
        yield Static(id="provider-status", markup=False)
        with Horizontal(id="provider-buttons"):
            yield Button("Save & probe", id="save", variant="primary", compact=True)
            remove = Button("Remove…", id="remove", variant="error", compact=True)
            remove.display = not self.new  # nothing to remove while adding
            yield remove
            yield Button("Back", id="close", compact=True)
        yield Footer()

    def on_mount(self) -> None:
        title = f"Add provider {self.provider.id}" if self.new else f"Edit provider {self.provider.id}"
        self.form.border_title = title.strip()
        self.query_one("#provider-status").border_title = "Probe"
        if self.result is not None:
            self._show_result(self.result, None)
        else:
            self.query_one("#provider-status", Static).update(Text("Save to probe these settings.", style="dim"))
        self.set_focus(self.form.first_field())  # at once: keys typed (or pasted) as the editor opens go there
        self.form.mark_saved()

    # -- moving between fields
    def action_field(self, step: int) -> None:
        focused = self.focused
        if self.form.in_open_menu(focused) and isinstance(focused, OptionList):  # up/down move its cursor
            focused.action_cursor_down() if step > 0 else focused.action_cursor_up()
        elif step > 0:
            self.focus_next()
        else:
            self.focus_previous()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "apply_fix":
            return bool(self.result is not None and self.result.suggested_base_url)
        if action == "remove":  # nothing to remove while adding: neither the button nor the footer offers it
            return not self.new
        return True

    def action_apply_fix(self) -> None:
        """Put the base URL the probe found into the form, then save (which probes again)."""
        if self.result is None or not self.result.suggested_base_url:
            return
        self.query_one("#f-base-url", Input).value = self.result.suggested_base_url
        self.action_save()

    # -- actions
    def action_save(self) -> None:
        try:
            pid, settings, key = self.form.collect()
        except (ValueError, ConfigError) as exc:
            self._status(Text(self.app.shown_lines(str(exc)), style="red"))
            return
        self._status(Text("saving…", style="dim"))
        self.save(pid, settings, key)

    @work(thread=True, exclusive=True, group="save", exit_on_error=False)
    def save(self, pid: str, settings: dict[str, Any], key: str | None) -> None:
        """Store the key (keyring calls block) then write config.toml."""
        call = self.app.call_from_thread
        key_given = key is not None
        if key is not None:
            try:
                keys.store(pid, key)
            except keys.KeyProblem as exc:
                call(self._status, Text(f"The key was not stored: {self.app.shown(str(exc))}", style="red"))
                return
            finally:
                key = None
            call(self._key_stored)
        settings = decided(pid, settings, stored=key_given, new=self.new, keyring_ok=self.form.keyring_problem is None)
        try:
            config = add_provider(pid, settings, replace=not self.new)
        except ConfigError as exc:
            call(self._status, Text(self.app.shown_lines(str(exc)), style="red"))
            return
        except OSError as exc:
            call(self._status, Text(f"could not write config.toml: {exc.strerror}", style="red"))
            return
        call(self._saved, config.providers[pid])

    def _key_stored(self) -> None:
        self.form.key_stored()

    def _saved(self, provider: ProviderConfig) -> None:
        self.form.saved(provider)
        self.changed = True
        self.query_one("#remove", Button).display = True
        self.refresh_bindings()  # f8 Remove is offered now
        self.query_one("#provider-form").border_title = f"Edit provider {provider.id}"
        self.notify(f"{provider.id} saved to {paths.config_file().name}", title="Provider saved", markup=False)
        self.action_probe()

    def action_probe(self) -> None:
        if self.new:
            self._status(Text("Save first: the probe uses the saved settings.", style="dim"))
            return
        self._status(Text("probing…", style="dim"))
        self.probe_provider(self.provider)

    @work(exclusive=True, group="editor-probe", exit_on_error=False)
    async def probe_provider(self, provider: ProviderConfig) -> None:
        from ...net.probe import probe
        from ...net.probe.targets import for_provider
        from ...store import state

        if not provider.base_url:
            self._status(Text("no base_url to probe", style="red"))
            return
        target, problem = await asyncio.to_thread(for_provider, provider)  # keyring calls block
        result = await probe(target)
        await asyncio.to_thread(state.remember, result, provider.base_url)
        self.result = result
        self._show_result(result, problem)
        learned = await asyncio.to_thread(write_learned, provider, result)
        if learned is not None:
            self.form.saved(learned[0])
            self.notify(learned[1], title="Provider saved", markup=False)

    def _show_result(self, result: ProbeResult, problem: str | None) -> None:
        self._status(diagnosis_text(self.provider, result, problem, self.app.shown, where="editor"))
        self.refresh_bindings()

    def _status(self, text: Text) -> None:
        self.query_one("#provider-status", Static).update(text)

    def action_remove(self) -> None:
        from .confirm import ConfirmScreen

        if self.new:
            return
        pid = self.provider.id
        question = Text.assemble(("Remove provider ", ""), (pid, "bold"), (" from config.toml?", ""))

        def answered(answer: bool | tuple[bool, bool] | None) -> None:
            ok, delete_key = answer if isinstance(answer, tuple) else (bool(answer), False)
            if ok:
                self.remove_provider_worker(pid, delete_key)

        self.app.push_screen(ConfirmScreen(question, yes="Remove", no="Keep",
                                           checkbox="also delete its key from the keyring",
                                           checked=self.provider.key_source == "keyring"), answered)

    @work(thread=True, group="save", exit_on_error=False)
    def remove_provider_worker(self, pid: str, delete_key: bool) -> None:
        call = self.app.call_from_thread
        try:
            remove_provider(pid)
        except Exception as exc:  # ConfigError, UnknownProvider, OSError: all shown as is
            call(self._status, Text(self.app.shown(str(exc)), style="red"))
            return
        note = ""
        if delete_key:
            try:
                note = " and its key was deleted" if keys.delete(pid) else " (no key was stored)"
            except keys.KeyProblem as exc:
                note = f"; the key was not deleted: {exc}"
        call(self.notify, f"{pid} removed{note}", title="Provider removed", markup=False)
        self.changed = True
        call(self.dismiss, True)

    def action_close(self) -> None:
        """Back to the picker; with edits not saved, ask first."""
        from .confirm import ConfirmScreen

        if not self.form.edited:
            self.dismiss(self.changed)
            return
        name = self.query_one("#f-id", GuardedInput).text.strip() or "the new provider"
        question = Text.assemble(("Discard your changes to ", ""), (name, "bold"), ("?", ""))

        def answered(answer: bool | tuple[bool, bool] | None) -> None:
            if answer:
                self.dismiss(self.changed)

        self.app.push_screen(ConfirmScreen(question, yes="Discard", no="Keep editing"), answered)

    @on(Button.Pressed, "#save")
    def _save_pressed(self) -> None:
        self.action_save()

    @on(Button.Pressed, "#remove")
    def _remove_pressed(self) -> None:
        self.action_remove()

    @on(Button.Pressed, "#close")
    def _close_pressed(self) -> None:
        self.action_close()

    @on(Input.Submitted)
    def _submitted(self) -> None:
        self.action_save()


def decided(pid: str, settings: dict[str, Any], *, stored: bool, new: bool, keyring_ok: bool) -> dict[str, Any]:
    """The form's table with its key lines as :mod:`llmswitch.store.keydecision` decides them.

    The source picked in the form is kept (for a new provider, the keyring is the form's default rather than a
    choice, unless a key was typed); what the last probe learned at the URL sets ``key_required`` or ``none``.
    The keyring, the form's default, stays unwritten.
    """
    from ...store.keydecision import decide_for

    source = str(settings.get("key_source", "keyring"))
    chosen = source if (not new or source != "keyring" or stored) else None
    preset = settings.get("preset") or (pid if catalog.preset(pid) else None)
    found = catalog.preset(str(preset)) if preset else None
    base_url = settings.get("base_url") or (found.resolved_base_url() if found else None)
    decision = decide_for(pid, base_url=str(base_url) if base_url else None, preset=str(preset) if preset else None,
                          chosen=chosen, keyring_ok=keyring_ok)
    made = {**settings, **decision.settings()}
    if made.get("key_source") == "keyring":
        made.pop("key_source")
    return made


def write_learned(provider: ProviderConfig, result: ProbeResult) -> tuple[ProviderConfig, str] | None:
    """After the editor's probe: write what the server's answer says about the key into config.toml when it is
    news (:func:`llmswitch.store.keydecision.learned_from`), as the wizard and ``add`` do; the provider as saved now
    and one sentence saying what was written, or None. Blocking."""
    from ...store.config.edit import change_settings
    from ...store.keydecision import learned_from

    decision = learned_from(provider, result)
    if decision is None:
        return None

    def change(settings: dict[str, Any]) -> None:
        settings.update(decision.settings())
        if "key_required" not in decision.settings():
            settings.pop("key_required", None)  # the file's own rule says it now
        if settings.get("key_source") == "keyring":
            settings.pop("key_source")  # the default stays unwritten

    try:
        config = change_settings(provider.id, change)
    except (ConfigError, OSError):
        return None  # the probe's answer stays on screen; the saved settings are the person's
    needed = "needs a key" if decision.required else "needs no key"
    return config.providers[provider.id], f"{provider.id} {needed} ({decision.why}); config.toml says so now"
