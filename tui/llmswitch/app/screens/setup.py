"""First-run setup: detect, choose, enter keys, probe, pick a model, then write everything at once.

Choices are collected in memory; config.toml, the keyring and active.toml are
written only by Finish (:func:`llmswitch.services.onboarding.finish`, undone if any write
fails), so escape at any step leaves nothing half-written. Detection and the
write live in :mod:`llmswitch.services.onboarding`; this module is the screen.
"""

from __future__ import annotations

import asyncio
import os
from typing import TYPE_CHECKING

from rich.console import Console
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import Screen
from textual.suggester import SuggestFromList
from textual.widgets import Button, ContentSwitcher, Footer, Input, Label, SelectionList, Static
from textual.widgets.selection_list import Selection

from ...base import paths
from ...base.redact import shown as shown_value
from ...services import onboarding
from ...services.models import Filter, merge, sort_rows
from ...store import catalog
from ...store.config import check_env_name
from ..status import headline, status_text
from ..widgets.guarded import REFUSED_SENTENCE, GuardedInput
from ..widgets.model_list import ModelHeader, ModelList

if TYPE_CHECKING:
    from ...base.outcome import ProbeResult
    from ...services.addurl import Examined
    from ...tools.importing import Found
    from ..app import LLMSwitchApp

STEPS = ("detect", "choose", "keys", "probe", "model", "done")
STEP_TITLES = {"detect": "1/6 · What is here", "choose": "2/6 · Choose providers", "keys": "3/6 · Keys",
               "probe": "4/6 · Probe", "model": "5/6 · Default model", "done": "6/6 · Done"}
CHOOSE_HINT = "Tick the providers to set up (space toggles). Add any other preset by id below."
NOTHING_FOUND = ("Nothing was detected. Type a preset id below and press Enter to add it — e.g. openrouter, groq, "
                 "openai, or a local server: ollama, vllm, lm_studio (→ completes a name) — or a server's URL or "
                 "port (8081, http://gpu-box:8000).")
ADD_PLACEHOLDER = "a preset id (openrouter, groq…) or a server's URL or port (8081); Enter adds"
URL_NEEDED = ("{pid} needs a URL: type the server's URL or port here instead (e.g. http://127.0.0.1:8000 or 8000); "
              "it is probed and named from what answers")
KEY_PLACEHOLDER = "paste the key (hidden; stored in the keyring at Finish)"


def hanging(indent: str, body: Text, width: int) -> Text:
    """``body`` wrapped to ``width`` with every line after the first under its first character, not at column 0."""
    out = Text()
    for line in body.wrap(Console(width=max(20, width - len(indent)), legacy_windows=False), max(20, width - len(indent))):
        out.append(indent)
        out.append_text(line)
        out.append("\n")
    return out


def hosted_advice(pid: str, result: ProbeResult) -> str | None:
    """For a hosted preset that could not be reached, the network comes first (its URL is the preset's own)."""
    from ...base.outcome import Outcome

    preset = catalog.preset(pid)
    if preset is None or preset.local or result.outcome not in (Outcome.DNS_FAILURE, Outcome.CONNECTION_REFUSED,
                                                                 Outcome.TIMEOUT, Outcome.CONNECTION_ERROR):
        return None
    return (f"{pid}: {result.summary} — check this machine's network connection (and any proxy); "
            f"the URL is {preset.name}'s own")


def _looks_like_url(text: str) -> bool:
    """A port, ``host:port`` or a URL (what the add field takes besides a preset id)."""
    return text.isdigit() or "://" in text or ":" in text or "/" in text or text.startswith("localhost")


class SetupWizard(Screen[bool]):
    """Five steps; dismisses True when it wrote the files, False when cancelled."""

    CSS_PATH = "setup.tcss"
    BINDINGS = [
        # priority: the step changes (and its first field takes the focus) before the next key is delivered
        Binding("ctrl+n", "next", "Next", id="setup.next", tooltip="Go to the next step", priority=True),
        Binding("ctrl+b", "back", "Back", id="setup.back", tooltip="Go back one step", priority=True),
        Binding("ctrl+t", "toggle_role", "Default/small", id="setup.role",
                tooltip="On the model step: whether Enter sets the default or the small model"),
        Binding("escape", "cancel", "Cancel", id="setup.cancel", tooltip="Leave the wizard; nothing is written"),
        Binding("ctrl+n,escape", "close", "Close", id="setup.close", tooltip="On the last page: back to the picker",
                priority=True),
        Binding("up", "cursor_up", "Up", show=False),
        Binding("down", "cursor_down", "Down", show=False),
    ]

    app: LLMSwitchApp

    def __init__(self) -> None:
        super().__init__()
        self.step = "detect"
        self.env_found: dict[str, str] = {}
        self.local_found: dict[str, ProbeResult] = {}
        self.local_missing: tuple[str, ...] = ()
        self.local_urls: dict[str, str] = {}
        """Where each local server was looked for (its own variable, such as OLLAMA_HOST, may move it)."""
        self.custom: dict[str, Examined] = {}
        """Servers added by their URL or port, by the id they will have."""
        self.imported: dict[str, Found] = {}
        """What other tools' configs (and .env files) are set up with, by provider id (``llmswitch import``)."""
        self.extra: list[str] = []
        self.picked: list[str] = []
        self.choices: list[onboarding.Choice] = []
        self.keyring_problem: str | None = None
        self.results: dict[str, ProbeResult] = {}
        self.refs: dict[str, str] = {}
        self.role = "default"
        self.written: onboarding.Written | None = None
        self.detecting = True
        self.model_filter = Filter([])

    def compose(self) -> ComposeResult:
        yield Static(id="wizard-title", markup=False)
        with ContentSwitcher(initial="detect", id="wizard-steps"):
            with VerticalScroll(id="detect"):
                yield Static(Text("Looking for API keys in the environment and local servers on their usual "
                                  "ports…", style="dim"), id="detect-text", markup=False)
            with Vertical(id="choose"):
                yield Static(CHOOSE_HINT, markup=False, classes="hint", id="choose-hint")
                yield SelectionList[str](id="choose-list")
                yield GuardedInput(placeholder=ADD_PLACEHOLDER, id="choose-add", compact=True,
                            suggester=SuggestFromList(catalog.preset_ids(), case_sensitive=False))
            with VerticalScroll(id="keys"):
                yield Static(id="keys-intro", markup=False, classes="hint")
                yield Vertical(id="keys-form")
            with VerticalScroll(id="probe"):
                yield Static(id="probe-text", markup=False)
            with Vertical(id="model"):
                yield Static(id="model-roles", markup=False, classes="hint")
                yield GuardedInput(placeholder="type to filter models…", id="model-filter", compact=True,
                                   allow=lambda query: bool(self.model_filter.matches(query)))  # a model id is no key
                yield ModelHeader()
                yield ModelList(id="model-list")
            with VerticalScroll(id="done"):
                yield Static(id="done-text", markup=False)
        with Horizontal(id="wizard-buttons"):
            yield Button("Cancel", id="cancel", compact=True)
            yield Button("Back", id="back", compact=True)
            yield Button("Next", id="next", variant="primary", compact=True)
        yield Footer()

    def on_mount(self) -> None:
        self._show_step()
        self.detect()
        self.check_keyring()  # known before the keys step is built (it blocks: a thread)

    # -- steps
    def _show_step(self) -> None:
        switcher = self.query_one("#wizard-steps", ContentSwitcher)
        switcher.current = self.step
        for step in switcher.children:  # a hidden step's inputs can never take the focus (or typing)
            step.disabled = step.id != self.step
        title = Text()
        title.append(" llmswitch setup ", style="bold reverse")
        title.append("  " + STEP_TITLES[self.step], style="bold")
        if self.step != "done":
            title.append("   escape cancels; only Finish writes", style="dim")
        self.query_one("#wizard-title", Static).update(title)
        self.query_one("#back", Button).disabled = self.step in ("detect", "done")
        self.query_one("#cancel", Button).display = self.step != "done"
        self.query_one("#next", Button).label = {"model": "Finish", "done": "Close"}.get(self.step, "Next")
        self._focus_first_field()
        self.refresh_bindings()

    def _focus_first_field(self) -> None:
        """The step's first field (the Next button on steps without one)."""
        target = None
        if self.step == "choose":
            has_options = self.query_one("#choose-list", SelectionList).option_count > 0
            target = self.query_one("#choose-list" if has_options else "#choose-add")
        elif self.step == "keys":  # no keyring: the variable is what counts (a key there is only for the check)
            fields = self.query("#keys-form .env-input" if self.keyring_problem else "#keys-form Input")
            target = next((i for i in fields if not i.disabled), None)
        elif self.step == "model":
            target = self.query_one("#model-filter")
        self.set_focus(target or self.query_one("#next", Button))  # now, not later: the next key goes there

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "close":
            return self.step == "done"
        if self.step == "done":  # only Close is left: the footer offers no step keys
            return action not in ("back", "toggle_role", "cancel", "next")
        if action == "back":
            return self.step != "detect" or None
        if action == "toggle_role":
            return self.step == "model"  # hidden elsewhere
        return True


    async def action_next(self) -> None:
        step = self.step
        if step == "detect":
            if self.detecting:
                self.notify("still looking for local servers…", timeout=2)
                return
            self._fill_choices()
            self.step = "choose"
        elif step == "choose":
            picked = list(self.query_one("#choose-list", SelectionList).selected)
            if not picked:
                self.notify("Tick at least one provider (space), or escape to leave", severity="warning")
                return
            self.step = "keys"
            await self._build_keys_form(picked)  # mounted before the step opens: its first field takes the focus
        elif step == "keys":
            try:
                self.choices = self._collect_keys()
            except ValueError as exc:
                self.notify(str(exc), severity="warning", markup=False)
                return
            self.step = "probe"
            self.probe_choices()
        elif step == "probe":
            self._fill_models()
            self.step = "model"
        elif step == "model":
            if not self.refs.get("default"):
                row = self.query_one("#model-list", ModelList).highlighted
                if row is None:
                    self.notify("No model to choose: go back and fix the providers, or escape", severity="warning")
                    return
                self.refs["default"] = row.ref
            self.query_one("#next", Button).disabled = True
            self.write_all()
            return
        else:
            self.dismiss(True)
            return
        self._show_step()

    def action_back(self) -> None:
        index = STEPS.index(self.step)
        if self.step in ("detect", "done"):
            return
        self.step = STEPS[index - 1]
        self._show_step()

    def action_close(self) -> None:
        self.dismiss(True)

    def action_cancel(self) -> None:
        if self.step == "done":
            self.dismiss(True)
            return
        self.workers.cancel_all()
        self.dismiss(False)

    # -- step 1: detect
    @work(exclusive=True, group="wizard-detect", exit_on_error=False)
    async def detect(self) -> None:
        self.env_found = onboarding.env_keys()
        self.imported = {pid: found for pid, found in (await asyncio.to_thread(onboarding.from_other_tools)).items()
                         if pid not in self.env_found}
        targets = await asyncio.to_thread(onboarding.local_targets)
        self.local_urls = {t.provider: t.base_url for t in targets}
        local = await onboarding.detect_local(targets)
        self.local_found, self.local_missing = local.found, local.missing
        self.detecting = False
        self._show_detected()

    def _show_detected(self) -> None:
        shown = self.app.shown
        text = Text()
        text.append("API keys in the environment\n", style="bold")
        if self.env_found:
            for pid, var in sorted(self.env_found.items()):
                line = Text.assemble((f"✓ ${var}", "green"),
                                     f"  → {pid} (the key stays in the env var; llmswitch only records its name)")
                text.append_text(hanging("  ", line, self._text_width()))
        else:
            text.append("  none of the known variables (OPENAI_API_KEY, OPENROUTER_API_KEY, …) is set\n", style="dim")
        if self.imported:
            text.append("\nIn other tools' configs\n", style="bold")
            for pid, found in sorted(self.imported.items()):
                where = shown(found.base_url) if found.base_url else "its usual URL"
                models = f", model {shown(found.models[0])}" if found.models else ""
                key = f"; key: {shown(found.key.describe())}" if found.key is not None else ""
                line = Text.assemble((f"✓ {found.source}", "green"), f"  → {pid} at {where}{models}{key}")
                if found.key is not None and found.key.kind == "plaintext":
                    line.append(f" (it stays there; llmswitch import {found.source} --move-keys moves it into the "
                                "keyring)", style="dim")
                text.append_text(hanging("  ", line, self._text_width()))
        text.append("\nLocal servers\n", style="bold")
        presets = catalog.presets()
        for pid in onboarding.LOCAL_IDS:
            preset = presets[pid]
            url = self.local_urls.get(pid) or preset.resolved_base_url() or ""
            if pid in self.local_found:
                result = self.local_found[pid]
                text.append(f"  ✓ {preset.name}", style="green")
                text.append(f" at {shown(url)} — ")
                text.append_text(status_text(result, shown=shown))
                text.append("\n")
            else:
                text.append(f"  · {preset.name}: nothing at {shown(url)}\n", style="dim")
        text.append("\nNext lets you choose which to set up, and add any other provider — or a server on another "
                    "port: type its port or URL there.", style="dim")
        self.query_one("#detect-text", Static).update(text)

    # -- step 2: choose and keys
    def _fill_choices(self) -> None:
        selections = self.query_one("#choose-list", SelectionList)
        previous = set(selections.selected)
        first = selections.option_count == 0
        selections.clear_options()
        presets = catalog.presets()
        local = [pid for pid in onboarding.LOCAL_IDS if pid in self.local_found]
        ids = list(dict.fromkeys([*sorted(self.env_found), *local, *sorted(self.imported), *self.extra]))
        for pid in ids:
            if pid in self.custom:
                found = self.custom[pid]
                name = found.name
                why = f"at {self.app.shown(found.base_url)}" + (", wants a key" if found.wants_key else "")
            elif (other := self._imported(pid)) is not None:
                name = presets[pid].name if pid in presets else pid
                why = f"from {other.source} ({self.app.shown(str(other.file))})"
            else:
                name = presets[pid].name
                why = (f"key in ${self.env_found[pid]}" if pid in self.env_found else
                       "server answering" if pid in self.local_found else "added by you")
            selections.add_option(Selection(Text(f"{name} ({pid}) — {why}"), pid,
                                            initial_state=first or pid in previous or pid in self.extra))
        selections.display = bool(ids)
        self.query_one("#choose-hint", Static).update(CHOOSE_HINT if ids else Text(NOTHING_FOUND, style="bold"))

    @on(Input.Submitted, "#choose-add")
    def _add_preset(self, event: Input.Submitted) -> None:
        if self.query_one("#choose-add", GuardedInput).holds_key:
            self.notify(REFUSED_SENTENCE, title="Not a key field", severity="warning", markup=False)
            event.input.value = ""  # refused: not kept in the form either
            return
        name = event.value.strip().lower()
        preset = catalog.preset(name)
        if preset is None and _looks_like_url(name):
            event.input.value = ""
            self.add_url(event.value.strip())
            return
        if preset is None:
            import difflib

            close = difflib.get_close_matches(name, catalog.preset_ids(), n=3, cutoff=0.6)
            hint = f" — did you mean {', '.join(close)}?" if close else ""
            self.notify(f"no preset called {shown_value(name)}{hint}", severity="warning", markup=False)
            return
        if preset.base_url is None and not preset.resolved_base_url():
            self.notify(URL_NEEDED.format(pid=preset.id), severity="warning", markup=False, timeout=8)
            return
        if preset.id not in self.extra:
            self.extra.append(preset.id)
        self._fill_choices()
        event.input.value = ""

    @work(group="wizard-url", exit_on_error=False)
    async def add_url(self, text: str) -> None:
        """Probe a server named by its URL or port; add it under the name of what answered."""
        from ...base.errors import LlmswitchError
        from ...base.outcome import FOUND
        from ...services.addurl import examine
        from ...store.config import ConfigError, load

        try:
            taken = set(load().providers)
        except ConfigError:
            taken = set()
        self.notify(f"probing {self.app.shown(text)}…", timeout=2, markup=False)
        try:
            found = await examine(text, taken | set(self.extra) | set(self.env_found) | set(self.local_found))
        except LlmswitchError as exc:
            self.notify(self.app.shown(exc.sentence()), severity="warning", markup=False)
            return
        if found.result.outcome not in FOUND:
            self.notify(self.app.shown(f"{found.given}: {found.result.summary}"), title="Not added",
                        severity="warning", markup=False, timeout=8)
            return
        self.custom[found.pid] = found
        self.extra.append(found.pid)
        self._fill_choices()
        fixed = f" (base URL {self.app.shown(found.base_url)})" if found.fixed else ""
        self.notify(f"added {found.name} as {found.pid}{fixed}", markup=False)

    async def _build_keys_form(self, picked: list[str]) -> None:
        self.picked = picked
        for pid in picked:  # the variable proposed before (a restarted wizard), now set: it holds the key
            var = self._env_default(pid)
            if pid not in self.env_found and self._asks_for_key(pid) and os.environ.get(var, "").strip():
                self.env_found[pid] = var
        form = self.query_one("#keys-form", Vertical)
        await form.remove_children()
        rows: list[Static | Horizontal] = []
        for pid in picked:
            found = self._imported(pid)
            if found is not None and found.key is not None and found.key.kind in ("env", "command"):
                rows.append(Static(Text.assemble((f"{pid}: ", "bold"), f"key from {found.key.describe()}",
                                                 (f" (as {found.source} has it)", "dim")), markup=False))
                continue
            if pid in self.env_found:
                rows.append(Static(Text.assemble((f"{pid}: ", "bold"), f"key from ${self.env_found[pid]}",
                                                 (f" (key_source = \"env:{self.env_found[pid]}\")", "dim")),
                                   markup=False))
            elif not self._asks_for_key(pid):
                rows.append(Static(Text.assemble((f"{pid}: ", "bold"), ("no key needed (the server answered without one)", "dim")),
                                   markup=False))
            else:
                rows.append(Horizontal(
                    Label(f"{pid} key", classes="form-label"),
                    Input(placeholder=KEY_PLACEHOLDER, password=True, id=f"key-{pid}", compact=True,
                          classes="key-input"),
                    classes="form-row"))
                rows.append(Horizontal(
                    Label("  or env var", classes="form-label"),
                    GuardedInput(placeholder=f"{self._env_default(pid)} (leave empty to use the keyring)", id=f"env-{pid}",
                          compact=True, classes="env-input"),
                    classes="form-row"))
                rows.append(Static(id=f"env-note-{pid}", markup=False, classes="form-note"))
        await form.mount_all(rows)
        if self.keyring_problem is not None:
            self._keyring_checked(self.keyring_problem)
        else:
            self.query_one("#keys-intro", Static).update(Text(
                "Keys go to the OS keyring when you press Finish — never into a file. If you keep a key in an "
                "environment variable instead, name the variable.", style="dim"))

    @staticmethod
    def _env_default(pid: str) -> str:
        from ...store.keydecision import default_variable

        return default_variable(pid)

    def _imported(self, pid: str) -> Found | None:
        """What another tool has for ``pid``, when nothing nearer (an env key, a server answering, a URL) does."""
        if pid in self.custom or pid in self.env_found or pid in self.local_found:
            return None
        return self.imported.get(pid)

    def _asks_for_key(self, pid: str) -> bool:
        if pid in self.env_found:
            return False
        found = self._imported(pid)
        if found is not None and found.key is not None and found.key.kind in ("env", "command"):
            return False
        if pid in self.custom:
            return self.custom[pid].wants_key
        return onboarding.wants_key(pid, self.local_found.get(pid))

    @work(thread=True, group="wizard-keyring", exit_on_error=False)
    def check_keyring(self) -> None:
        self.app.call_from_thread(self._keyring_checked, onboarding.keyring_problem())

    def _keyring_checked(self, problem: str | None) -> None:
        """No keyring: the key fields are disabled, say so, and the env var fields are filled in."""
        self.keyring_problem = problem
        if problem is None:
            return
        intro = Text()
        intro.append("The keyring cannot be used, so keys cannot be stored: ", style="bold yellow")
        intro.append(self.app.shown(problem), style="yellow")
        intro.append("\nPut each key in an environment variable and name the variable below "
                     "(key_source = \"env:VAR\"); the key itself is never written. A key pasted here is only "
                     "sent to check the server now.", style="dim")
        self.query_one("#keys-intro", Static).update(intro)
        focus_moves = False
        for key_input in self.query(".key-input").results(Input):
            focus_moves = focus_moves or key_input.has_focus
            key_input.value = ""
            key_input.placeholder = "optional: paste it to check it now (not stored: no keyring)"
            pid = (key_input.id or "").removeprefix("key-")
            env_input = self.query_one(f"#env-{pid}", Input)
            if not env_input.value:
                env_input.value = self._env_default(pid)
        if self.step == "keys" and (focus_moves or self.focused is None):
            self._focus_first_field()

    @on(Input.Changed, ".env-input")
    def _env_changed(self, event: Input.Changed) -> None:
        """A key pasted where a variable name goes is masked at once, and said to be a key."""
        value = event.value.strip()
        pid = (event.input.id or "").removeprefix("env-")
        problem = check_env_name(value) if value else None
        note = self.query_one(f"#env-note-{pid}", Static)
        note.update(Text(problem, style="yellow") if problem else "")
        note.display = bool(problem)

    def _collect_keys(self) -> list[onboarding.Choice]:
        choices = []
        for pid in self.picked:
            found = self._imported(pid)
            if pid in self.custom:
                choice = onboarding.choice_for_url(self.custom[pid])
            elif found is not None:
                choice = onboarding.choice_for_found(found)  # its key reference, never a plaintext key
            else:
                choice = onboarding.choice_for(pid, self.env_found.get(pid), self.local_urls.get(pid))
            if choice.env_var is None and pid in self.env_found:
                choice.env_var = self.env_found[pid]
            if choice.env_var is None and self._asks_for_key(pid):
                key = self.query_one(f"#key-{pid}", Input).value.strip()
                env = self.query_one(f"#env-{pid}", Input).value.strip()
                if env:
                    problem = check_env_name(env)
                    if problem:
                        raise ValueError(f"{pid} env var: {problem}")  # never echoes what was typed
                    choice.env_var = env
                    if key and self.keyring_problem is not None:
                        choice.check_key = key  # sent by the probe only: no keyring can keep it
                    elif key:
                        choice.key = key
                elif key and self.keyring_problem is None:
                    choice.key = key
                elif self.keyring_problem:
                    raise ValueError(f"{pid}: the keyring cannot be used — name the environment variable "
                                     "that holds the key")
            choices.append(choice)
        return choices

    # -- step 3: probe
    @work(exclusive=True, group="wizard-probe", exit_on_error=False)
    async def probe_choices(self) -> None:
        from ...net.probe import probe_all

        self.results = {}
        self._show_probe(probing=True)
        targets = await asyncio.to_thread(onboarding.probe_targets, self.choices)  # keyring calls block
        async for result in probe_all(targets):  # nothing is remembered before Finish
            self.results[result.provider] = result
            self._show_probe(probing=True)
        self._show_probe(probing=False)

    def _text_width(self) -> int:
        """Columns a step's text has (its panel's inside)."""
        return max(40, self.size.width - 4)

    def _show_probe(self, probing: bool) -> None:
        shown = self.app.shown
        text = Text()
        for choice in self.choices:
            result = self.results.get(choice.pid)
            text.append(f"{choice.pid:<16}", style="bold")
            text.append_text(status_text(result, probing and result is None, shown=shown))
            text.append("\n")
            if result is not None and not result.usable:
                line = hosted_advice(choice.pid, result) or headline(result)
                text.append_text(hanging("    ", Text(shown(line), style="dim"), self._text_width()))
        if not probing:
            usable = sum(1 for r in self.results.values() if r.usable)
            text.append(f"\n{usable} of {len(self.choices)} working. ", style="bold")
            text.append(_back_hint([r for r in self.results.values() if not r.usable]), style="dim")
        self.query_one("#probe-text", Static).update(text)

    # -- step 4: model
    def _fill_models(self) -> None:
        rows = []
        for choice in self.choices:
            result = self.results.get(choice.pid)
            live = list(result.models) if result is not None and result.models else None
            preset = catalog.preset(choice.pid)
            lookup = (lambda m, pid=choice.pid: catalog.model_info(pid, m)) if preset and preset.local else None
            made = merge(choice.pid, live, catalog.catalog_models(choice.pid), lookup=lookup)
            rows.extend(made)
        usable = {pid for pid, result in self.results.items() if result.usable}
        usable_first = sorted(sort_rows(rows), key=lambda r: r.provider not in usable)
        self.model_filter = Filter(usable_first)
        self._apply_model_filter()
        self._show_roles()

    @on(Input.Changed, "#model-filter")
    def _apply_model_filter(self) -> None:
        query = self.query_one("#model-filter", GuardedInput).usable_value  # a key typed here filters nothing
        self.query_one("#model-list", ModelList).set_rows(self.model_filter.matches(query))

    def _show_roles(self) -> None:
        text = Text()
        text.append("Enter sets the ", style="dim")
        text.append(self.role, style="bold")
        text.append(" model (ctrl+t: default/small).  ", style="dim")
        text.append("default: ", style="dim")
        text.append(self.app.shown(self.refs.get("default", "—")), style="bold")
        text.append("   small (optional): ", style="dim")
        text.append(self.app.shown(self.refs.get("small", "—")), style="bold")
        self.query_one("#model-roles", Static).update(text)

    def action_toggle_role(self) -> None:
        self.role = "small" if self.role == "default" else "default"
        self._show_roles()

    @on(Input.Submitted, "#model-filter")
    def _model_submitted(self) -> None:
        self.query_one("#model-list", ModelList).action_select()

    @on(ModelList.Selected, "#model-list")
    def _model_chosen(self, event: ModelList.Selected) -> None:
        if event.row is not None:
            self.refs[self.role] = event.row.ref
            self._show_roles()

    def action_cursor_up(self) -> None:
        if self.step == "model":
            self.query_one("#model-list", ModelList).action_cursor_up()

    def action_cursor_down(self) -> None:
        if self.step == "model":
            self.query_one("#model-list", ModelList).action_cursor_down()

    # -- step 5: write and summarise
    @work(thread=True, exclusive=True, group="wizard-write", exit_on_error=False)
    def write_all(self) -> None:
        seen: dict[str, list[ProbeResult]] = {}  # newest first: the keyed check, then the keyless look
        for pid, result in [*self.results.items(), *self.local_found.items(),
                            *((pid, found.result) for pid, found in self.custom.items())]:
            seen.setdefault(pid, []).append(result)
        try:
            written = onboarding.finish(self.choices, self.refs, seen)
        except onboarding.SetupFailed as exc:
            self.app.call_from_thread(self._failed, exc)
            return
        self.app.call_from_thread(self._finished, written)

    def _failed(self, exc: onboarding.SetupFailed) -> None:
        self.query_one("#next", Button).disabled = False
        self.notify(self.app.shown_lines(f"{exc.cause}\n{exc.fix}"), title="Setup not finished", severity="error",
                    markup=False, timeout=15)

    def _finished(self, written: onboarding.Written) -> None:
        self.written = written
        shown = self.app.shown
        text = Text()
        text.append("Written\n", style="bold")
        text.append(f"  {shown(str(paths.config_file()))}", style="green")
        text.append(f"  providers: {', '.join(written.providers) or '(already configured)'}\n")
        if written.roles:
            text.append(f"  {shown(str(paths.active_file()))}", style="green")
            text.append("  " + ", ".join(f"{role} = {shown(self.refs[role])}" for role in written.roles) + "\n")
        for pid in written.keys:
            text.append(f"  keyring: service llmswitch, user {pid}", style="green")
            text.append("  (the key itself is in your OS keyring only)\n", style="dim")
        for pid, source in written.sources.items():
            var = source.removeprefix("env:")
            if source == "none":
                text.append(f"  {pid}: no key (the server answered without one)\n", style="dim")
            elif source.startswith("env:"):
                text.append(f"  {pid}: key read from ${var} when needed\n", style="dim")
                if pid in written.required and not os.environ.get(var, "").strip():  # the one step left, in the shell that runs the tools
                    text.append(f"    before using it, in your shell: export {var}=<the key>\n", style="bold")
        text.append("\nHow other tools use it\n", style="bold")
        text.append('  eval "$(llmswitch env)"', style="bold")
        text.append("  sets OPENAI_BASE_URL, OPENAI_API_KEY, OPENAI_MODEL in a shell\n")
        text.append("  llmswitch exec -- CMD", style="bold")
        text.append("    runs CMD with those variables set\n")
        text.append("  llmswitch.client()", style="bold")
        text.append("       in Python: an openai client for the active model\n")
        text.append("  llmswitch", style="bold")
        text.append("                the picker, to switch models any time\n")
        text.append("\nactive.toml is the contract: tools that read it (or use the commands above) follow every switch.",
                    style="dim")
        self.query_one("#done-text", Static).update(text)
        self.query_one("#next", Button).disabled = False
        self.step = "done"
        self._show_step()

    # -- buttons
    @on(Button.Pressed, "#next")
    async def _next_pressed(self) -> None:
        await self.action_next()

    @on(Button.Pressed, "#back")
    def _back_pressed(self) -> None:
        self.action_back()

    @on(Button.Pressed, "#cancel")
    def _cancel_pressed(self) -> None:
        self.action_cancel()

    @on(Input.Submitted, ".key-input, .env-input")
    async def _key_submitted(self) -> None:
        await self.action_next()


def _back_hint(failing: list[ProbeResult]) -> str:
    """What Back is for, from the failures' outcomes: a key only when a server refused one."""
    from ...base.outcome import AUTH, NOT_THERE, Outcome

    if not failing:
        return "Next picks the default model."
    if any(r.outcome in AUTH for r in failing):
        back = "Back to fix a key"
    elif all(r.outcome in NOT_THERE | {Outcome.NOT_FOUND, Outcome.NOT_OPENAI, Outcome.REDIRECTED} for r in failing):
        back = "Back to fix an address (or start the server)"
    else:
        back = "Back to change a provider"
    return f"{back}; Next picks the default model (failing providers can still be chosen)."
