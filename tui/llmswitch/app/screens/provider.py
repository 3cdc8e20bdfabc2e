"""Add, edit and remove a provider; enter its key (stored in the keyring, never shown)."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen, Screen
from textual.widgets import Button, Footer, Input, Label, OptionList, Select, Static
from textual.widgets.option_list import Option

from ...base import paths
from ...store import catalog, keys
from ...store.config import (
    ConfigError,
    ProviderConfig,
    add_provider,
    check_env_name,
    load,
    normalize_base_url,
    provider_from_preset,
    remove_provider,
)
from ..edits import written_settings
from ..status import diagnosis_text
from ..widgets.guarded import REFUSED, REFUSED_SENTENCE, GuardedInput

if TYPE_CHECKING:
    from textual.widget import Widget

    from ...base.outcome import ProbeResult
    from ..app import LLMSwitchApp

FIELD_NAMES = {"f-id": "Id", "f-name": "Name", "f-base-url": "Base URL", "f-timeout": "Timeout",
               "f-headers": "Headers", "f-key-arg": "Env var / cmd"}
"""The editor's fields that are not for keys, as their labels say."""

KEY_SOURCES = (("keyring (recommended)", "keyring"), ("environment variable", "env"),
               ("command output", "command"), ("none (keyless server)", "none"))
KEY_HINT = "paste the key (hidden; stored in the keyring)"
NO_KEYRING_SOURCES = (("keyring (unavailable here)", "keyring"), *KEY_SOURCES[1:])
"""The choices while the keyring cannot be used: it stays offered (for when it works), not recommended."""


def env_default(provider: ProviderConfig, pid: str = "") -> str:
    """The variable a key is read from when none is named: the preset's, else ``ID_API_KEY``."""
    if provider.key_env:
        return provider.key_env[0]
    return f"{(pid or provider.id or 'provider').upper().replace('-', '_').replace('.', '_')}_API_KEY"


def parse_headers(text: str) -> dict[str, str]:
    """``Name: value; Other: value`` → dict (ValueError with a message)."""
    headers: dict[str, str] = {}
    for part in filter(None, (p.strip() for p in text.split(";"))):
        name, sep, value = part.partition(":")
        if not sep:
            name, sep, value = part.partition("=")
        if not sep or not name.strip():
            raise ValueError(f"header {part!r} is not written as Name: value")
        headers[name.strip()] = value.strip()
    return headers


def format_headers(headers: dict[str, str]) -> str:
    return "; ".join(f"{k}: {v}" for k, v in headers.items())


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

    CSS_PATH = "provider.tcss"
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
        self.provider = provider
        self.new = new or not provider.configured
        self.result = result
        self.for_key = for_key
        """Opened to enter a key (the probe's key fix): the masked API key field has the focus."""
        self.changed = False
        self.key_problem: str | None = None
        self.saved_form: tuple[object, ...] = ()
        """The form as opened or last saved (see :meth:`form_state`)."""
        self._arg_hint = ""
        self.keyring_problem: str | None = None
        """Why the keyring cannot be used here (checked as the editor opens), or None."""
        self._auto_env: str | None = None
        """The env var name the editor filled in itself (it follows the id until the person edits it)."""

    def compose(self) -> ComposeResult:
        p = self.provider
        with VerticalScroll(id="provider-form"):
            yield from self._row("Id", GuardedInput(p.id, placeholder="lowercase id, e.g. my-vllm", id="f-id",
                                                    compact=True, disabled=not self.new or bool(p.preset)))
            yield from self._row("Name", GuardedInput(p.name, placeholder="display name", id="f-name", compact=True))
            yield from self._row("Base URL", GuardedInput(p.base_url or "", placeholder="https://host/v1",
                                                          id="f-base-url", compact=True))
            yield from self._row("API kind", Select([(k, k) for k in catalog.API_KINDS], value=p.kind,
                                                    allow_blank=False, id="f-kind", compact=True))
            yield from self._row("Timeout (s)", GuardedInput(f"{p.timeout:g}", id="f-timeout", compact=True,
                                                             type="number"))
            yield from self._row("Headers", GuardedInput(format_headers(p.headers), placeholder="X-Title: my app; …",
                                                         id="f-headers", compact=True))
            yield from self._row("Key source", Select(KEY_SOURCES, value=p.key_source, allow_blank=False,
                                                      id="f-key-source", compact=True))
            arg = p.key_env[0] if p.key_source == "env" and p.key_env else p.key_command or ""
            env_hint = env_default(p)
            self._arg_hint = f"{env_hint}, or: pass show {p.id or 'name'}"
            yield from self._row("Env var / cmd", GuardedInput(arg, placeholder=self._arg_hint, id="f-key-arg",
                                                               compact=True))
            yield from self._row("API key", Input(placeholder=KEY_HINT, password=True, id="f-key", compact=True))
            yield Static(id="key-state", markup=False)
        yield Static(id="provider-status", markup=False)
        with Horizontal(id="provider-buttons"):
            yield Button("Save & probe", id="save", variant="primary", compact=True)
            remove = Button("Remove…", id="remove", variant="error", compact=True)
            remove.display = not self.new  # nothing to remove while adding
            yield remove
            yield Button("Back", id="close", compact=True)
        yield Footer()

    @staticmethod
    def _row(label: str, widget: Widget) -> ComposeResult:
        with Horizontal(classes="form-row"):
            yield Label(label, classes="form-label")
            yield widget

    def on_mount(self) -> None:
        title = f"Add provider {self.provider.id}" if self.new else f"Edit provider {self.provider.id}"
        self.query_one("#provider-form").border_title = title.strip()
        self.query_one("#provider-status").border_title = "Probe"
        if self.for_key and self.provider.key_source != "keyring":
            self.query_one("#f-key-source", Select).value = "keyring"  # the form only: ctrl+s writes it
        self._sync_key_fields()
        self.check_keyring()
        if self.result is not None:
            self._show_result(self.result, None)
        else:
            self.query_one("#provider-status", Static).update(Text("Save to probe these settings.", style="dim"))
        self.check_key_state()
        if self.for_key:
            first = "#f-key"
        elif self.new and not self.provider.preset:
            first = "#f-id"
        else:
            first = "#f-key" if self.provider.key_required else "#f-base-url"
        self.set_focus(self.query_one(first))  # at once: keys typed (or pasted) as the editor opens go to this field
        self.saved_form = self.form_state()

    # -- moving between fields
    def action_field(self, step: int) -> None:
        focused = self.focused
        # an open menu (a Select's list of choices has the focus): move its cursor
        if isinstance(focused, OptionList) and any(isinstance(node, Select) for node in focused.ancestors):
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

    @on(Input.Changed, "#f-key-arg")
    def _key_arg_changed(self, event: Input.Changed) -> None:
        """Say at once what is wrong with the variable name (a key pasted here is masked by the field itself)."""
        value = event.value.strip()
        source = self.query_one("#f-key-source", Select).value
        problem = check_env_name(value) if source == "env" and value else None
        if self.query_one("#f-key-arg", GuardedInput).holds_key:
            problem = REFUSED
        if problem:
            self.query_one("#key-state", Static).update(Text(f"Env var / cmd: {problem}", style="yellow"))

    def _sync_key_fields(self) -> None:
        source = self.query_one("#f-key-source", Select).value
        arg, key = self.query_one("#f-key-arg", Input), self.query_one("#f-key", Input)
        arg.disabled = source not in ("env", "command")
        key.disabled = source != "keyring"
        # a disabled field says it is unused (and Tab skips it), so counting Tabs never lands a key elsewhere
        arg.placeholder = (self._arg_hint if not arg.disabled else f"not used: key source is {source}")
        key.placeholder = (KEY_HINT if not key.disabled else "not used: the key is not kept in the keyring")
        for field in (arg, key):
            if field.parent is not None:
                field.parent.set_class(field.disabled, "-unused")

    def form_state(self) -> tuple[object, ...]:
        """What the form holds now (compared on Escape: edits are never dropped without asking)."""
        values: list[object] = [w.value for w in self.query(Input)]
        values += [w.value for w in self.query(Select)]
        return tuple(values)

    @on(Select.Changed, "#f-key-source")
    def _source_changed(self) -> None:
        self._sync_key_fields()
        if self.keyring_problem is not None:  # what the keyring choice means here, in one line
            self.check_key_state()

    @work(thread=True, group="keyring", exit_on_error=False)
    def check_keyring(self) -> None:
        """Whether the keyring can be used (picking a backend blocks): a new provider defaults to what works."""
        try:
            keys.backend()
        except keys.KeyProblem as exc:
            self.app.call_from_thread(self._keyring_unusable, exc.cause)

    def _keyring_unusable(self, problem: str) -> None:
        """``problem`` is the cause alone (``no OS keyring is available (…)``). No keyring: a new provider reads its key from an env var instead, and the form says why in one line."""
        self.keyring_problem = problem
        source = self.query_one("#f-key-source", Select)
        source.set_options(NO_KEYRING_SOURCES)
        source.value = self.provider.key_source
        if self.new and self.provider.key_source == "keyring" and not self.for_key:
            arg = self.query_one("#f-key-arg", GuardedInput)
            source.value = "env"
            if not arg.value:
                self._auto_env = arg.value = env_default(self.provider, self.query_one("#f-id", GuardedInput).text)
            self._sync_key_fields()
        if source.value != "keyring":
            self.query_one("#key-state", Static).update(self._keyring_line())
        self.saved_form = self.form_state()  # the editor's own default, not an edit

    @on(Input.Changed, "#f-id")
    def _id_changed(self, event: Input.Changed) -> None:
        """The env var the editor chose follows the id being typed (``MY_BOX_API_KEY``) until edited by hand."""
        arg = self.query_one("#f-key-arg", GuardedInput)
        if self._auto_env is not None and arg.value == self._auto_env and not self.provider.key_env:
            self._auto_env = arg.value = env_default(self.provider, event.value.strip())

    def _keyring_line(self) -> Text:
        return Text(f"{self.app.shown(self.keyring_problem or 'no keyring')}: the key is read from the env var "
                    "above; pick keyring once it works", style="yellow")

    @work(thread=True, group="key-state", exit_on_error=False)
    def check_key_state(self) -> None:
        """Say whether a key is stored (never what it is)."""
        if self.for_key and self.provider.key_source != "keyring":
            text = Text(f"key source set to keyring (was {self.app.shown(self.provider.key_source_text())}): paste the "
                        "key above, then ctrl+s", style="yellow")
        elif self.keyring_problem is not None and self.query_one("#f-key-source", Select).value != "keyring":
            text = self._keyring_line()
        elif self.provider.key_source != "keyring" or not self.provider.id:
            text = Text("")
        else:
            try:
                stored = keys.stored(self.provider.id) is not None
                if stored:
                    text = Text("a key is stored in the keyring (type a new one to replace it)", style="dim")
                elif self.provider.key_required:
                    text = Text("no key stored yet, and the server wants one: paste it above", style="yellow")
                else:
                    text = Text("no key stored yet (optional: the server has not asked for one)", style="dim")
            except keys.KeyProblem as exc:
                text = Text(self.app.shown(str(exc)), style="yellow")
        self.app.call_from_thread(self.query_one("#key-state", Static).update, text)

    # -- collecting the form
    def collect(self) -> tuple[str, dict[str, Any], str | None]:
        """(id, settings for config.toml, key typed or None); ValueError with a message."""
        for field in self.query(GuardedInput):
            if field.refused and not field.disabled:
                raise ValueError(f"{FIELD_NAMES.get(field.id or '', 'that field')}: {REFUSED}")  # never echoes it
        pid = self.query_one("#f-id", GuardedInput).text.strip()
        if not pid:
            raise ValueError("the provider needs an id, e.g. my-server")
        preset = catalog.preset(self.provider.preset) if self.provider.preset else catalog.preset(pid)
        base = provider_from_preset(preset) if preset else ProviderConfig(id=pid, name=pid, base_url=None)
        settings = written_settings(pid) if not self.new else {}
        if preset and preset.id != pid:
            settings["preset"] = preset.id

        def put(name: str, value: object, default: object) -> None:
            if value != default:
                settings[name] = value
            else:
                settings.pop(name, None)

        put("name", self.query_one("#f-name", GuardedInput).text.strip() or base.name, base.name)
        raw_url = self.query_one("#f-base-url", GuardedInput).text.strip()
        url = normalize_base_url(raw_url)
        put("base_url", url, base.base_url)
        put("kind", self.query_one("#f-kind", Select).value, base.kind)
        try:
            timeout = float(self.query_one("#f-timeout", Input).value or 0)
        except ValueError:
            raise ValueError("timeout must be a number of seconds") from None
        if not 0 < timeout <= 600:
            raise ValueError("timeout must be between 0 and 600 seconds")
        default_timeout = load().probe_timeout
        put("timeout", timeout if timeout != int(timeout) else int(timeout), default_timeout)
        put("headers", parse_headers(self.query_one("#f-headers", GuardedInput).text), {})
        source = self.query_one("#f-key-source", Select).value
        arg = self.query_one("#f-key-arg", GuardedInput).text.strip()
        if source in ("env", "command") and not arg:
            raise ValueError("name the environment variable" if source == "env" else "give the command that prints the key")
        if source == "env" and (problem := check_env_name(arg)):
            raise ValueError(f"Env var: {problem}")  # never echoes what was typed
        text = f"{source}:{arg}" if source in ("env", "command") else source
        put("key_source", text, "keyring")
        key = self.query_one("#f-key", Input).value.strip() if source == "keyring" else ""
        return pid, settings, key or None

    # -- actions
    def action_save(self) -> None:
        try:
            pid, settings, key = self.collect()
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
        settings = decided(pid, settings, stored=key_given, new=self.new, keyring_ok=self.keyring_problem is None)
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
        key_input = self.query_one("#f-key", Input)
        key_input.value = ""
        self.query_one("#key-state", Static).update(Text("key stored in the keyring", style="green"))

    def _saved(self, provider: ProviderConfig) -> None:
        self.provider = provider
        self.new = False
        self.changed = True
        self.query_one("#f-id", Input).disabled = True
        self.query_one("#remove", Button).display = True
        self.refresh_bindings()  # f8 Remove is offered now
        self.query_one("#provider-form").border_title = f"Edit provider {provider.id}"
        self.saved_form = self.form_state()
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

        if self.form_state() == self.saved_form:
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
