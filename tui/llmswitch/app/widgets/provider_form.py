"""The provider editor's form: every setting of one provider, and where its key comes from.

The form owns its fields and what they mean: which key fields the key source uses, whether the
keyring can be used here (checked as it opens), whether a key is stored (never what it is), and
whether it holds edits not saved yet. :meth:`ProviderForm.collect` turns it into config.toml's table.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import Input, Label, OptionList, Select, Static

from ...store import catalog, keys
from ...store.config import ProviderConfig, check_env_name, load, normalize_base_url, provider_from_preset
from ..edits import written_settings
from .guarded import REFUSED, GuardedInput

if TYPE_CHECKING:
    from textual.widget import Widget

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


class ProviderForm(VerticalScroll):
    """The fields of one provider (``new``: being added), the key's state under them."""

    app: LLMSwitchApp

    def __init__(self, provider: ProviderConfig, *, new: bool, for_key: bool, id: str | None = None) -> None:
        super().__init__(id=id)
        self.provider = provider
        self.new = new
        self.for_key = for_key
        """Opened to enter a key (the probe's key fix): the source is set to keyring in the form."""
        self.saved_state: tuple[object, ...] = ()
        """The form as opened or last saved (see :meth:`state`)."""
        self._arg_hint = ""
        self.keyring_problem: str | None = None
        """Why the keyring cannot be used here (checked as the editor opens), or None."""
        self._auto_env: str | None = None
        """The env var name the editor filled in itself (it follows the id until the person edits it)."""

    def compose(self) -> ComposeResult:
        p = self.provider
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

    @staticmethod
    def _row(label: str, widget: Widget) -> ComposeResult:
        with Horizontal(classes="form-row"):
            yield Label(label, classes="form-label")
            yield widget

    def on_mount(self) -> None:
        if self.for_key and self.provider.key_source != "keyring":
            self.query_one("#f-key-source", Select).value = "keyring"  # the form only: ctrl+s writes it
        self._sync_key_fields()
        self.check_keyring()
        self.check_key_state()
        self.mark_saved()

    def first_field(self) -> Widget:
        """Where typing goes as the editor opens: the key for a key fix, the id for a new server, else the URL."""
        if self.for_key:
            first = "#f-key"
        elif self.new and not self.provider.preset:
            first = "#f-id"
        else:
            first = "#f-key" if self.provider.key_required else "#f-base-url"
        return self.query_one(first)

    @staticmethod
    def in_open_menu(focused: Widget | None) -> bool:
        """A Select's list of choices has the focus (up and down move in it)."""
        return isinstance(focused, OptionList) and any(isinstance(node, Select) for node in focused.ancestors)

    # -- edits not saved
    def state(self) -> tuple[object, ...]:
        """What the form holds now (compared on Escape: edits are never dropped without asking)."""
        values: list[object] = [w.value for w in self.query(Input)]
        values += [w.value for w in self.query(Select)]
        return tuple(values)

    def mark_saved(self) -> None:
        self.saved_state = self.state()

    @property
    def edited(self) -> bool:
        return self.state() != self.saved_state

    def saved(self, provider: ProviderConfig) -> None:
        """``provider`` is written: it is edited from now on (its id is fixed)."""
        self.provider = provider
        self.new = False
        self.query_one("#f-id", Input).disabled = True
        self.mark_saved()

    def key_stored(self) -> None:
        self.query_one("#f-key", Input).value = ""
        self.query_one("#key-state", Static).update(Text("key stored in the keyring", style="green"))

    # -- the key fields
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
        self.mark_saved()  # the editor's own default, not an edit

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
