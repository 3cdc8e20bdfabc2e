"""Step 1 of the setup wizard: what is here — keys in the environment, other tools' configs, local servers."""

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
from ...status import status_text
from .text import hanging, text_width

if TYPE_CHECKING:
    from ...app import LLMSwitchApp
    from .findings import Findings

__all__ = ["DetectStep"]


class DetectStep(VerticalScroll):
    """Looks (once, as the wizard opens) and says what it found; ``detecting`` until it has."""

    app: LLMSwitchApp

    def __init__(self, findings: Findings, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.findings = findings
        self.detecting = True

    def compose(self) -> ComposeResult:
        yield Static(Text("Looking for API keys in the environment and local servers on their usual "
                          "ports…", style="dim"), id="detect-text", markup=False)

    @work(exclusive=True, group="wizard-detect", exit_on_error=False)
    async def detect(self) -> None:
        found = self.findings
        found.env_found = onboarding.env_keys()
        found.imported = {pid: other for pid, other in (await asyncio.to_thread(onboarding.from_other_tools)).items()
                          if pid not in found.env_found}
        targets = await asyncio.to_thread(onboarding.local_targets)
        found.local_urls = {t.provider: t.base_url for t in targets}
        local = await onboarding.detect_local(targets)
        found.local_found, found.local_missing = local.found, local.missing
        self.detecting = False
        self._show_detected()

    def _show_detected(self) -> None:
        shown, found = self.app.shown, self.findings
        width = text_width(self.screen.size.width)
        text = Text()
        text.append("API keys in the environment\n", style="bold")
        if found.env_found:
            for pid, var in sorted(found.env_found.items()):
                line = Text.assemble((f"✓ ${var}", "green"),
                                     f"  → {pid} (the key stays in the env var; llmswitch only records its name)")
                text.append_text(hanging("  ", line, width))
        else:
            text.append("  none of the known variables (OPENAI_API_KEY, OPENROUTER_API_KEY, …) is set\n", style="dim")
        if found.imported:
            text.append("\nIn other tools' configs\n", style="bold")
            for pid, other in sorted(found.imported.items()):
                where = shown(other.base_url) if other.base_url else "its usual URL"
                models = f", model {shown(other.models[0])}" if other.models else ""
                key = f"; key: {shown(other.key.describe())}" if other.key is not None else ""
                line = Text.assemble((f"✓ {other.source}", "green"), f"  → {pid} at {where}{models}{key}")
                if other.key is not None and other.key.kind == "plaintext":
                    line.append(f" (it stays there; llmswitch import {other.source} --move-keys moves it into the "
                                "keyring)", style="dim")
                text.append_text(hanging("  ", line, width))
        text.append("\nLocal servers\n", style="bold")
        presets = catalog.presets()
        for pid in onboarding.LOCAL_IDS:
            preset = presets[pid]
            url = found.local_urls.get(pid) or preset.resolved_base_url() or ""
            if pid in found.local_found:
                result = found.local_found[pid]
                text.append(f"  ✓ {preset.name}", style="green")
                text.append(f" at {shown(url)} — ")
                text.append_text(status_text(result, shown=shown))
                text.append("\n")
            else:
                text.append(f"  · {preset.name}: nothing at {shown(url)}\n", style="dim")
        text.append("\nNext lets you choose which to set up, and add any other provider — or a server on another "
                    "port: type its port or URL there.", style="dim")
        self.query_one("#detect-text", Static).update(text)
