"""The main screen: providers with live status, their models, the probe's diagnosis.

The screen is made of widgets that own their state: :class:`ProviderList` (the providers and their
probing), :class:`ModelBrowser` (the models of the view, filtered and sorted), :class:`DetailsPanel`
and :class:`PickerBar`. They report by messages; the screen decides what follows (which rows the
model pane shows, what the details say) and runs the switch flow (:mod:`.switch_flow`).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from textual import events, on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import Input

from ...services.models import ModelRow, make_row
from ...store import selection, state
from ...store.config import Config, ConfigError, ProviderConfig, UnknownProvider, load
from ..status import has_app_fix
from ..widgets.details import DetailsPanel
from ..widgets.footer import Footer
from ..widgets.model_browser import ModelBrowser
from ..widgets.model_list import ModelList
from ..widgets.picker_bar import PickerBar
from ..widgets.provider_list import ALL, CATALOG, ProviderList
from .provider_edits import FavoriteToggled, ProviderEdits, ProvidersChanged
from .switch_flow import ProjectWritten, Request, Switched, SwitchFlow

if TYPE_CHECKING:
    from ...base.outcome import ProbeResult
    from ..app import LLMSwitchApp

__all__ = ["ALL", "CATALOG", "PickerScreen"]

ROLES = ("default", "small", "embedding")
PROBE_AFTER_PAINT = 0.05
"""Seconds between a refresh and the sweep that follows a (re)load."""


def _with_selected(config: Config, active: Iterable[selection.ActiveSelection]) -> dict[str, ProviderConfig]:
    """The configured providers, and any preset a selection names (it is shown, and probed, too)."""
    providers = dict(config.providers)
    for sel in active:
        if sel.provider not in providers:
            try:
                providers[sel.provider] = config.provider(sel.provider)
            except UnknownProvider:
                pass
    return providers


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
    ]

    def __init__(self, config: Config | None = None, pick_role: str | None = None) -> None:
        super().__init__()
        self.config = config
        self.pick_mode = pick_role is not None
        self.role = pick_role or "default"
        self.active: dict[str, selection.ActiveSelection] = {}
        self.flow = SwitchFlow(self)
        self.edits = ProviderEdits(self)
        self._available: tuple[bool | None, bool | None] = (False, True)  # (fix, edit) as the footer shows them before any result

    # -- layout
    def compose(self) -> ComposeResult:
        yield PickerBar(id="picker-bar")
        with Horizontal(id="picker-main"):
            with Vertical(id="providers-pane"):
                yield ProviderList(id="providers")
            yield ModelBrowser(id="models-pane")
        yield DetailsPanel(id="details")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#providers-pane").border_title = "Providers"
        self.query_one("#models-pane").border_title = "Models"
        self.query_one("#details").border_title = "Diagnosis"
        self.reload(config=self.config)

    # -- what the widgets own, for the palette and the tests
    @property
    def provider_list(self) -> ProviderList:
        return self.query_one(ProviderList)

    @property
    def browser(self) -> ModelBrowser:
        return self.query_one(ModelBrowser)

    @property
    def providers(self) -> dict[str, ProviderConfig]:
        return self.provider_list.providers

    @property
    def results(self) -> dict[str, ProbeResult]:
        return self.provider_list.results

    @property
    def view(self) -> str:
        return self.provider_list.view

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
        active = self.active.get(self.role)
        self.provider_list.active_provider = active.provider if active else None
        self.provider_list.show(_with_selected(config, self.active.values()), recent=state.recent())
        self._update_bar()
        self.rebuild_rows()
        # the frame is out before any probing work: the probe's thread (keyring calls, importing the transport,
        # loading CA certificates) holds the GIL for ~150 ms, which would stall the loop's first ticks
        self.call_after_refresh(self.set_timer, PROBE_AFTER_PAINT, self.action_reprobe)

    def _update_bar(self) -> None:
        active = self.active.get(self.role)
        model_list = self.query_one(ModelList)
        model_list.active_ref = active.ref if active else None
        model_list.refresh()
        from .where import bar_text, look

        resolved = look(self.role)[1]  # the scope in force here: shell, project or user (issue 13)
        self.query_one(PickerBar).show(self.role, resolved.selection if resolved is not None else active,
                                       bar_text(resolved), pick_mode=self.pick_mode, sort=self.browser.sort)

    def on_resize(self) -> None:
        self._update_bar()

    def rows_for(self, pid: str) -> list[ModelRow]:
        return self.provider_list.rows_for(pid)

    def rebuild_rows(self) -> None:
        """Recompute the rows of the current view (after a probe, a view or role change)."""
        shown = self.provider_list.view_rows(self.role)
        if shown is None:
            self.browser.show_catalog()
        else:
            self.browser.show(shown[0], empty_text=shown[1], show_provider=self.view == ALL)

    def known_refs(self) -> list[str]:
        """Every model the picker currently knows of (for the command palette)."""
        return [row.ref for pid in self.providers for row in self.rows_for(pid)]

    # -- what the widgets say
    @on(ProviderList.ViewChanged)
    def _view_changed(self) -> None:
        self.query_one(ModelList).touched = False
        self.rebuild_rows()
        self._update_details()

    @on(ProviderList.SweepStarted)
    def _sweep_started(self) -> None:
        self._update_details()

    @on(ProviderList.Probed)
    def _probed(self, event: ProviderList.Probed) -> None:
        if self.view in (ALL, event.provider):
            self.rebuild_rows()
        self._update_details()

    @on(ProviderList.Described)
    def _described(self, event: ProviderList.Described) -> None:
        if self.view in (ALL, event.provider):
            self.rebuild_rows()

    @on(Input.Submitted, "#filter")
    def _filter_submitted(self) -> None:
        self.action_switch()

    @on(ProviderList.OptionSelected, "#providers")
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
        return self.provider_list.provider_id_for(self.query_one(ModelList).highlighted)

    def highlighted_provider(self) -> ProviderConfig | None:
        return self.provider_list.provider_for(self.query_one(ModelList).highlighted, self.config)

    def _update_details(self) -> None:
        available = (self.check_action("apply_fix", ()), self.check_action("edit_provider", ()))
        if available != self._available:  # "Fix" shows only where the probe suggests one; the footer
            self._available = available  # recomposes on every refresh, so only when that changes
            self.refresh_bindings()
        provider, providers = self.highlighted_provider(), self.provider_list
        pid = provider.id if provider else ""
        self.query_one(DetailsPanel).show(provider, self.query_one(ModelList).highlighted, providers.results.get(pid),
                                          key_problem=providers.key_problems.get(pid),
                                          key_origin=providers.key_origins.get(pid), probing=pid in providers.probing)

    # -- actions
    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "apply_fix":
            pid = self.highlighted_provider_id()
            result = self.results.get(pid) if pid else None
            return has_app_fix(result, self.provider_list.key_origins.get(pid) if pid else None)
        if action in ("edit_provider", "add_provider", "toggle_favorite") and self.pick_mode:
            return False
        if action == "toggle_favorite":
            row = self.query_one(ModelList).highlighted
            return row is not None and row.provider in self.providers or None
        if action == "edit_provider":
            return self.highlighted_provider_id() is not None or None
        return not (action == "cycle_role" and self.pick_mode)

    def action_reprobe(self) -> None:
        self.provider_list.probe(list(self.providers))

    def action_cycle_role(self) -> None:
        self.role = ROLES[(ROLES.index(self.role) + 1) % len(ROLES)] if self.role in ROLES else "default"
        self._update_bar()
        active = self.active.get(self.role)
        self.provider_list.mark_active(active.provider if active else None)
        self.rebuild_rows()
        self.notify(f"Enter now sets the {self.role} model", title="role", timeout=2)

    def action_cycle_sort(self) -> None:
        self.browser.cycle_sort()
        self._update_bar()

    def action_focus_filter(self) -> None:
        self.query_one("#filter", Input).focus()

    def action_escape(self) -> None:
        if not self.browser.clear_filter() and self.pick_mode:
            self.app.exit(None)

    # -- switching (the flow asks and writes; the screen shows the outcome)
    def action_switch(self) -> None:
        if self.focused is self.provider_list:  # Enter on a provider: to its models
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
        self.flow.request(Request(row, self.role, self.config, self.active.get(self.role),
                                  self.results.get(row.provider), self.pick_mode))

    @on(Switched)
    def _switched(self, event: Switched) -> None:
        sel = event.result.selection
        self.active[sel.role] = sel
        self.provider_list.recent = state.recent()
        self._update_bar()
        active = self.active.get(self.role)
        self.provider_list.mark_active(active.provider if active else None)
        if sel.provider not in self.providers:
            self.reload()

    @on(ProjectWritten)
    def _project_written(self) -> None:
        self._update_bar()

    # -- changes to providers (written by the edits; the screen redraws from what they say)
    def action_toggle_favorite(self) -> None:
        row = self.query_one(ModelList).highlighted
        if row is not None:
            self.edits.toggle_favorite(row, self.providers.get(row.provider))

    @on(FavoriteToggled)
    def _favorite_toggled(self, event: FavoriteToggled) -> None:
        config, pid = event.config, event.provider
        self.config = config
        if pid in config.providers:
            self.providers[pid] = config.providers[pid]
        self.query_one(ModelList).touched = True  # stay on the row just marked
        self.rebuild_rows()
        ref = self.app.shown(f"{pid}/{event.model}")
        self.notify(f"{ref} {'is now a favourite' if event.added else 'is no longer a favourite'}",
                    title="Favourites", markup=False, timeout=3)

    def action_apply_fix(self) -> None:
        provider = self.highlighted_provider()
        result = self.results.get(provider.id) if provider else None
        if provider is not None and result is not None:
            self.edits.apply_fix(provider, result, self.provider_list.key_origins.get(provider.id))

    def action_edit_provider(self) -> None:
        provider = self.highlighted_provider()
        if provider is not None:
            self.edits.edit(provider, self.results.get(provider.id))

    def action_add_provider(self) -> None:
        self.edits.add()

    @on(ProvidersChanged)
    def _providers_changed(self, event: ProvidersChanged) -> None:
        self.reload(event.config)
