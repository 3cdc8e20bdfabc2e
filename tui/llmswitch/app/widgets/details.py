"""The picker's bottom panel: the highlighted model in full, the gateway's budget and metadata, the probe's diagnosis."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.text import Text
from textual.widgets import Static

from ..status import diagnosis_text, model_text

if TYPE_CHECKING:
    from ...base.keyorigin import KeyOrigin
    from ...base.outcome import ProbeResult
    from ...services.models import ModelRow
    from ...store.config import ProviderConfig
    from ..app import LLMSwitchApp

HINT = "Pick a provider on the left; type to filter models; Enter makes one active."


class DetailsPanel(Static):
    """What is known about the highlighted provider and model; redrawn whole on each change."""

    app: LLMSwitchApp

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, markup=False)

    def show(self, provider: ProviderConfig | None, row: ModelRow | None, result: ProbeResult | None, *,
             key_problem: str | None, key_origin: KeyOrigin | None, probing: bool) -> None:
        if provider is None:
            self.update(Text(HINT, style="dim"))
            return
        text = Text()
        if row is not None:  # first: the full id of the highlighted model (the list may cut it)
            text.append_text(model_text(row, self.app.shown))
            text.append("\n")
            text.append_text(self._served_text(provider, row))
        text.append_text(self._gateway_text(provider, row))
        text.append_text(diagnosis_text(provider, result, key_problem, self.app.shown, probing=probing,
                                        key_origin=key_origin))
        text.append_text(self._protocols_text(provider))
        self.update(text)

    def _served_text(self, provider: ProviderConfig, row: ModelRow) -> Text:
        """What the server said it serves the model with (``served 512 of 4k``) and its warning, before a switch —
        from what the last probe read; nothing is asked here."""
        from ...services.served import details

        text = Text()
        line, warning = details(provider, row.model, row)
        if line.startswith("served"):
            text.append(self.app.shown(line) + "\n", style="bold" if warning else "")
        if warning:
            text.append("⚠ " + self.app.shown(warning) + "\n", style="yellow")
        return text

    def _protocols_text(self, provider: ProviderConfig) -> Text:
        """The protocols the provider's routes answered (its kept fingerprint), last: the diagnosis comes first."""
        from ...services.served import serves_line

        protocols = serves_line(provider)
        return Text("\n" + self.app.shown(protocols), style="dim") if protocols else Text()

    def _gateway_text(self, provider: ProviderConfig, row: ModelRow | None) -> Text:
        """The budget the gateway reported and how old its model metadata is (before a switch, so first)."""
        from ...net.gateway import cached as described
        from ...net.gateway import fmt_age
        from ...services.budget import cached as kept_budget

        text = Text()
        kept = kept_budget(provider)
        if kept is not None:
            label = "" if kept.unavailable else "budget: "  # "budget unknown: …" names itself
            text.append(label + self.app.shown(kept.line()) + "\n", style="dim" if kept.unavailable else "")
        told = described(provider) if row is not None and row.gateway is not None else None
        if told is not None:
            text.append(f"gateway metadata: {len(told.models)} models, fetched {fmt_age(told.age())}\n", style="dim")
        return text
