"""First-run setup: detect, choose, enter keys, probe, pick a model, then write everything at once.

Choices are collected in memory; config.toml, the keyring and active.toml are
written only by Finish (:func:`llmswitch.services.onboarding.finish`, undone if any write
fails), so escape at any step leaves nothing half-written. Detection and the
write live in :mod:`llmswitch.services.onboarding`; each step is a widget in
:mod:`.wizard` (one module each), sharing what was found (:class:`~.wizard.findings.Findings`);
this module moves between them and writes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.screen import Screen
from textual.widgets import Button, ContentSwitcher, Input, Static

from ...services import onboarding
from ..widgets.footer import Footer
from ..widgets.tool_offer import ToolOffer
from .wizard.choose import ChooseStep
from .wizard.detect import DetectStep
from .wizard.done import DoneStep
from .wizard.findings import Findings
from .wizard.keys import KeysStep
from .wizard.model import ModelStep
from .wizard.probe import ProbeStep, hosted_advice
from .wizard.probe import back_hint as _back_hint
from .wizard.text import hanging

if TYPE_CHECKING:
    from ...base.outcome import ProbeResult
    from ..app import LLMSwitchApp

__all__ = ["STEPS", "SetupWizard", "_back_hint", "hanging", "hosted_advice"]

STEPS = ("detect", "choose", "keys", "probe", "model", "done")
STEP_TITLES = {"detect": "1/6 · What is here", "choose": "2/6 · Choose providers", "keys": "3/6 · Keys",
               "probe": "4/6 · Probe", "model": "5/6 · Default model", "done": "6/6 · Done"}


class SetupWizard(Screen[bool]):
    """Five steps; dismisses True when it wrote the files, False when cancelled."""

    CSS_PATH = ["setup.tcss", "wizard/choose.tcss", "wizard/keys.tcss"]
    BINDINGS = [
        # priority: the step changes (and its first field takes the focus) before the next key is delivered
        Binding("ctrl+n", "next", "Next", id="setup.next", tooltip="Go to the next step", priority=True),
        Binding("ctrl+b", "back", "Back", id="setup.back", tooltip="Go back one step", priority=True),
        Binding("ctrl+t", "toggle_role", "Default/small", id="setup.role",
                tooltip="On the model step: whether Enter sets the default or the small model"),
        Binding("escape", "cancel", "Cancel", id="setup.cancel", tooltip="Leave the wizard; nothing is written"),
        Binding("ctrl+n,escape", "close", "Close", id="setup.close", tooltip="On the last page: back to the picker",
                priority=True),
        Binding("ctrl+o", "connect_tools", "Connect checked", id="setup.connect",
                tooltip="On the last page: connect the ticked tools to the new selection (each verified)"),
        Binding("up", "cursor_up", "Up", show=False),
        Binding("down", "cursor_down", "Down", show=False),
    ]

    app: LLMSwitchApp

    def __init__(self) -> None:
        super().__init__()
        self.step = "detect"
        self.findings = Findings()
        self.choices: list[onboarding.Choice] = []
        self.written: onboarding.Written | None = None

    def compose(self) -> ComposeResult:
        yield Static(id="wizard-title", markup=False)
        with ContentSwitcher(initial="detect", id="wizard-steps"):
            yield DetectStep(self.findings, id="detect")
            yield ChooseStep(self.findings, id="choose")
            yield KeysStep(self.findings, id="keys")
            yield ProbeStep(id="probe")
            yield ModelStep(id="model")
            yield DoneStep(id="done")
        with Horizontal(id="wizard-buttons"):
            yield Button("Cancel", id="cancel", compact=True)
            yield Button("Back", id="back", compact=True)
            yield Button("Next", id="next", variant="primary", compact=True)
        yield Footer()

    def on_mount(self) -> None:
        self._show_step()
        self.query_one(DetectStep).detect()
        self.query_one(KeysStep).check_keyring()  # known before the keys step is built (it blocks: a thread)

    # -- what the steps hold
    @property
    def detecting(self) -> bool:
        return self.query_one(DetectStep).detecting

    @property
    def custom(self) -> dict[str, Any]:
        return self.findings.custom

    @property
    def local_found(self) -> dict[str, ProbeResult]:
        return self.findings.local_found

    @property
    def keyring_problem(self) -> str | None:
        return self.query_one(KeysStep).keyring_problem

    @property
    def results(self) -> dict[str, ProbeResult]:
        return self.query_one(ProbeStep).results

    @property
    def refs(self) -> dict[str, str]:
        return self.query_one(ModelStep).refs

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
            target = self.query_one(ChooseStep).first_field()
        elif self.step == "keys":
            target = self.query_one(KeysStep).first_field()
        elif self.step == "model":
            target = self.query_one("#model-filter")
        self.set_focus(target or self.query_one("#next", Button))  # now, not later: the next key goes there

    @on(KeysStep.FieldsChanged)
    def _key_fields_changed(self) -> None:
        if self.step == "keys":
            self._focus_first_field()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "close":
            return self.step == "done"
        if action == "connect_tools":
            return self.step == "done" and self.query_one(ToolOffer).usable
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
            self.query_one(ChooseStep).fill()
            self.step = "choose"
        elif step == "choose":
            picked = self.query_one(ChooseStep).picked
            if not picked:
                self.notify("Tick at least one provider (space), or escape to leave", severity="warning")
                return
            self.step = "keys"
            await self.query_one(KeysStep).build(picked)  # mounted before the step opens: its first field takes the focus
        elif step == "keys":
            try:
                self.choices = self.query_one(KeysStep).collect()
            except ValueError as exc:
                self.notify(str(exc), severity="warning", markup=False)
                return
            self.step = "probe"
            self.query_one(ProbeStep).probe(self.choices)
        elif step == "probe":
            self.query_one(ModelStep).fill(self.choices, self.results)
            self.step = "model"
        elif step == "model":
            if not self.query_one(ModelStep).choose_highlighted():
                self.notify("No model to choose: go back and fix the providers, or escape", severity="warning")
                return
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

    def action_connect_tools(self) -> None:
        self.query_one(ToolOffer).connect()

    def action_toggle_role(self) -> None:
        self.query_one(ModelStep).toggle_role()

    def action_cursor_up(self) -> None:
        if self.step == "model":
            self.query_one(ModelStep).model_list.action_cursor_up()

    def action_cursor_down(self) -> None:
        if self.step == "model":
            self.query_one(ModelStep).model_list.action_cursor_down()

    # -- Finish: write everything, then the summary
    @work(thread=True, exclusive=True, group="wizard-write", exit_on_error=False)
    def write_all(self) -> None:
        found = self.findings
        seen: dict[str, list[ProbeResult]] = {}  # newest first: the keyed check, then the keyless look
        for pid, result in [*self.results.items(), *found.local_found.items(),
                            *((pid, server.result) for pid, server in found.custom.items())]:
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
        self.query_one(DoneStep).show(written, self.refs)
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
