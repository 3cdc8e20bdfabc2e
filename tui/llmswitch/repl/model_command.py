"""What ``/model`` and ``/models`` do: find, check, switch for the session, save to active.toml or a project file."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import TYPE_CHECKING

from ..base import errors as _errors
from ..services import switch as _switch
from ..store import state
from ..store.config import ConfigError, load, plain_http_warning
from ..store.selection import DEFAULT_ROLE, SelectionError
from . import gate, queries
from .parse import COMMANDS, USAGE, Command, CommandError, parse
from .reply import Reply

if TYPE_CHECKING:  # pragma: no cover
    from ..store.config import Config
    from .switcher import ModelSwitcher

__all__ = ["ModelCommands", "Refused"]


class ModelCommands:
    """The ``/model`` commands of one :class:`ModelSwitcher` (its session, index, settings and last list)."""

    def __init__(self, switcher: ModelSwitcher) -> None:
        self.switcher = switcher
        self.session = switcher.session

    def handle(self, line: str) -> Reply | None:
        """Run a ``/model``/``/models`` line; ``None`` for any other line."""
        try:
            command = parse(line, [c for c in self.switcher.commands if c in COMMANDS])
        except CommandError as exc:
            return Reply(exc.sentence(), ok=False, error=exc)
        if command is None:
            return None
        try:
            if command.name == "/models":
                return self._list(command)
            return self._model(command)
        except Refused as exc:
            return exc.reply

    def config(self) -> Config:
        """config.toml, loaded; a file with problems is refused with its one sentence."""
        try:
            return load()
        except ConfigError as exc:
            error = _config_error(exc)
            raise Refused(Reply(error.sentence(), ok=False, error=error)) from None

    def _model(self, c: Command) -> Reply:
        role = c.role or self.switcher.role
        if c.reset:
            return self._reset(role)
        if not c.query:
            return self._save_session(role, c) if c.save or c.project else self._show_or_pick(role, c)
        choices = self.switcher.choices
        if c.query.isdigit():
            n = int(c.query)
            if not choices:
                return Reply("no list to pick from — /models or /model QUERY shows one", ok=False)
            if not 1 <= n <= len(choices):
                return Reply(f"pick a number from 1 to {len(choices)}", ok=False)
            return self._switch(choices[n - 1], role, c)
        config = self.config()
        found = queries.find(c.query, self.switcher.index(config), config, self.session.current_ref(role),
                             force=c.force)
        if isinstance(found, queries.SwitchTo):
            return self._switch(found.ref, role, c, config, hint=found.hint)
        return self._listed(found)

    def _list(self, c: Command) -> Reply:
        config = self.config()
        role = c.role or self.switcher.role
        return self._listed(queries.listing(c.query, self.switcher.index(config), config,
                                            self.session.current_ref(role)))

    def _listed(self, reply: Reply) -> Reply:
        if reply.choices:
            self.switcher.choices = reply.choices  # /model N picks from the last list shown
        return reply

    def _show_or_pick(self, role: str, c: Command) -> Reply:
        interactive = self.switcher.interactive
        if interactive is None:
            interactive = sys.stdin.isatty() and sys.stdout.isatty()
        picker = (self.switcher.picker or _app_picker()) if interactive else None
        if picker is None:
            return Reply(self.session.describe(role) + "\n" + USAGE)
        try:
            chosen = picker(role)
        except Exception as exc:  # noqa: BLE001 - the command still answers without the picker
            return Reply(self.session.describe(role) + "\n" + USAGE,
                         warnings=(f"the picker could not open ({type(exc).__name__}: {exc})",))
        if not chosen:
            current = self.session.current_ref(role)
            return Reply(f"kept {current}" if current else "nothing chosen")
        return self._switch(chosen, role, c)

    def _reset(self, role: str) -> Reply:
        dropped = self.session.overrides.pop(role, None)
        who = "" if role == DEFAULT_ROLE else f" (role {role})"
        try:
            now = self.session.saved(role)
        except SelectionError as exc:
            return Reply(f"this session now follows active.toml{who}, which has no model — {exc}", ok=dropped is not None)
        if dropped is None:
            return Reply(f"this session already follows active.toml{who}: {now.ref}")
        return Reply(f"this session follows active.toml again{who}: {now.ref} (dropped {dropped.ref})",
                     selection=now, scope="session")

    def _save_session(self, role: str, c: Command) -> Reply:
        kept = self.session.overrides.get(role)
        if kept is None:
            try:
                now = self.session.saved(role).ref
            except SelectionError as exc:
                return Reply(f"nothing to save — {exc}", ok=False)
            return Reply(f"nothing to save: this session already uses active.toml's {now}")
        return self._switch(kept.ref, role, c, checked=True)

    # -- switching
    def _switch(self, ref: str, role: str, c: Command, config: Config | None = None, *, checked: bool = False,
                hint: str | None = None) -> Reply:
        config = config or self.config()
        try:
            provider, model = _switch.parse_ref(ref, config)
        except _switch.SwitchError as exc:
            return Reply(str(exc), ok=False, error=exc if isinstance(exc, _errors.LlmswitchError) else None)
        ref = f"{provider.id}/{model}"
        before = self.session.current_ref(role)
        warnings: list[str] = []
        if not checked:
            verdict = gate.check(provider, model, force=c.force, timeout=self.switcher.probe_timeout)
            if verdict.learned:
                self.switcher.forget_index()
            if verdict.refused is not None:
                keep = f"still {before}" if before else "nothing selected"
                force = f"/model --force {'--save ' if c.save else ''}{ref}"
                return Reply(f"{verdict.refused.sentence()}\nnot switched ({keep}) — {force} switches anyway"
                             + (f"\n{hint}" if hint else ""), ok=False, error=verdict.refused)
            warnings += verdict.warnings
            if hint and verdict.warnings:
                warnings.append(hint)
        from ..services.budget import assess, warning_lines

        warnings += warning_lines(assess(config, ref, before))
        if c.save:
            return self._save(ref, role, config, warnings)
        if c.project:
            return self._save_project(ref, role, warnings)
        sel = _switch.selection_for(provider, model, role)
        if not checked:
            http = plain_http_warning(provider)
            if http and provider.key_required:
                warnings.append(http)
        self.session.overrides[role] = sel
        try:
            state.add_recent(ref)
        except OSError:
            pass
        if role == DEFAULT_ROLE:
            text = f"switched this session to {ref} — not saved; /model --save makes it the default"
        else:
            text = (f"switched role {role} in this session to {ref} — not saved; "
                    f"/model --save --role {role} makes it the default")
        if before == ref:
            text = f"{ref} was already in use; " + text
        return Reply(text, selection=sel, scope="session", warnings=tuple(warnings))

    def _save(self, ref: str, role: str, config: Config, warnings: list[str]) -> Reply:
        try:
            result = _switch.switch(ref, role, config, check_key=False)
        except _switch.SwitchError as exc:
            return Reply(str(exc), ok=False, error=exc if isinstance(exc, _errors.LlmswitchError) else None)
        self.session.overrides.pop(role, None)
        self.switcher.forget_index()
        self.session.absorb(role, result.selection.ref)
        for w in result.warnings:
            if w not in warnings and not any(w in seen for seen in warnings):
                warnings.append(w)
        who = "the default" if role == DEFAULT_ROLE else f"role {role}"
        return Reply(f"saved {ref} as {who} in active.toml — other tools and new sessions use it now",
                     selection=result.selection, scope="saved", warnings=tuple(warnings))

    def _save_project(self, ref: str, role: str, warnings: list[str]) -> Reply:
        """``/model --project``: the role in this directory's ``.llmswitch.toml`` (written and trusted)."""
        from ..services.models import owners
        from ..store import overlay

        try:
            path, _, normal = overlay.set_role(role, ref, suggest=owners)
        except _errors.LlmswitchError as exc:
            return Reply(exc.sentence(), ok=False, error=exc)
        self.session.overrides.pop(role, None)
        self.session.absorb(role, normal)  # as for --save
        who = "the default" if role == DEFAULT_ROLE else f"role {role}"
        return Reply(f"saved {normal} as {who} for this project in {path} (trusted) — tools started in this directory "
                     f"tree use it", selection=self.session.selection(role), scope="project", warnings=tuple(warnings))


def _app_picker() -> Callable[[str], str | None] | None:
    """:func:`llmswitch.app.pick` (the picker inline in the terminal), when the app can be imported."""
    try:
        from ..app import pick
    except ImportError:  # pragma: no cover - installed without the app's dependencies
        return None
    return pick


class Refused(Exception):
    """A command answered before it ran (e.g. config.toml has problems): ``reply`` says why."""

    def __init__(self, reply: Reply) -> None:
        super().__init__(reply.text)
        self.reply = reply


def _config_error(exc: Exception) -> _errors.ConfigError:
    """The error whose sentence is the one "providers file has problems" text (until config.py raises it itself)."""
    return exc if isinstance(exc, _errors.ConfigError) else _errors.ConfigError(getattr(exc, "problems", ()))
