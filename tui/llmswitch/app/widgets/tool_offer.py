"""The offer to connect the tools installed here to a new selection, each only when ticked (the wizard's Done step).

What is installed and what would be refused come from :func:`llmswitch.tools.connect.roster.survey` (the
facts ``connect --list`` shows: PATH, then the documented refusal, no request sent); connecting goes through
:func:`~llmswitch.tools.connect.roster.connect_all` for the ticked names, one at a time in a thread, so each
tool is probed and verified as ``llmswitch connect TOOL`` would be and its row updates when it finishes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Button, SelectionList, Static
from textual.widgets.selection_list import Selection

if TYPE_CHECKING:
    from ...tools.connect.roster import Entry, Outcome
    from ..app import LLMSwitchApp


class ToolOffer(Vertical):
    """The installed tools that can follow the selection (unticked), the ones that cannot (dimmed, with why)."""

    DEFAULT_CSS = """
    ToolOffer { height: auto; margin-top: 1; }
    ToolOffer #tool-list { height: auto; max-height: 8; }
    ToolOffer #connect-tools { margin: 0 0 0 2; }
    ToolOffer #connect-results, ToolOffer #tool-refusals { height: auto; }
    """

    app: LLMSwitchApp

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.entries: list[Entry] = []
        """The tools found on PATH, in name order (empty: nothing is shown)."""
        self.results: dict[str, Text] = {}
        """Per ticked tool: connecting…, connected (verified), or the sentence it was refused with."""
        self.connecting = False
        self.display = False

    def compose(self) -> ComposeResult:
        yield Static(Text("Connect the tools installed here", style="bold"))
        yield Static("Ticked ones (space) are written to follow this selection and checked with a live request; "
                     "nothing else is touched.", classes="hint")
        yield SelectionList[str](id="tool-list", compact=True)
        yield Static(id="tool-refusals", markup=False)
        yield Button("Connect checked (ctrl+o)", id="connect-tools", compact=True)
        yield Static(id="connect-results", markup=False)

    @property
    def usable(self) -> bool:
        """Some installed tool can follow the selection (the connect key is offered)."""
        return any(not entry.refusal for entry in self.entries)

    @property
    def checked(self) -> list[str]:
        return list(self.query_one("#tool-list", SelectionList).selected)

    @work(thread=True, exclusive=True, group="wizard-tools", exit_on_error=False)
    def survey(self) -> None:
        """Which tools are on PATH and which would be refused (files only: the config, the registry)."""
        from ...tools.connect.roster import survey

        entries = [entry for entry in survey() if entry.installed]
        self.app.call_from_thread(self._fill, entries)

    def _fill(self, entries: list[Entry]) -> None:
        self.entries = entries
        self.display = bool(entries)
        tool_list = self.query_one("#tool-list", SelectionList)
        tool_list.clear_options()
        shown = self.app.shown
        for entry in entries:
            if entry.refusal:  # the reason whole, below the list: it names the provider that would work
                prompt = Text.assemble(entry.name, "  cannot follow this selection (why: below)", style="dim")
            else:
                prompt = Text.assemble((entry.name, "bold"), "  ", (shown(str(entry.installed)), "dim"))
            tool_list.add_option(Selection(prompt, entry.name, False, entry.name, disabled=bool(entry.refusal)))
        reasons = Text(style="dim")
        for entry in entries:
            if entry.refusal:
                reasons.append(f"  {shown(entry.refusal)}\n")
        self.query_one("#tool-refusals", Static).update(reasons)
        self.query_one("#connect-tools", Button).display = self.usable
        if self.usable:
            tool_list.focus()
        self.screen.refresh_bindings()

    def connect(self) -> None:
        """Connect the ticked tools (nothing is written to a tool's files without its tick)."""
        names = self.checked
        if self.connecting:
            return
        if not names:
            self.notify("Tick the tools to connect first (space), or close: nothing is written", severity="warning")
            return
        self.connecting = True
        self.query_one("#connect-tools", Button).disabled = True
        for name in names:
            self.results[name] = Text("connecting and verifying…", style="dim")
        self._show_results()
        self._connect(names)

    @work(thread=True, exclusive=True, group="wizard-tools", exit_on_error=False)
    def _connect(self, names: list[str]) -> None:
        from ...base.errors import LlmswitchError
        from ...tools.connect.roster import Outcome, connect_all

        try:
            for name in names:  # one at a time: each row changes when its own probe has answered
                try:
                    outcome = connect_all(only=[name])[0]
                except LlmswitchError as exc:  # gone from PATH since the list was made
                    outcome = Outcome(name, refusal=exc)
                except OSError as exc:  # a tool's folder we may not write
                    outcome = Outcome(name, refusal=LlmswitchError(
                        f"{name}: cannot write {exc.filename or 'its files'} ({exc.strerror or exc})",
                        f"fix that, then run: llmswitch connect {name}"))
                self.app.call_from_thread(self._connected, outcome)
        finally:
            self.app.call_from_thread(self._finished)

    def _connected(self, outcome: Outcome) -> None:
        from ...tools.connect import tool

        report, shown = outcome.report, self.app.shown
        if report is not None:
            verified = bool(report.verdicts) and all(verdict.ok for verdict in report.verdicts)
            text = Text("connected (verified)" if verified else "connected", style="green")
            for path in report.files.values():
                text.append(f"\n    wrote {shown(str(path))}", style="dim")
            if report.launch and report.launch != tool(outcome.name).command:  # started through llmswitch exec
                text.append(f"\n    run it as: {report.launch}", style="dim")
        else:
            text = Text(shown(outcome.refusal.sentence()) if outcome.refusal else "not connected", style="red")
        self.results[outcome.name] = text
        self._show_results()

    def _finished(self) -> None:
        self.connecting = False
        self.query_one("#connect-tools", Button).disabled = False

    def _show_results(self) -> None:
        lines = Text()
        for name, result in self.results.items():
            lines.append(f"  {name}  ", style="bold")
            lines.append_text(result)
            lines.append("\n")
        self.query_one("#connect-results", Static).update(lines)

    @on(Button.Pressed, "#connect-tools")
    def _connect_pressed(self) -> None:
        self.connect()
