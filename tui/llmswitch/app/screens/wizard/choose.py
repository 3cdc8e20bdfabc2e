"""Step 2 of the setup wizard: tick the providers to set up; add a preset by id, or a server by its URL or port."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.suggester import SuggestFromList
from textual.widget import Widget
from textual.widgets import Input, SelectionList, Static
from textual.widgets.selection_list import Selection

from ....base.redact import shown as shown_value
from ....services import onboarding
from ....store import catalog
from ...widgets.guarded import REFUSED_SENTENCE, GuardedInput

if TYPE_CHECKING:
    from ...app import LLMSwitchApp
    from .findings import Findings

CHOOSE_HINT = "Tick the providers to set up (space toggles). Add any other preset by id below."
NOTHING_FOUND = ("Nothing was detected. Type a preset id below and press Enter to add it — e.g. openrouter, groq, "
                 "openai, or a local server: ollama, vllm, lm_studio (→ completes a name) — or a server's URL or "
                 "port (8081, http://gpu-box:8000).")
ADD_PLACEHOLDER = "a preset id (openrouter, groq…) or a server's URL or port (8081); Enter adds"
URL_NEEDED = ("{pid} needs a URL: type the server's URL or port here instead (e.g. http://127.0.0.1:8000 or 8000); "
              "it is probed and named from what answers")


def _looks_like_url(text: str) -> bool:
    """A port, ``host:port`` or a URL (what the add field takes besides a preset id)."""
    return text.isdigit() or "://" in text or ":" in text or "/" in text or text.startswith("localhost")


class ChooseStep(Vertical):
    """The providers found (ticked) and those added by hand; :attr:`picked` is what is ticked."""

    app: LLMSwitchApp

    def __init__(self, findings: Findings, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.findings = findings

    def compose(self) -> ComposeResult:
        yield Static(CHOOSE_HINT, markup=False, classes="hint", id="choose-hint")
        yield SelectionList[str](id="choose-list")
        yield GuardedInput(placeholder=ADD_PLACEHOLDER, id="choose-add", compact=True,
                           suggester=SuggestFromList(catalog.preset_ids(), case_sensitive=False))

    @property
    def picked(self) -> list[str]:
        return list(self.query_one("#choose-list", SelectionList).selected)

    def first_field(self) -> Widget:
        """The list when it has choices, else the field that adds one."""
        has_options = self.query_one("#choose-list", SelectionList).option_count > 0
        return self.query_one("#choose-list" if has_options else "#choose-add")

    def fill(self) -> None:
        found = self.findings
        selections = self.query_one("#choose-list", SelectionList)
        previous = set(selections.selected)
        first = selections.option_count == 0
        selections.clear_options()
        presets = catalog.presets()
        local = [pid for pid in onboarding.LOCAL_IDS if pid in found.local_found]
        ids = list(dict.fromkeys([*sorted(found.env_found), *local, *sorted(found.imported), *found.extra]))
        for pid in ids:
            if pid in found.custom:
                server = found.custom[pid]
                name = server.name
                why = f"at {self.app.shown(server.base_url)}" + (", wants a key" if server.wants_key else "")
            elif (other := found.imported_for(pid)) is not None:
                name = presets[pid].name if pid in presets else pid
                why = f"from {other.source} ({self.app.shown(str(other.file))})"
            else:
                name = presets[pid].name
                why = (f"key in ${found.env_found[pid]}" if pid in found.env_found else
                       "server answering" if pid in found.local_found else "added by you")
            selections.add_option(Selection(Text(f"{name} ({pid}) — {why}"), pid,
                                            initial_state=first or pid in previous or pid in found.extra))
        selections.display = bool(ids)
        self.query_one("#choose-hint", Static).update(CHOOSE_HINT if ids else Text(NOTHING_FOUND, style="bold"))

    @on(Input.Submitted, "#choose-add")
    def _add_preset(self, event: Input.Submitted) -> None:
        if self.query_one("#choose-add", GuardedInput).holds_key:
            self.notify(REFUSED_SENTENCE, title="Not a key field", severity="warning", markup=False)
            event.input.value = ""  # refused: not kept in the form either
            return
        name = event.value.strip().lower()
        preset = catalog.preset(name)
        if preset is None and _looks_like_url(name):
            event.input.value = ""
            self.add_url(event.value.strip())
            return
        if preset is None:
            import difflib

            close = difflib.get_close_matches(name, catalog.preset_ids(), n=3, cutoff=0.6)
            hint = f" — did you mean {', '.join(close)}?" if close else ""
            self.notify(f"no preset called {shown_value(name)}{hint}", severity="warning", markup=False)
            return
        if preset.base_url is None and not preset.resolved_base_url():
            self.notify(URL_NEEDED.format(pid=preset.id), severity="warning", markup=False, timeout=8)
            return
        if preset.id not in self.findings.extra:
            self.findings.extra.append(preset.id)
        self.fill()
        event.input.value = ""

    @work(group="wizard-url", exit_on_error=False)
    async def add_url(self, text: str) -> None:
        """Probe a server named by its URL or port; add it under the name of what answered."""
        from ....base.errors import LlmswitchError
        from ....base.outcome import FOUND
        from ....services.addurl import examine
        from ....store.config import ConfigError, load

        try:
            taken = set(load().providers)
        except ConfigError:
            taken = set()
        self.notify(f"probing {self.app.shown(text)}…", timeout=2, markup=False)
        try:
            found = await examine(text, taken | self.findings.taken())
        except LlmswitchError as exc:
            self.notify(self.app.shown(exc.sentence()), severity="warning", markup=False)
            return
        if found.result.outcome not in FOUND:
            self.notify(self.app.shown(f"{found.given}: {found.result.summary}"), title="Not added",
                        severity="warning", markup=False, timeout=8)
            return
        self.findings.custom[found.pid] = found
        self.findings.extra.append(found.pid)
        self.fill()
        fixed = f" (base URL {self.app.shown(found.base_url)})" if found.fixed else ""
        self.notify(f"added {found.name} as {found.pid}{fixed}", markup=False)
