"""Step 5 of the setup wizard: the default model (and, optionally, the small one) from what the providers serve."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Input, Static

from ....services.models import Filter, merge, sort_rows
from ....store import catalog
from ...widgets.guarded import GuardedInput
from ...widgets.model_list import ModelHeader, ModelList

if TYPE_CHECKING:
    from ....base.outcome import ProbeResult
    from ....services import onboarding
    from ...app import LLMSwitchApp


class ModelStep(Vertical):
    """Models of the chosen providers, working ones first; Enter sets the model of :attr:`role`."""

    app: LLMSwitchApp

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.role = "default"
        self.refs: dict[str, str] = {}
        """The model chosen per role (``provider/model``)."""
        self.model_filter = Filter([])

    def compose(self) -> ComposeResult:
        yield Static(id="model-roles", markup=False, classes="hint")
        yield GuardedInput(placeholder="type to filter models…", id="model-filter", compact=True,
                           allow=lambda query: bool(self.model_filter.matches(query)))  # a model id is no key
        yield ModelHeader()
        yield ModelList(id="model-list")

    def fill(self, choices: list[onboarding.Choice], results: dict[str, ProbeResult]) -> None:
        rows = []
        for choice in choices:
            result = results.get(choice.pid)
            live = list(result.models) if result is not None and result.models else None
            preset = catalog.preset(choice.pid)
            lookup = (lambda m, pid=choice.pid: catalog.model_info(pid, m)) if preset and preset.local else None
            made = merge(choice.pid, live, catalog.catalog_models(choice.pid), lookup=lookup)
            rows.extend(made)
        usable = {pid for pid, result in results.items() if result.usable}
        usable_first = sorted(sort_rows(rows), key=lambda r: r.provider not in usable)
        self.model_filter = Filter(usable_first)
        self._apply_model_filter()
        self._show_roles()

    @property
    def model_list(self) -> ModelList:
        return self.query_one("#model-list", ModelList)

    @on(Input.Changed, "#model-filter")
    def _apply_model_filter(self) -> None:
        query = self.query_one("#model-filter", GuardedInput).usable_value  # a key typed here filters nothing
        self.model_list.set_rows(self.model_filter.matches(query))

    def _show_roles(self) -> None:
        text = Text()
        text.append("Enter sets the ", style="dim")
        text.append(self.role, style="bold")
        text.append(" model (ctrl+t: default/small).  ", style="dim")
        text.append("default: ", style="dim")
        text.append(self.app.shown(self.refs.get("default", "—")), style="bold")
        text.append("   small (optional): ", style="dim")
        text.append(self.app.shown(self.refs.get("small", "—")), style="bold")
        self.query_one("#model-roles", Static).update(text)

    def toggle_role(self) -> None:
        self.role = "small" if self.role == "default" else "default"
        self._show_roles()

    def choose_highlighted(self) -> bool:
        """Finish without a default chosen: the highlighted model is it; False when there is none."""
        if self.refs.get("default"):
            return True
        row = self.model_list.highlighted
        if row is None:
            return False
        self.refs["default"] = row.ref
        return True

    @on(Input.Submitted, "#model-filter")
    def _model_submitted(self) -> None:
        self.model_list.action_select()

    @on(ModelList.Selected, "#model-list")
    def _model_chosen(self, event: ModelList.Selected) -> None:
        if event.row is not None:
            self.refs[self.role] = event.row.ref
            self._show_roles()
