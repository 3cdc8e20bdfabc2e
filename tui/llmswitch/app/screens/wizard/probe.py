"""Step 4 of the setup wizard: probe every chosen provider with the settings it will have; nothing is remembered yet."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Static

from ....services import onboarding
from ....store import catalog
from ...status import headline, status_text
from .text import hanging, text_width

if TYPE_CHECKING:
    from ....base.outcome import ProbeResult
    from ...app import LLMSwitchApp


def hosted_advice(pid: str, result: ProbeResult) -> str | None:
    """For a hosted preset that could not be reached, the network comes first (its URL is the preset's own)."""
    from ....base.outcome import Outcome

    preset = catalog.preset(pid)
    if preset is None or preset.local or result.outcome not in (Outcome.DNS_FAILURE, Outcome.CONNECTION_REFUSED,
                                                                 Outcome.TIMEOUT, Outcome.CONNECTION_ERROR):
        return None
    return (f"{pid}: {result.summary} — check this machine's network connection (and any proxy); "
            f"the URL is {preset.name}'s own")


def back_hint(failing: list[ProbeResult]) -> str:
    """What Back is for, from the failures' outcomes: a key only when a server refused one."""
    from ....base.outcome import AUTH, NOT_THERE, Outcome

    if not failing:
        return "Next picks the default model."
    if any(r.outcome in AUTH for r in failing):
        back = "Back to fix a key"
    elif all(r.outcome in NOT_THERE | {Outcome.NOT_FOUND, Outcome.NOT_OPENAI, Outcome.REDIRECTED} for r in failing):
        back = "Back to fix an address (or start the server)"
    else:
        back = "Back to change a provider"
    return f"{back}; Next picks the default model (failing providers can still be chosen)."


class ProbeStep(VerticalScroll):
    """One line per chosen provider as its result arrives, then how many work and what Back is for."""

    app: LLMSwitchApp

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.choices: list[onboarding.Choice] = []
        self.results: dict[str, ProbeResult] = {}

    def compose(self) -> ComposeResult:
        yield Static(id="probe-text", markup=False)

    @work(exclusive=True, group="wizard-probe", exit_on_error=False)
    async def probe(self, choices: list[onboarding.Choice]) -> None:
        from ....net.probe import probe_all

        self.choices = choices
        self.results = {}
        self._show(probing=True)
        targets = await asyncio.to_thread(onboarding.probe_targets, choices)  # keyring calls block
        async for result in probe_all(targets):  # nothing is remembered before Finish
            self.results[result.provider] = result
            self._show(probing=True)
        self._show(probing=False)

    def _show(self, probing: bool) -> None:
        shown = self.app.shown
        width = text_width(self.screen.size.width)
        text = Text()
        for choice in self.choices:
            result = self.results.get(choice.pid)
            text.append(f"{choice.pid:<16}", style="bold")
            text.append_text(status_text(result, probing and result is None, shown=shown))
            text.append("\n")
            if result is not None and not result.usable:
                line = hosted_advice(choice.pid, result) or headline(result)
                text.append_text(hanging("    ", Text(shown(line), style="dim"), width))
        if not probing:
            usable = sum(1 for r in self.results.values() if r.usable)
            text.append(f"\n{usable} of {len(self.choices)} working. ", style="bold")
            text.append(back_hint([r for r in self.results.values() if not r.usable]), style="dim")
        self.query_one("#probe-text", Static).update(text)
