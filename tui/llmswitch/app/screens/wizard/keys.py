"""Step 3 of the setup wizard: a key (or the variable that holds it) for each provider that wants one.

The step checks once whether the keyring can be used; without one the key fields only check a
server now, and the variable is what is written.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.widget import Widget
from textual.widgets import Input, Label, Static

from ....services import onboarding
from ....store.config import check_env_name
from ...widgets.guarded import GuardedInput

if TYPE_CHECKING:
    from ...app import LLMSwitchApp
    from .findings import Findings

KEY_PLACEHOLDER = "paste the key (hidden; stored in the keyring at Finish)"


def env_default(pid: str) -> str:
    from ....store.keydecision import default_variable

    return default_variable(pid)


class KeysStep(VerticalScroll):
    """One row per picked provider: where its key comes from, or a key field and a variable field."""

    app: LLMSwitchApp

    class FieldsChanged(Message):
        """The key fields changed under the focus (the keyring turned out unusable): the first field may differ."""

    def __init__(self, findings: Findings, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.findings = findings
        self.picked: list[str] = []
        self.keyring_problem: str | None = None

    def compose(self) -> ComposeResult:
        yield Static(id="keys-intro", markup=False, classes="hint")
        yield Vertical(id="keys-form")

    def first_field(self) -> Widget | None:
        """No keyring: the variable is what counts (a key there is only for the check)."""
        fields = self.query("#keys-form .env-input" if self.keyring_problem else "#keys-form Input")
        return next((i for i in fields if not i.disabled), None)

    async def build(self, picked: list[str]) -> None:
        found = self.findings
        self.picked = picked
        for pid in picked:  # the variable proposed before (a restarted wizard), now set: it holds the key
            var = env_default(pid)
            if pid not in found.env_found and found.asks_for_key(pid) and os.environ.get(var, "").strip():
                found.env_found[pid] = var
        form = self.query_one("#keys-form", Vertical)
        await form.remove_children()
        rows: list[Static | Horizontal] = []
        for pid in picked:
            other = found.imported_for(pid)
            if other is not None and other.key is not None and other.key.kind in ("env", "command"):
                rows.append(Static(Text.assemble((f"{pid}: ", "bold"), f"key from {other.key.describe()}",
                                                 (f" (as {other.source} has it)", "dim")), markup=False))
                continue
            if pid in found.env_found:
                rows.append(Static(Text.assemble((f"{pid}: ", "bold"), f"key from ${found.env_found[pid]}",
                                                 (f" (key_source = \"env:{found.env_found[pid]}\")", "dim")),
                                   markup=False))
            elif not found.asks_for_key(pid):
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
                    GuardedInput(placeholder=f"{env_default(pid)} (leave empty to use the keyring)", id=f"env-{pid}",
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
                env_input.value = env_default(pid)
        if focus_moves or self.screen.focused is None:
            self.post_message(self.FieldsChanged())

    @on(Input.Changed, ".env-input")
    def _env_changed(self, event: Input.Changed) -> None:
        """A key pasted where a variable name goes is masked at once, and said to be a key."""
        value = event.value.strip()
        pid = (event.input.id or "").removeprefix("env-")
        problem = check_env_name(value) if value else None
        note = self.query_one(f"#env-note-{pid}", Static)
        note.update(Text(problem, style="yellow") if problem else "")
        note.display = bool(problem)

    def collect(self) -> list[onboarding.Choice]:
        """What to write for each picked provider; ValueError says what is missing (never echoing a key)."""
        found = self.findings
        choices = []
        for pid in self.picked:
            other = found.imported_for(pid)
            if pid in found.custom:
                choice = onboarding.choice_for_url(found.custom[pid])
            elif other is not None:
                choice = onboarding.choice_for_found(other)  # its key reference, never a plaintext key
            else:
                choice = onboarding.choice_for(pid, found.env_found.get(pid), found.local_urls.get(pid))
            if choice.env_var is None and pid in found.env_found:
                choice.env_var = found.env_found[pid]
            if choice.env_var is None and found.asks_for_key(pid):
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
