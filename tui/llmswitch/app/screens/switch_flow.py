"""Making a model active from the picker: ask first when it should, ask where when a project file is here, write.

The picker hands a row and what it knows (role, config, the active selection, the provider's last
probe); the flow asks its questions in modal screens, writes in a thread (``services.switch`` for
active.toml, ``store.overlay`` for a project file) and tells the screen by a message what changed.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual.message import Message

from ..status import headline

if TYPE_CHECKING:
    from textual.screen import Screen

    from ...base.outcome import ProbeResult
    from ...services.models import ModelRow
    from ...services.switch import SwitchResult
    from ...store.config import Config
    from ...store.selection import ActiveSelection
    from ..app import LLMSwitchApp


class Switched(Message):
    """active.toml now names ``result.selection`` for its role."""

    def __init__(self, result: SwitchResult) -> None:
        super().__init__()
        self.result = result


class ProjectWritten(Message):
    """A project file (.llmswitch.toml) now sets a role's model here."""


@dataclass(frozen=True)
class Request:
    """A switch the picker asks for, with what it knew when asked."""

    row: ModelRow
    role: str
    config: Config | None
    active: ActiveSelection | None
    result: ProbeResult | None
    """The provider's last probe (a failing provider asks first)."""
    pick_mode: bool
    """Pick mode: the app exits with the ref; nothing is written."""


class SwitchFlow:
    """The questions and writes of one switch at a time, run on ``screen`` (its workers, its modals, its messages)."""

    def __init__(self, screen: Screen[Any]) -> None:
        self.screen = screen

    @property
    def app(self) -> LLMSwitchApp:
        return self.screen.app  # type: ignore[return-value]

    def request(self, ask: Request) -> None:
        """Switch to ``ask.row``; a failing provider, a much dearer model or a spent budget asks first and says why."""
        from ...services.budget import Verdict, assess
        from .confirm import ConfirmScreen

        row, shown = ask.row, self.app.shown
        verdict = assess(ask.config, row.ref, ask.active.ref if ask.active else None) if ask.config else Verdict()
        result = ask.result
        failing = result is not None and not result.usable
        if failing or verdict.ask:
            question = Text()
            if failing and result is not None:
                question.append(f"{row.provider} is failing:\n", style="bold")
                question.append(shown(headline(result).removeprefix(f"{result.provider}: ")) + "\n\n")
            for reason in verdict.ask:
                question.append(shown(reason) + "\n\n", style="bold" if not failing else "")
            question.append(f"Use {shown(row.ref)} anyway?")
            self.app.push_screen(ConfirmScreen(question, yes="Use anyway", no="Cancel"),
                                 lambda ok: self._go(ask) if ok else None)
            return
        self._go(ask, verdict.note)

    def _go(self, ask: Request, note: str | None = None) -> None:
        if note:
            self.screen.notify(self.app.shown(note), title="a paid model", markup=False, timeout=6)
        if ask.pick_mode:
            self.app.exit(ask.row.ref)
            return
        from .where import WhereScreen, involved, look

        looked = look(ask.role)[0]
        if looked is not None and involved(looked):  # a project file or shell scope here: ask where to write
            self.app.push_screen(WhereScreen(ask.row.ref, ask.role, looked),
                                 lambda choice: self._write_to(choice, ask, looked))
            return
        self._in_thread(self._switch, ask.row.ref, ask.role, ask.config)

    def _write_to(self, choice: str | None, ask: Request, looked: Any) -> None:
        if choice == "user":
            self._in_thread(self._switch, ask.row.ref, ask.role, ask.config)
        elif choice == "project":
            directory = looked.overlay.directory if looked.overlay is not None else None
            self._in_thread(self._write_project, ask.row.ref, ask.role, directory)

    def _in_thread(self, job: Any, *args: Any) -> None:
        self.screen.run_worker(partial(job, *args), thread=True, group="switch", exit_on_error=False)

    def _say(self, message: str, title: str, **options: Any) -> None:
        """Notify from the worker's thread."""
        self.app.call_from_thread(self.screen.notify, message, title=title, markup=False, **options)

    def _write_project(self, ref: str, role: str, directory: str | None) -> None:
        from ...base.errors import LlmswitchError
        from ...store.overlay import set_role

        try:
            path, _, normal = set_role(role, ref, directory)
        except LlmswitchError as exc:
            self._say(self.app.shown_lines(exc.sentence()), "Cannot write", severity="error", timeout=10)
            return
        self._say(self.app.shown(f"{normal}\n{path} (trusted)"), f"{role} model set for this project")
        self.app.call_from_thread(self.screen.post_message, ProjectWritten())

    def _switch(self, ref: str, role: str, config: Config | None) -> None:
        from ...services.switch import SwitchError, switch

        try:
            result = switch(ref, role, config)
        except SwitchError as exc:
            self._say(self.app.shown_lines(str(exc)), "Cannot switch", severity="error", timeout=10)
            return
        self.app.call_from_thread(self._switched, result)

    def _switched(self, result: SwitchResult) -> None:
        sel, shown = result.selection, self.app.shown
        message = f"{shown(sel.provider)} / {shown(sel.model)}\n{shown(sel.base_url)}"
        if result.warnings:
            message += "\n" + "\n".join(shown(w) for w in result.warnings)
        self.screen.notify(message, title=f"{sel.role} model switched", markup=False,
                           severity="warning" if result.warnings else "information")
        self.screen.post_message(Switched(result))
