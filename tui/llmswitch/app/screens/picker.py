"""The main screen: providers with live status, their models, the probe's diagnosis."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from contextlib import aclosing
from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual import events, on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import Footer, Input, OptionList, Static
from textual.widgets.option_list import Option
from textual.worker import get_current_worker

from ...services.models import SORTS, Filter, ModelRow, for_role, make_row, provider_rows, sort_rows
from ...store import catalog, selection, state
from ...store.config import Config, ConfigError, ProviderConfig, UnknownProvider, load
from ..edits import change_settings
from ..status import diagnosis_text, has_app_fix, headline, key_refused, model_text, no_models_text, status_text
from ..widgets.guarded import GuardedInput
from ..widgets.model_list import ModelHeader, ModelList

if TYPE_CHECKING:
    import httpx

    from ...base.keyorigin import KeyOrigin
    from ...base.outcome import ProbeResult, ProbeTarget
    from ...services.switch import SwitchResult
    from ..app import LLMSwitchApp

ALL = "__all__"
CATALOG = "__catalog__"
ROLES = ("default", "small", "embedding")
PROBE_AFTER_PAINT = 0.05
"""Seconds between a refresh and the sweep that follows a (re)load."""


def _prepare_probe(providers: list[ProviderConfig]) -> tuple[dict[str, tuple[ProbeTarget, str | None]], httpx.AsyncClient]:
    """(target, key problem) per provider with a base URL, and the HTTP client to probe them with. Blocking."""
    from ...net.probe import new_client
    from ...net.probe.targets import for_provider

    return {p.id: for_provider(p) for p in providers if p.base_url}, new_client()


def fresh(provider: ProviderConfig) -> ProviderConfig:
    """``provider`` as config.toml and the last probes describe it now (a probe may have learned it wants a key)."""
    try:
        return load().provider(provider.id)
    except (ConfigError, UnknownProvider):
        return provider


class PickerScreen(Screen[None]):
    """Pick the active model for a role."""

    app: LLMSwitchApp

    # picker.tcss is loaded by the app (this is its default screen)
    AUTO_FOCUS = "#filter"
    BINDINGS = [
        Binding("enter", "switch", "Use model", id="picker.switch", priority=True,
                tooltip="Make the highlighted model active"),
        Binding("ctrl+r,r,f5", "reprobe", "Re-probe", id="picker.reprobe",
                tooltip="Probe every provider again (r when a list has the focus)"),
        Binding("ctrl+t", "cycle_role", "Role", id="picker.role", tooltip="Switch role: default, small, embedding"),
        Binding("ctrl+o", "cycle_sort", "Sort", show=False, id="picker.sort", tooltip="Sort by name, context or price"),
        Binding("ctrl+g", "apply_fix", "Fix", id="picker.fix",
                tooltip="Apply the probe's suggested fix for the highlighted provider"),
        Binding("f2", "edit_provider", "Provider", id="picker.edit",
                tooltip="Edit the highlighted provider: URL, key, headers, timeout"),
        Binding("ctrl+f", "toggle_favorite", "Favourite", show=False, id="picker.favorite",
                tooltip="Add or remove the highlighted model from its provider's favorites in config.toml"),
        Binding("ctrl+n", "add_provider", "Add provider", show=False, id="picker.add",
                tooltip="Add a provider from a preset or a custom URL"),
        Binding("slash", "focus_filter", "Filter", show=False, id="picker.filter", tooltip="Focus the filter"),
        Binding("escape", "escape", "Clear filter / cancel", show=False, id="picker.escape",
                tooltip="Empty the filter (in pick mode: leave without choosing)"),
        Binding("up", "cursor_up", "Up", show=False),
        Binding("down", "cursor_down", "Down", show=False),
        Binding("pageup", "page_up", "Page up", show=False),
        Binding("pagedown", "page_down", "Page down", show=False),
    ]

    def __init__(self, config: Config | None = None, pick_role: str | None = None) -> None:
        super().__init__()
        self.config = config
        self.pick_mode = pick_role is not None
        self.role = pick_role or "default"
        self.sort = "name"
        self.providers: dict[str, ProviderConfig] = {}
        self.results: dict[str, ProbeResult] = {}
        self.key_problems: dict[str, str | None] = {}
        self.key_origins: dict[str, KeyOrigin | None] = {}
        self.probing: set[str] = set()
        self.probe_generation = 0
        self.view = ALL
        self.catalog_rows: list[ModelRow] | None = None
        self.active: dict[str, selection.ActiveSelection] = {}
        self.filter = Filter([])
        self.frame = 0
        self.last_filter_ms = 0.0
        self._available: tuple[bool | None, bool | None] = (False, True)  # (fix, edit) as the footer shows them before any result

    # -- layout
    def compose(self) -> ComposeResult:
        yield Static(id="picker-bar", markup=False)
        with Horizontal(id="picker-main"):
            with Vertical(id="providers-pane"):
                yield OptionList(id="providers")
            with Vertical(id="models-pane"):
                yield GuardedInput(placeholder="type to filter models…", id="filter", compact=True,
                                   allow=lambda query: bool(self.filter.matches(query)))  # a model id is no key
                yield ModelHeader(id="model-header")
                yield ModelList(id="models")
                yield Static(id="models-count", markup=False)
        yield Static(id="details", markup=False)
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#providers-pane").border_title = "Providers"
        self.query_one("#models-pane").border_title = "Models"
        self.query_one("#details").border_title = "Diagnosis"
        self.reload(config=self.config)
        self.set_interval(0.1, self._spin)

    # -- data
    def reload(self, config: Config | None = None) -> None:
        """Re-read config, selection and recents; re-probe everything."""
        if config is None:
            try:
                config = load()
            except ConfigError as exc:
                self.notify(self.app.shown_lines(str(exc)), title="config.toml has problems",
                            severity="error", markup=False, timeout=15)
                return
        self.config = config
        try:
            self.active = selection.read_all()
        except selection.SelectionError as exc:
            self.active = {}
            self.notify(self.app.shown_lines(str(exc)), title="active.toml", severity="warning", markup=False)
        providers = dict(config.providers)
        for sel in self.active.values():
            if sel.provider not in providers:
                try:
                    providers[sel.provider] = config.provider(sel.provider)
                except UnknownProvider:
                    pass
        self.providers = providers
        self.results = {pid: r for pid, r in self.results.items() if pid in providers}
        self.recent = state.recent()
        self._fill_providers()
        self._update_bar()
        self.rebuild_rows()
        # the frame is out before any probing work: the probe's thread (keyring calls, importing the transport,
        # loading CA certificates) holds the GIL for ~150 ms, which would stall the loop's first ticks
        self.call_after_refresh(self.set_timer, PROBE_AFTER_PAINT, self.action_reprobe)

    def _fill_providers(self) -> None:
        options = self.query_one("#providers", OptionList)
        keep = self.view
        options.clear_options()
        options.add_option(Option(self._provider_prompt(ALL), id=ALL))
        for pid in self.providers:
            options.add_option(Option(self._provider_prompt(pid), id=pid))
        options.add_option(Option(self._provider_prompt(CATALOG), id=CATALOG))
        if keep not in (ALL, CATALOG) and keep not in self.providers:
            keep = ALL
        self.view = keep
        options.highlighted = options.get_option_index(keep)

    def _provider_prompt(self, pid: str) -> Text:
        shown = self.app.shown
        if pid == ALL:
            return Text.assemble(("All providers", "bold"), ("\n" + f"  {len(self.providers)} configured", "dim"))
        if pid == CATALOG:
            return Text.assemble(("Whole catalog", "bold"), ("\n  every preset's models", "dim"))
        provider = self.providers[pid]
        active = self.active.get(self.role)
        mark = "● " if active is not None and active.provider == pid else "  "
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

    def _refresh_provider(self, pid: str) -> None:
        try:
            self.query_one("#providers", OptionList).replace_option_prompt(pid, self._provider_prompt(pid))
        except Exception:  # the option went away with a reload
            pass

    def _spin(self) -> None:
        if not self.probing:
            return
        self.frame += 1
        for pid in list(self.probing):
            self._refresh_provider(pid)
        self._update_details()

    def _update_bar(self) -> None:
        active = self.active.get(self.role)
        model_list = self.query_one(ModelList)
        model_list.active_ref = active.ref if active else None
        model_list.refresh()
        bar = Text()
        bar.append(" llmswitch ", style="bold reverse")
        bar.append("  pick for " if self.pick_mode else "  role: ", style="dim")
        bar.append(self.role, style="bold")
        from .where import bar_text, look

        resolved = look(self.role)[1]  # the scope in force here: shell, project or user (issue 13)
        active = resolved.selection if resolved is not None else active
        bar.append("  active: ", style="dim")
        bar.append(self.app.shown(active.ref) if active else "none", style="bold" if active else "dim")
        bar.append(self.app.shown(bar_text(resolved)), style="yellow")
        sort = f"  sort: {self.sort}"
        width = self.size.width or 80
        if bar.cell_len + len(sort) <= width:  # the models' header shows the sort too: the first to go
            bar.append(sort, style="dim")
        bar.truncate(width, overflow="ellipsis")
        self.query_one("#picker-bar", Static).update(bar)

    def on_resize(self) -> None:
        self._update_bar()

    @work(thread=True, exclusive=True, group="catalog", exit_on_error=False)
    def load_catalog(self) -> None:
        """Build the whole catalog's rows off the event loop (about 5,000 rows), when first shown.

        Only the "Whole catalog" view needs them: until it is opened they are neither built
        nor resident (the parsed catalog is most of the picker's memory).
        """
        recent = {ref: i for i, ref in enumerate(state.recent())}
        rows = [make_row(pid, m.id, m, recent=recent.get(f"{pid}/{m.id}")) for pid, m in catalog.all_models()]
        self.app.call_from_thread(self._catalog_loaded, rows)

    def _catalog_loaded(self, rows: list[ModelRow]) -> None:
        if self.catalog_rows is not None:
            return  # already there (rows given directly, e.g. by a benchmark)
        self.catalog_rows = rows
        if self.view == CATALOG:
            self.rebuild_rows()

    def rows_for(self, pid: str) -> list[ModelRow]:
        provider = self.providers[pid]
        result = self.results.get(pid)
        live = list(result.models) if result is not None and result.models else None  # None: the cached list
        return provider_rows(provider, live, recent=self.recent)

    def rebuild_rows(self) -> None:
        """Recompute the rows of the current view (after a probe, a view or sort change)."""
        model_list = self.query_one(ModelList)
        if self.view == CATALOG:
            if self.catalog_rows is None:
                rows: list[ModelRow] = []
                model_list.empty_text = "loading the catalog…"
                if not any(w.group == "catalog" and not w.is_finished for w in self.workers):
                    self.load_catalog()
            else:
                rows = self.catalog_rows
        elif self.view == ALL:
            rows = [row for pid in self.providers for row in self.rows_for(pid)]
            model_list.empty_text = ("no providers yet: ctrl+n adds one" if not self.providers
                                     else "no models known yet — probing…")
        else:
            rows = self.rows_for(self.view)
            model_list.empty_text = no_models_text(self.results.get(self.view))
        model_list.show_provider = self.view in (ALL, CATALOG)
        if self.view != CATALOG:
            rows = for_role(rows, self.role)  # a gateway's embedding models only for the embedding role
        self.filter = Filter(sort_rows(rows, self.sort))
        self.apply_filter(keep=model_list.highlighted.ref if model_list.highlighted else None)

    def apply_filter(self, keep: str | None = None) -> None:
        started = time.perf_counter()
        query = self.query_one("#filter", GuardedInput).usable_value  # a key typed here filters nothing
        matches = self.filter.matches(query)
        model_list = self.query_one(ModelList)
        model_list.set_rows(matches, keep=keep)
        self.last_filter_ms = (time.perf_counter() - started) * 1000
        total = len(self.filter.rows)
        not_listed = sum(1 for r in matches[:5000] if r.listing == "not-listed")
        noun = "model" if total == 1 else "models"
        text = f" {len(matches):,} of {total:,} {noun}" if query else f" {total:,} {noun}"
        if not_listed:
            text += f" · ? {not_listed} not served"
        text += " · ● active ★ fav ↺ recent"
        self.query_one("#models-count", Static).update(Text(text, style="dim"))

    def known_refs(self) -> list[str]:
        """Every model the picker currently knows of (for the command palette)."""
        return [row.ref for pid in self.providers for row in self.rows_for(pid)]

    # -- probing
    @work(exclusive=True, group="probe", exit_on_error=False)
    async def probe_providers(self, pids: list[str]) -> None:
        """Probe providers; results update one row each as they arrive. A new sweep cancels this one."""
        self.probe_generation += 1
        generation = self.probe_generation
        worker = get_current_worker()
        providers = [self.providers[pid] for pid in pids if pid in self.providers]
        self.probing = {p.id for p in providers if p.base_url}
        for pid in pids:
            self._refresh_provider(pid)
        self._update_details()
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
                        return  # a newer sweep owns the screen now
                    self.results[result.provider] = result
                    self.probing.discard(result.provider)
                    self._refresh_provider(result.provider)
                    if self.view in (ALL, result.provider):
                        self.rebuild_rows()
                    self._update_details()
                    provider = self.providers.get(result.provider)
                    if provider is not None:  # after the screen shows it: the write is not on its way
                        await asyncio.to_thread(state.remember, result, provider.base_url)
                        # then the gateway's own metadata (it needs the fingerprint just remembered)
                        await asyncio.to_thread(self._gateway_metadata, provider)
                        if generation == self.probe_generation and self.view in (ALL, result.provider):
                            self.rebuild_rows()
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

    # -- events
    @on(Input.Changed, "#filter")
    def _filter_changed(self, event: Input.Changed) -> None:
        if event.value == "/":  # "/" focuses the filter; pressed in it, it starts no model id
            event.input.value = ""
            return
        self.query_one(ModelList).touched = False  # a new query starts at its best match
        self.apply_filter()

    @on(Input.Submitted, "#filter")
    def _filter_submitted(self) -> None:
        self.action_switch()

    @on(OptionList.OptionHighlighted, "#providers")
    def _provider_highlighted(self, event: OptionList.OptionHighlighted) -> None:
        if event.option.id and event.option.id != self.view:
            self.view = event.option.id
            self.query_one(ModelList).touched = False
            self.rebuild_rows()
            self._update_details()

    @on(OptionList.OptionSelected, "#providers")
    def _provider_selected(self) -> None:
        self.query_one("#filter", Input).focus()

    @on(ModelList.Highlighted)
    def _model_highlighted(self) -> None:
        self._update_details()

    @on(ModelList.Selected)
    def _model_selected(self, event: ModelList.Selected) -> None:
        if event.row is not None:
            self.request_switch(event.row)

    def on_key(self, event: events.Key) -> None:
        focused = self.focused
        bound = {key for binding in self.BINDINGS if isinstance(binding, Binding) for key in binding.key.split(",")}
        if (event.is_printable and event.character and not isinstance(focused, Input)
                and event.key not in bound and event.character not in bound):
            filter_input = self.query_one("#filter", Input)
            filter_input.focus()
            filter_input.insert_text_at_cursor(event.character)
            event.stop()

    def highlighted_provider_id(self) -> str | None:
        if self.view not in (ALL, CATALOG):
            return self.view
        row = self.query_one(ModelList).highlighted
        return row.provider if row is not None else None

    def highlighted_provider(self) -> ProviderConfig | None:
        pid = self.highlighted_provider_id()
        if pid is None:
            return None
        if pid in self.providers:
            return self.providers[pid]
        try:
            return self.config.provider(pid) if self.config else None
        except UnknownProvider:
            return None

    def _update_details(self) -> None:
        available = (self.check_action("apply_fix", ()), self.check_action("edit_provider", ()))
        if available != self._available:  # "Fix" shows only where the probe suggests one; the footer
            self._available = available  # recomposes on every refresh, so only when that changes
            self.refresh_bindings()
        details = self.query_one("#details", Static)
        provider = self.highlighted_provider()
        row = self.query_one(ModelList).highlighted
        if provider is None:
            details.update(Text("Pick a provider on the left; type to filter models; Enter makes one active.",
                                style="dim"))
            return
        text = Text()
        if row is not None:  # first: the full id of the highlighted model (the list may cut it)
            text.append_text(model_text(row, self.app.shown))
            text.append("\n")
        text.append_text(self._gateway_text(provider, row))
        text.append_text(diagnosis_text(provider, self.results.get(provider.id), self.key_problems.get(provider.id),
                                        self.app.shown, probing=provider.id in self.probing,
                                        key_origin=self.key_origins.get(provider.id)))
        details.update(text)

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

    # -- actions
    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "apply_fix":
            pid = self.highlighted_provider_id()
            result = self.results.get(pid) if pid else None
            return has_app_fix(result, self.key_origins.get(pid) if pid else None)
        if action in ("edit_provider", "add_provider", "toggle_favorite") and self.pick_mode:
            return False
        if action == "toggle_favorite":
            row = self.query_one(ModelList).highlighted
            return row is not None and row.provider in self.providers or None
        if action == "edit_provider":
            return self.highlighted_provider_id() is not None or None
        return not (action == "cycle_role" and self.pick_mode)

    def action_reprobe(self) -> None:
        self.probe_providers(list(self.providers))

    def action_cycle_role(self) -> None:
        self.role = ROLES[(ROLES.index(self.role) + 1) % len(ROLES)] if self.role in ROLES else "default"
        self._update_bar()
        for pid in self.providers:
            self._refresh_provider(pid)
        self.rebuild_rows()
        self.notify(f"Enter now sets the {self.role} model", title="role", timeout=2)

    def action_cycle_sort(self) -> None:
        self.sort = SORTS[(SORTS.index(self.sort) + 1) % len(SORTS)]
        self.query_one(ModelHeader).sort = self.sort
        self.query_one(ModelHeader).refresh()
        self._update_bar()
        self.rebuild_rows()

    def action_focus_filter(self) -> None:
        self.query_one("#filter", Input).focus()

    def action_escape(self) -> None:
        filter_input = self.query_one("#filter", Input)
        if filter_input.value:
            filter_input.value = ""
            filter_input.focus()
        elif self.pick_mode:
            self.app.exit(None)

    def action_cursor_up(self) -> None:
        self.query_one(ModelList).action_cursor_up()

    def action_cursor_down(self) -> None:
        self.query_one(ModelList).action_cursor_down()

    def action_page_up(self) -> None:
        self.query_one(ModelList).action_page_up()

    def action_page_down(self) -> None:
        self.query_one(ModelList).action_page_down()

    def action_switch(self) -> None:
        if self.focused is self.query_one("#providers", OptionList):  # Enter on a provider: to its models
            self.query_one(ModelList).focus()
            return
        row = self.query_one(ModelList).highlighted
        if row is None:
            self.notify("No model is highlighted — type to filter, or pick a provider", severity="warning")
            return
        self.request_switch(row)

    def request_switch_ref(self, ref: str) -> None:
        provider, _, model = ref.partition("/")
        self.request_switch(make_row(provider, model))

    def request_switch(self, row: ModelRow) -> None:
        """Switch to ``row``; a failing provider, a much dearer model or a spent budget asks first and says why."""
        from ...services.budget import Verdict, assess
        from .confirm import ConfirmScreen

        active = self.active.get(self.role)
        verdict = assess(self.config, row.ref, active.ref if active else None) if self.config else Verdict()
        result = self.results.get(row.provider)
        failing = result is not None and not result.usable
        if failing or verdict.ask:
            question = Text()
            if failing and result is not None:
                question.append(f"{row.provider} is failing:\n", style="bold")
                question.append(self.app.shown(headline(result).removeprefix(f"{result.provider}: ")) + "\n\n")
            for reason in verdict.ask:
                question.append(self.app.shown(reason) + "\n\n", style="bold" if not failing else "")
            question.append(f"Use {self.app.shown(row.ref)} anyway?")
            self.app.push_screen(ConfirmScreen(question, yes="Use anyway", no="Cancel"),
                                 lambda ok: self._do_switch(row) if ok else None)
            return
        self._do_switch(row, verdict.note)

    def _do_switch(self, row: ModelRow, note: str | None = None) -> None:
        if note:
            self.notify(self.app.shown(note), title="a paid model", markup=False, timeout=6)
        if self.pick_mode:
            self.app.exit(row.ref)
            return
        from .where import WhereScreen, involved, look

        looked = look(self.role)[0]
        if looked is not None and involved(looked):  # a project file or shell scope here: ask where to write
            self.app.push_screen(WhereScreen(row.ref, self.role, looked),
                                 lambda choice: self._write_to(choice, row.ref, looked))
            return
        self.switch_worker(row.ref, self.role)

    def _write_to(self, choice: str | None, ref: str, looked: Any) -> None:
        if choice == "user":
            self.switch_worker(ref, self.role)
        elif choice == "project":
            self.project_worker(ref, self.role, looked.overlay.directory if looked.overlay is not None else None)

    @work(thread=True, group="switch", exit_on_error=False)
    def project_worker(self, ref: str, role: str, directory: str | None) -> None:
        from ...base.errors import LlmswitchError
        from ...store.overlay import set_role

        try:
            path, _, normal = set_role(role, ref, directory)
        except LlmswitchError as exc:
            self.app.call_from_thread(self.notify, self.app.shown_lines(exc.sentence()), title="Cannot write",
                                      severity="error", markup=False, timeout=10)
            return
        self.app.call_from_thread(self.notify, self.app.shown(f"{normal}\n{path} (trusted)"),
                                  title=f"{role} model set for this project", markup=False)
        self.app.call_from_thread(self._update_bar)

    @work(thread=True, group="switch", exit_on_error=False)
    def switch_worker(self, ref: str, role: str) -> None:
        from ...services.switch import SwitchError, switch

        try:
            result = switch(ref, role, self.config)
        except SwitchError as exc:
            self.app.call_from_thread(self.notify, self.app.shown_lines(str(exc)), title="Cannot switch", severity="error",
                                      markup=False, timeout=10)
            return
        self.app.call_from_thread(self._switched, result)

    def _switched(self, result: SwitchResult) -> None:
        sel = result.selection
        shown = self.app.shown
        message = f"{shown(sel.provider)} / {shown(sel.model)}\n{shown(sel.base_url)}"
        if result.warnings:
            message += "\n" + "\n".join(shown(w) for w in result.warnings)
        self.notify(message, title=f"{sel.role} model switched", markup=False,
                    severity="warning" if result.warnings else "information")
        self.active[sel.role] = sel
        self.recent = state.recent()
        self._update_bar()
        for pid in self.providers:
            self._refresh_provider(pid)
        if sel.provider not in self.providers:
            self.reload()

    # -- favourites
    def action_toggle_favorite(self) -> None:
        row = self.query_one(ModelList).highlighted
        if row is None:
            return
        provider = self.providers.get(row.provider)
        if provider is None or not provider.configured:
            self.notify(f"{row.provider} is not in config.toml yet — F2 adds it, then ctrl+f marks favourites",
                        severity="warning", markup=False)
            return
        self.toggle_favorite(row.provider, row.model)

    @work(thread=True, group="favorite", exit_on_error=False)
    def toggle_favorite(self, pid: str, model: str) -> None:
        """Add or remove ``model`` in the provider's ``favorites``, keeping every other setting."""
        added = False

        def toggle(settings: dict[str, Any]) -> None:
            nonlocal added
            favorites = [m for m in settings.get("favorites", []) if m != model]
            added = len(favorites) == len(settings.get("favorites", []))
            if added:
                favorites.append(model)
            if favorites:
                settings["favorites"] = favorites
            else:
                settings.pop("favorites", None)

        config = self._change_settings(pid, toggle, "Favourite not saved")
        if config is not None:
            self.app.call_from_thread(self._favorite_toggled, config, pid, model, added)

    def _change_settings(self, pid: str, change: Callable[[dict[str, Any]], object], title: str) -> Config | None:
        """Write one provider's changed settings (from a thread); None after saying why it failed."""
        try:
            return change_settings(pid, change)
        except (ConfigError, OSError) as exc:
            self.app.call_from_thread(self.notify, self.app.shown_lines(str(exc)), title=title, severity="error",
                                      markup=False)
            return None

    def _favorite_toggled(self, config: Config, pid: str, model: str, added: bool) -> None:
        self.config = config
        if pid in config.providers:
            self.providers[pid] = config.providers[pid]
        model_list = self.query_one(ModelList)
        model_list.touched = True  # stay on the row just marked
        self.rebuild_rows()
        ref = self.app.shown(f"{pid}/{model}")
        self.notify(f"{ref} {'is now a favourite' if added else 'is no longer a favourite'}", title="Favourites",
                    markup=False, timeout=3)

    # -- provider editing
    def action_edit_provider(self) -> None:
        from .provider import ProviderScreen

        provider = self.highlighted_provider()
        if provider is None:
            return
        self.app.push_screen(ProviderScreen(fresh(provider), result=self.results.get(provider.id)), self._after_edit)

    def action_add_provider(self) -> None:
        from .provider import PresetChooser, ProviderScreen

        def chosen(provider: ProviderConfig | None) -> None:
            if provider is not None:
                self.app.push_screen(ProviderScreen(provider, new=True), self._after_edit)

        self.app.push_screen(PresetChooser(), chosen)

    def _after_edit(self, changed: bool | None) -> None:
        if changed:
            self.reload()

    def action_apply_fix(self) -> None:
        """A better base URL is written at once; a key fix opens the editor in its (masked) API key field."""
        from .provider import ProviderScreen

        provider = self.highlighted_provider()
        result = self.results.get(provider.id) if provider else None
        if provider is None or result is None:
            return
        if result.suggested_base_url:
            self.apply_base_url(provider, result.suggested_base_url)
        elif key_refused(result) and has_app_fix(result, self.key_origins.get(provider.id)):
            self.app.push_screen(ProviderScreen(fresh(provider), result=result, for_key=True), self._after_edit)

    @work(thread=True, group="fix", exit_on_error=False)
    def apply_base_url(self, provider: ProviderConfig, base_url: str) -> None:
        config = self._change_settings(provider.id, lambda settings: settings.update(base_url=base_url),
                                       "Fix not applied")
        if config is None:
            return

        def done() -> None:
            self.notify(f"{self.app.shown(provider.id)}: base_url is now {self.app.shown(base_url)}",
                        title="Fix applied", markup=False)
            self.reload(config)

        self.app.call_from_thread(done)
