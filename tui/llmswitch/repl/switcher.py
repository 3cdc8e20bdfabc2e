"""``ModelSwitcher``: the session's choice per role, and the ``/model`` and ``/models`` commands."""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..base import errors as _errors
from ..base import paths
from ..services import switch as _switch
from ..store import selection as _selection
from ..store import state
from ..store.config import ConfigError, load, plain_http_warning
from ..store.selection import DEFAULT_ROLE, ActiveSelection, NoSelection, SelectionError
from . import gate, queries
from .completion import Completer
from .index import ModelIndex, models_cache_dir, mtime
from .parse import COMMANDS, USAGE, Command, CommandError, parse
from .reply import Reply

if TYPE_CHECKING:  # pragma: no cover
    from ..api import Watcher
    from ..store.config import Config

__all__ = ["ModelSwitcher"]


class ModelSwitcher:
    """Session-scope model choice per role, the ``/model`` commands, and completion.

    ``interactive`` (default: stdin and stdout are terminals) lets a bare
    ``/model`` open the picker (``picker(role) -> ref | None``, default
    :func:`llmswitch.app.pick` when it exists). ``probe_timeout`` bounds the
    check before a switch; ``None`` switches without checking.
    """

    def __init__(self, role: str = DEFAULT_ROLE, *, interactive: bool | None = None,
                 probe_timeout: float | None = gate.PROBE_TIMEOUT, picker: Callable[[str], str | None] | None = None,
                 commands: Iterable[str] = COMMANDS) -> None:
        _selection.check_role(role)
        self.role = role
        self.interactive = interactive
        self.probe_timeout = probe_timeout
        self.picker = picker
        self.commands = tuple(commands)
        self.choices: tuple[str, ...] = ()
        """The refs of the last numbered list (``/model N`` picks from it)."""
        self._overrides: dict[str, ActiveSelection] = {}
        self._watchers: dict[str, Watcher] = {}
        self._seen: dict[str, str | None] = {}
        self._index: ModelIndex | None = None
        self._index_key: tuple[Any, ...] | None = None
        self._index_lock = threading.Lock()
        self._watched: tuple[Path, Path, Path] | None = None
        self._completer = Completer(self)

    # -- the selection and its scope
    def override(self, role: str | None = None) -> ActiveSelection | None:
        """The session choice for ``role``, or None when it follows active.toml."""
        return self._overrides.get(role or self.role)

    def saved(self, role: str | None = None) -> ActiveSelection:
        """What ``role`` is outside this session: shell scope, project, else active.toml (re-read on change)."""
        from ..api import Watcher

        role = role or self.role
        watcher = self._watchers.get(role)
        if watcher is None:
            watcher = self._watchers[role] = Watcher(role)
        try:
            sel = watcher.current()
        except SelectionError:
            self._watchers[role] = Watcher(role)  # forget the stale copy: the next read raises again
            self._seen[role] = None
            raise
        self._seen.setdefault(role, sel.ref)
        return sel

    def selection(self, role: str | None = None) -> ActiveSelection:
        """The selection to use now: the session choice, else active.toml (raises NoSelection)."""
        role = role or self.role
        return self._overrides.get(role) or self.saved(role)

    def scope(self, role: str | None = None) -> str:
        """Where the role comes from outside this session: ``active.toml``, or the shell/project scope's label."""
        watcher = self._watchers.get(role or self.role)
        resolved = watcher.resolved if watcher is not None else None
        return "active.toml" if resolved is None or resolved.scope == "user" else str(resolved.label())

    def source(self, role: str | None = None) -> str:
        """``"session"`` or ``"active.toml"``: where :meth:`selection` comes from."""
        return "session" if (role or self.role) in self._overrides else "active.toml"

    def set_session(self, sel: ActiveSelection) -> None:
        """Make ``sel`` the session choice for its role (no checks; :meth:`handle` checks)."""
        self._overrides[sel.role] = sel

    def reset(self, role: str | None = None) -> bool:
        """Drop the session choice for ``role``; False when there was none."""
        return self._overrides.pop(role or self.role, None) is not None

    def current_ref(self, role: str) -> str | None:
        try:
            return self.selection(role).ref
        except SelectionError:
            return None

    def roles(self) -> list[str]:
        """Roles set in any scope (shell, project, active.toml) or in this session, and ``default``."""
        from ..store.scopes import Scopes

        try:
            roles = set(Scopes(quiet=True).roles())
        except SelectionError:
            roles = set()
        return sorted(roles | set(self._overrides) | {DEFAULT_ROLE})

    def poll(self) -> list[str]:
        """Notes about active.toml changes made elsewhere since the last look (one ``stat`` per role).

        A REPL calls this between turns. A role that follows the file simply
        follows it ("active.toml changed: now X"); a session choice stays and
        the note says how to follow the file again.
        """
        notes = []
        for role, watcher in list(self._watchers.items()):
            if not watcher.changed():
                continue
            before = self._seen.get(role)
            try:
                now: str | None = self.saved(role).ref
                problem = None
            except NoSelection:
                now, problem = None, f"active.toml no longer sets role {role}"
            except SelectionError as exc:
                now, problem = None, str(exc)
            self._seen[role] = now
            if now == before:
                continue
            who = "" if role == DEFAULT_ROLE else f"role {role} "
            kept = self._overrides.get(role)
            if problem:
                tail = f"; this session keeps {kept.ref}" if kept else " — pick one: /model PROVIDER/MODEL"
                notes.append(problem + tail)
            elif kept is not None:
                flag = "" if role == self.role else f" --role {role}"
                notes.append(f"active.toml changed {who}to {now}; this session keeps {kept.ref} "
                             f"(/model --reset{flag} to follow the file)")
            else:
                notes.append(f"active.toml changed: {who}now {now}" if who else f"active.toml changed: now using {now}")
        return notes

    def describe(self, role: str | None = None, *, label: bool = True) -> str:
        """One line: the role's selection and where it comes from (``label``: "role R: " before other roles)."""
        role = role or self.role
        who = "" if role == DEFAULT_ROLE or not label else f"role {role}: "
        kept = self._overrides.get(role)
        try:
            saved: str | None = self.saved(role).ref
            problem = None
        except SelectionError as exc:
            saved, problem = None, str(exc)
        scope = self.scope(role)
        if kept is not None:
            file = f"{scope} has {saved}" if saved else f"{scope} has none"
            return f"{who}{kept.ref} — this session only ({file}; /model --reset follows it, /model --save keeps it)"
        if saved and scope != "active.toml":
            return f"{who}{saved} — from the {scope} (other tools started there use it too)"
        if saved:
            return f"{who}{saved} — from active.toml (saved; other tools use it too)"
        return f"{who}{problem}"

    # -- commands
    def handle(self, line: str) -> Reply | None:
        """Run a ``/model``/``/models`` line; ``None`` for any other line."""
        try:
            command = parse(line, [c for c in self.commands if c in COMMANDS])
        except CommandError as exc:
            return Reply(exc.sentence(), ok=False, error=exc)
        if command is None:
            return None
        try:
            if command.name == "/models":
                return self._list(command)
            return self._model(command)
        except _Refused as exc:
            return exc.reply

    def _config(self) -> Config:
        try:
            return load()
        except ConfigError as exc:
            error = _config_error(exc)
            raise _Refused(Reply(error.sentence(), ok=False, error=error)) from None

    def _model(self, c: Command) -> Reply:
        role = c.role or self.role
        if c.reset:
            return self._reset(role)
        if not c.query:
            return self._save_session(role, c) if c.save or c.project else self._show_or_pick(role, c)
        if c.query.isdigit():
            n = int(c.query)
            if not self.choices:
                return Reply("no list to pick from — /models or /model QUERY shows one", ok=False)
            if not 1 <= n <= len(self.choices):
                return Reply(f"pick a number from 1 to {len(self.choices)}", ok=False)
            return self._switch(self.choices[n - 1], role, c)
        config = self._config()
        found = queries.find(c.query, self.index(config), config, self.current_ref(role), force=c.force)
        if isinstance(found, queries.SwitchTo):
            return self._switch(found.ref, role, c, config, hint=found.hint)
        return self._listed(found)

    def _list(self, c: Command) -> Reply:
        config = self._config()
        return self._listed(queries.listing(c.query, self.index(config), config, self.current_ref(c.role or self.role)))

    def _listed(self, reply: Reply) -> Reply:
        if reply.choices:
            self.choices = reply.choices  # /model N picks from the last list shown
        return reply

    def _show_or_pick(self, role: str, c: Command) -> Reply:
        interactive = self.interactive
        if interactive is None:
            interactive = sys.stdin.isatty() and sys.stdout.isatty()
        picker = (self.picker or _app_picker()) if interactive else None
        if picker is None:
            return Reply(self.describe(role) + "\n" + USAGE)
        try:
            chosen = picker(role)
        except Exception as exc:  # noqa: BLE001 - the command still answers without the picker
            return Reply(self.describe(role) + "\n" + USAGE,
                         warnings=(f"the picker could not open ({type(exc).__name__}: {exc})",))
        if not chosen:
            current = self.current_ref(role)
            return Reply(f"kept {current}" if current else "nothing chosen")
        return self._switch(chosen, role, c)

    def _reset(self, role: str) -> Reply:
        dropped = self._overrides.pop(role, None)
        who = "" if role == DEFAULT_ROLE else f" (role {role})"
        try:
            now = self.saved(role)
        except SelectionError as exc:
            return Reply(f"this session now follows active.toml{who}, which has no model — {exc}", ok=dropped is not None)
        if dropped is None:
            return Reply(f"this session already follows active.toml{who}: {now.ref}")
        return Reply(f"this session follows active.toml again{who}: {now.ref} (dropped {dropped.ref})",
                     selection=now, scope="session")

    def _save_session(self, role: str, c: Command) -> Reply:
        kept = self._overrides.get(role)
        if kept is None:
            try:
                now = self.saved(role).ref
            except SelectionError as exc:
                return Reply(f"nothing to save — {exc}", ok=False)
            return Reply(f"nothing to save: this session already uses active.toml's {now}")
        return self._switch(kept.ref, role, c, checked=True)

    # -- switching
    def _switch(self, ref: str, role: str, c: Command, config: Config | None = None, *, checked: bool = False,
                hint: str | None = None) -> Reply:
        config = config or self._config()
        try:
            provider, model = _switch.parse_ref(ref, config)
        except _switch.SwitchError as exc:
            return Reply(str(exc), ok=False, error=exc if isinstance(exc, _errors.LlmswitchError) else None)
        ref = f"{provider.id}/{model}"
        before = self.current_ref(role)
        warnings: list[str] = []
        if not checked:
            verdict = gate.check(provider, model, force=c.force, timeout=self.probe_timeout)
            if verdict.learned:
                self._index = None
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
        self._overrides[role] = sel
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
        self._overrides.pop(role, None)
        self._index = None
        try:
            self.saved(role)  # absorb our own write: poll() must not report it as a change elsewhere
        except SelectionError:
            pass
        self._seen[role] = result.selection.ref
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
        self._overrides.pop(role, None)
        try:
            self.saved(role)  # absorb our own write, as for --save
        except SelectionError:
            pass
        self._seen[role] = normal
        who = "the default" if role == DEFAULT_ROLE else f"role {role}"
        return Reply(f"saved {normal} as {who} for this project in {path} (trusted) — tools started in this directory "
                     f"tree use it", selection=self.selection(role), scope="project", warnings=tuple(warnings))

    def refresh(self, role: str | None = None) -> bool:
        """Fetch the model list of the role's provider when none is cached (for queries and completion).

        One probe with the switch timeout; quiet on failure. True when a list was stored.
        """
        try:
            sel = self.selection(role)
            provider = self._config().provider(sel.provider)
        except (SelectionError, _Refused, LookupError):
            return False
        if self.probe_timeout is None or state.known_models(provider.id, provider.base_url) is not None:
            return False
        if not gate.fetch_list(provider, sel.model, self.probe_timeout):
            return False
        self._index = None
        return True

    # -- completion
    def index(self, config: Config | None = None) -> ModelIndex:
        """The (cached) model index; rebuilt when config.toml, the model cache or recents change."""
        if self._watched is None:  # the paths, once: building them costs more than the stats
            self._watched = (paths.config_file(), models_cache_dir(), paths.state_dir() / "recent.json")
        config_file, models_dir, recent = self._watched
        key = (_selection.file_state(config_file), mtime(models_dir), mtime(recent))
        with self._index_lock:
            if self._index is None or key != self._index_key:
                if config is None:
                    try:
                        config = load()
                    except ConfigError:
                        from ..store.config import Config

                        config = Config(config_file, False, {})
                self._index = ModelIndex(config, extra_refs=[o.ref for o in self._overrides.values()],
                                         current=self.current_ref(self.role))
                self._index_key = key
            return self._index

    def cached_index(self) -> ModelIndex | None:
        """The index as last built, without checking whether it is stale (for completion metadata)."""
        return self._index

    def warm(self) -> None:
        """Build the completion index now (e.g. in a background thread at start-up)."""
        try:
            self.index()
        except Exception:  # noqa: BLE001 - completion is a nicety; handle() reports real problems
            pass

    def complete(self, line: str) -> list[str]:
        """Completions for the last word of ``line`` (the text before the cursor). Offline, cached index."""
        return self._completer.complete(line)

    def readline_completer(self, text: str, state: int) -> str | None:
        """For ``readline.set_completer`` (set the delimiters to whitespace: ids contain / - . :)."""
        return self._completer.readline(text, state)

    def prompt_toolkit_completer(self) -> Any:
        """A ``prompt_toolkit.completion.Completer`` (prompt_toolkit is imported here, not before)."""
        return self._completer.prompt_toolkit()


def _app_picker() -> Callable[[str], str | None] | None:
    """:func:`llmswitch.app.pick` (the picker inline in the terminal), when the app can be imported."""
    try:
        from ..app import pick
    except ImportError:  # pragma: no cover - installed without the app's dependencies
        return None
    return pick


class _Refused(Exception):
    def __init__(self, reply: Reply) -> None:
        super().__init__(reply.text)
        self.reply = reply


def _config_error(exc: Exception) -> _errors.ConfigError:
    """The error whose sentence is the one "providers file has problems" text (until config.py raises it itself)."""
    return exc if isinstance(exc, _errors.ConfigError) else _errors.ConfigError(getattr(exc, "problems", ()))
