"""Step 6 of the setup wizard: what was written, where, and how other tools use it."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Static

from ....base import paths
from ...widgets.tool_offer import ToolOffer

if TYPE_CHECKING:
    from ....services import onboarding
    from ...app import LLMSwitchApp


class DoneStep(VerticalScroll):
    """The summary of Finish's writes (config.toml, active.toml, the keyring), the next commands, and the offer to
    connect the tools installed here (:class:`~llmswitch.app.widgets.tool_offer.ToolOffer`)."""

    app: LLMSwitchApp

    def compose(self) -> ComposeResult:
        yield Static(id="done-text", markup=False)
        yield ToolOffer(id="tool-offer")

    def show(self, written: onboarding.Written, refs: dict[str, str]) -> None:
        shown = self.app.shown
        text = Text()
        text.append("Written\n", style="bold")
        text.append(f"  {shown(str(paths.config_file()))}", style="green")
        text.append(f"  providers: {', '.join(written.providers) or '(already configured)'}\n")
        if written.roles:
            text.append(f"  {shown(str(paths.active_file()))}", style="green")
            text.append("  " + ", ".join(f"{role} = {shown(refs[role])}" for role in written.roles) + "\n")
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
        self.query_one(ToolOffer).survey()  # after the write: which installed tools can follow it
