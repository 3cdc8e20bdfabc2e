"""The picker's provider list: one row per provider with its live status, and the probing that fills it.

The list owns the providers shown, the probe results and the sweep that produces them. It tells
the screen what changed by messages (:class:`ProviderList.ViewChanged`, :class:`ProviderList.Probed`,
:class:`ProviderList.Described`, :class:`ProviderList.SweepStarted`); it never reaches into the
model list or the details panel.
"""

from __future__ import annotations

import asyncio
from contextlib import aclosing
from typing import TYPE_CHECKING

from rich.text import Text
from textual import on, work
from textual.message import Message
from textual.widgets import OptionList
from textual.widgets.option_list import Option
from textual.worker import get_current_worker

from ...services.models import ModelRow, for_role, provider_rows
from ...store import state
from ...store.config import UnknownProvider
from ..status import no_models_text, status_text

if TYPE_CHECKING:
    from ...base.keyorigin import KeyOrigin
    from ...base.outcome import ProbeResult, ProbeTarget
    from ...net.probe.transport import ProbeClient
    from ...store.config import Config, ProviderConfig
    from ..app import LLMSwitchApp

ALL = "__all__"
"""The "All providers" row: every configured provider's models."""
CATALOG = "__catalog__"
"""The "Whole catalog" row: every preset's models."""
SPIN_EVERY = 0.1
"""Seconds between two frames of a probing row's spinner."""


def _prepare_probe(providers: list[ProviderConfig]) -> tuple[dict[str, tuple[ProbeTarget, str | None]], ProbeClient]:
    """(target, key problem) per provider with a base URL, and the HTTP client to probe them with. Blocking."""
    from ...net.probe import new_client
    from ...net.probe.targets import for_provider

    return {p.id: for_provider(p) for p in providers if p.base_url}, new_client()


class ProviderList(OptionList):
    """Providers with their probe status; the highlighted row is the view (a provider, ALL or CATALOG)."""

    app: LLMSwitchApp

    class ViewChanged(Message):
        """The highlighted row changed: ``view`` is a provider id, ALL or CATALOG."""

        def __init__(self, view: str) -> None:
            super().__init__()
            self.view = view

    class SweepStarted(Message):
        """A probe sweep began: the providers it probes show a spinner."""

    class Probed(Message):
        """A probe result for ``provider`` arrived (its models may have changed)."""

        def __init__(self, provider: str) -> None:
            super().__init__()
            self.provider = provider

    class Described(Message):
        """A gateway's own metadata for ``provider`` was refreshed (its rows may have changed)."""

        def __init__(self, provider: str) -> None:
            super().__init__()
            self.provider = provider

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.providers: dict[str, ProviderConfig] = {}
        self.results: dict[str, ProbeResult] = {}
        self.key_problems: dict[str, str | None] = {}
        self.key_origins: dict[str, KeyOrigin | None] = {}
        self.probing: set[str] = set()
        self.probe_generation = 0
        self.frame = 0
        self.view = ALL
        self.active_provider: str | None = None
        """The provider of the model active for the picker's role (marked ●)."""
        self.recent: list[str] = []
        """Recently used refs (their rows are marked ↺ and come first)."""

    def on_mount(self) -> None:
        self.set_interval(SPIN_EVERY, self._spin)

    # -- rows
    def show(self, providers: dict[str, ProviderConfig], recent: list[str]) -> None:
        """Show ``providers`` (results of providers no longer there are dropped); the view stays when it can."""
        self.providers = providers
        self.recent = recent
        self.results = {pid: r for pid, r in self.results.items() if pid in providers}
        keep = self.view
        self.clear_options()
        self.add_option(Option(self._prompt(ALL), id=ALL))
        for pid in self.providers:
            self.add_option(Option(self._prompt(pid), id=pid))
        self.add_option(Option(self._prompt(CATALOG), id=CATALOG))
        if keep not in (ALL, CATALOG) and keep not in self.providers:
            keep = ALL
        self.view = keep
        self.highlighted = self.get_option_index(keep)

    def mark_active(self, provider: str | None) -> None:
        """``provider`` now holds the role's active model: every row's ● follows."""
        self.active_provider = provider
        for pid in self.providers:
            self.refresh_provider(pid)

    def _prompt(self, pid: str) -> Text:
        shown = self.app.shown
        if pid == ALL:
            return Text.assemble(("All providers", "bold"), ("\n" + f"  {len(self.providers)} configured", "dim"))
        if pid == CATALOG:
            return Text.assemble(("Whole catalog", "bold"), ("\n  every preset's models", "dim"))
        provider = self.providers[pid]
        mark = "● " if self.active_provider == pid else "  "
        head = Text(mark, style="bold green")
        head.append(shown(pid), style="bold")
        if not provider.configured:
            head.append(" (preset)", style="dim")
        elif provider.origin:
            head.append(" (team)", style="dim")
        status = status_text(self.results.get(pid), pid in self.probing, self.frame, shown,
                             has_url=bool(provider.base_url))
        head.append("\n  ")
        head.append_text(status)
        return head

    def refresh_provider(self, pid: str) -> None:
        try:
            self.replace_option_prompt(pid, self._prompt(pid))
        except Exception:  # the option went away with a reload
            pass

    def _spin(self) -> None:
        if not self.probing:
            return
        self.frame += 1
        for pid in list(self.probing):
            self.refresh_provider(pid)

    @on(OptionList.OptionHighlighted)
    def _highlighted(self, event: OptionList.OptionHighlighted) -> None:
        if event.option.id and event.option.id != self.view:
            self.view = event.option.id
            self.post_message(self.ViewChanged(self.view))

    # -- the models a row stands for
    def rows_for(self, pid: str) -> list[ModelRow]:
        """The provider's models: the last probe's list, else the cached one, merged with the catalog."""
        provider = self.providers[pid]
        result = self.results.get(pid)
        live = list(result.models) if result is not None and result.models else None  # None: the cached list
        return provider_rows(provider, live, recent=self.recent)

    def view_rows(self, role: str) -> tuple[list[ModelRow], str] | None:
        """(the highlighted row's models offered for ``role``, what an empty list says); None for the catalog."""
        if self.view == CATALOG:
            return None
        if self.view == ALL:
            rows = [row for pid in self.providers for row in self.rows_for(pid)]
            empty = "no providers yet: ctrl+n adds one" if not self.providers else "no models known yet — probing…"
        else:
            rows = self.rows_for(self.view)
            empty = no_models_text(self.results.get(self.view))
        return for_role(rows, role), empty  # a gateway's embedding models only for the embedding role

    def provider_id_for(self, row: ModelRow | None) -> str | None:
        """The provider highlighted: the view's, or in ALL and CATALOG the highlighted model's."""
        if self.view not in (ALL, CATALOG):
            return self.view
        return row.provider if row is not None else None

    def provider_for(self, row: ModelRow | None, config: Config | None) -> ProviderConfig | None:
        pid = self.provider_id_for(row)
        if pid is None:
            return None
        if pid in self.providers:
            return self.providers[pid]
        try:
            return config.provider(pid) if config else None
        except UnknownProvider:
            return None

    # -- probing
    @work(exclusive=True, group="probe", exit_on_error=False)
    async def probe(self, pids: list[str]) -> None:
        """Probe providers; results update one row each as they arrive. A new sweep cancels this one."""
        self.probe_generation += 1
        generation = self.probe_generation
        worker = get_current_worker()
        providers = [self.providers[pid] for pid in pids if pid in self.providers]
        self.probing = {p.id for p in providers if p.base_url}
        for pid in pids:
            self.refresh_provider(pid)
        self.post_message(self.SweepStarted())
        # off the loop: keyring calls block, and importing the transport and loading CA certificates take ~150 ms
        targets, client = await asyncio.to_thread(_prepare_probe, providers)
        try:
            if worker.is_cancelled or generation != self.probe_generation:
                return
            from ...net.probe import probe_all

            for pid, (target, problem) in targets.items():
                self.key_problems[pid] = problem
                self.key_origins[pid] = target.key_origin
            async with aclosing(probe_all([t for t, _ in targets.values()], client=client)) as results:
                async for result in results:
                    if generation != self.probe_generation:
                        return  # a newer sweep owns the list now
                    self.results[result.provider] = result
                    self.probing.discard(result.provider)
                    self.refresh_provider(result.provider)
                    self.post_message(self.Probed(result.provider))
                    provider = self.providers.get(result.provider)
                    if provider is not None:  # after the screen shows it: the write is not on its way
                        await asyncio.to_thread(state.remember, result, provider.base_url)
                        # then the gateway's own metadata (it needs the fingerprint just remembered)
                        await asyncio.to_thread(self._gateway_metadata, provider)
                        if generation == self.probe_generation:
                            self.post_message(self.Described(result.provider))
        finally:
            if generation == self.probe_generation:
                self.probing.clear()
            await client.aclose()

    def _gateway_metadata(self, provider: ProviderConfig) -> None:
        """A gateway's own word on its models (and budget), refetched when old. Blocking: run in a thread."""
        from ...net import gateway
        from ...services import budget

        problems = gateway.refresh_stale([provider])
        problems += [p for p in (budget.refresh_stale(provider),) if p]
        for problem in problems:
            self.app.call_from_thread(self.notify, self.app.shown(problem), title="gateway metadata",
                                      severity="warning", markup=False)
