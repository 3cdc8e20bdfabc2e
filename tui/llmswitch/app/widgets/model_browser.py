"""The picker's model pane: the filter, the column titles, the (virtualised) model list and its count.

It owns the rows it is given, their sort and the filter over them, and the whole catalog's rows
(built off the event loop the first time that view is shown). Enter in the filter and a chosen
row reach the screen as the messages the input and :class:`ModelList` post themselves.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import TYPE_CHECKING

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import Input, Static

from ...services.models import SORTS, Filter, ModelRow, make_row, sort_rows
from ...store import catalog, state
from .guarded import GuardedInput
from .model_list import ModelHeader, ModelList

if TYPE_CHECKING:
    from ..app import LLMSwitchApp


class ModelBrowser(Vertical):
    """Rows of models to choose from, filtered as the person types and sorted by name, context or price."""

    app: LLMSwitchApp
    BINDINGS = [  # the filter has the focus most of the time: the arrows still move through the models
        Binding("up", "cursor('cursor_up')", "Up", show=False),
        Binding("down", "cursor('cursor_down')", "Down", show=False),
        Binding("pageup", "cursor('page_up')", "Page up", show=False),
        Binding("pagedown", "cursor('page_down')", "Page down", show=False),
    ]

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.rows: Sequence[ModelRow] = ()
        """The rows shown before sorting and filtering."""
        self.sort = "name"
        self.filter = Filter([])
        self.catalog_rows: list[ModelRow] | None = None
        """Every preset's models, built when the catalog view is first shown (None until then)."""
        self.showing_catalog = False
        self.last_filter_ms = 0.0

    def compose(self) -> ComposeResult:
        yield GuardedInput(placeholder="type to filter models…", id="filter", compact=True,
                           allow=lambda query: bool(self.filter.matches(query)))  # a model id is no key
        yield ModelHeader(id="model-header")
        yield ModelList(id="models")
        yield Static(id="models-count", markup=False)

    @property
    def model_list(self) -> ModelList:
        return self.query_one(ModelList)

    @property
    def highlighted(self) -> ModelRow | None:
        return self.model_list.highlighted

    # -- rows
    def show(self, rows: Sequence[ModelRow], *, empty_text: str, show_provider: bool) -> None:
        """Show ``rows`` (sorted, filtered by the current query); the cursor stays on its model when moved by hand."""
        self.showing_catalog = False
        model_list = self.model_list
        model_list.empty_text = empty_text
        model_list.show_provider = show_provider
        self._show(rows)

    def show_catalog(self) -> None:
        """Show the whole catalog: at once when its rows are built, else "loading" until they are."""
        self.showing_catalog = True
        model_list = self.model_list
        model_list.show_provider = True
        if self.catalog_rows is None:
            model_list.empty_text = "loading the catalog…"
            if not any(w.group == "catalog" and not w.is_finished for w in self.workers):
                self.load_catalog()
            self._show([])
        else:
            self._show(self.catalog_rows)

    def _show(self, rows: Sequence[ModelRow]) -> None:
        self.rows = rows
        self.filter = Filter(sort_rows(rows, self.sort))
        highlighted = self.model_list.highlighted
        self.apply_filter(keep=highlighted.ref if highlighted else None)

    def cycle_sort(self) -> str:
        """Sort by the next of name, context and price; returns the new sort."""
        self.sort = SORTS[(SORTS.index(self.sort) + 1) % len(SORTS)]
        header = self.query_one(ModelHeader)
        header.sort = self.sort
        header.refresh()
        self._show(self.rows)
        return self.sort

    def apply_filter(self, keep: str | None = None) -> None:
        started = time.perf_counter()
        query = self.query_one("#filter", GuardedInput).usable_value  # a key typed here filters nothing
        matches = self.filter.matches(query)
        self.model_list.set_rows(matches, keep=keep)
        self.last_filter_ms = (time.perf_counter() - started) * 1000
        total = len(self.filter.rows)
        not_listed = sum(1 for r in matches[:5000] if r.listing == "not-listed")
        noun = "model" if total == 1 else "models"
        text = f" {len(matches):,} of {total:,} {noun}" if query else f" {total:,} {noun}"
        if not_listed:
            text += f" · ? {not_listed} not served"
        text += " · ● active ★ fav ↺ recent"
        self.query_one("#models-count", Static).update(Text(text, style="dim"))

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
        if self.showing_catalog:
            self._show(rows)

    def action_cursor(self, move: str) -> None:
        getattr(self.model_list, f"action_{move}")()

    # -- typing
    @on(Input.Changed, "#filter")
    def _filter_changed(self, event: Input.Changed) -> None:
        if event.value == "/":  # "/" focuses the filter; pressed in it, it starts no model id
            event.input.value = ""
            return
        self.model_list.touched = False  # a new query starts at its best match
        self.apply_filter()

    def clear_filter(self) -> bool:
        """Empty the filter (and focus it); False when it was empty already."""
        filter_input = self.query_one("#filter", Input)
        if not filter_input.value:
            return False
        filter_input.value = ""
        filter_input.focus()
        return True
