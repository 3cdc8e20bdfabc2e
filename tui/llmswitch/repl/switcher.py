"""``ModelSwitcher``: the session's choice per role, and the ``/model`` and ``/models`` commands.

The switcher is the public face of three parts: :class:`~.session.SessionChoices` (the session's
choice per role over what the scopes say), :class:`~.model_command.ModelCommands` (what each
command does) and the completion index, cached here and rebuilt when its inputs change.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..base import paths
from ..store import selection as _selection
from ..store import state
from ..store.config import ConfigError, load
from ..store.selection import DEFAULT_ROLE, ActiveSelection, SelectionError
from . import gate
from .completion import Completer
from .index import ModelIndex, models_cache_dir, mtime
from .model_command import ModelCommands, Refused
from .parse import COMMANDS
from .reply import Reply
from .session import SessionChoices

if TYPE_CHECKING:  # pragma: no cover
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
        self.session = SessionChoices()
        self._commands = ModelCommands(self)
        self._index: ModelIndex | None = None
        self._index_key: tuple[Any, ...] | None = None
        self._index_lock = threading.Lock()
        self._watched: tuple[Path, Path, Path] | None = None
        self._completer = Completer(self)

    # -- the selection and its scope
    def override(self, role: str | None = None) -> ActiveSelection | None:
        """The session choice for ``role``, or None when it follows active.toml."""
        return self.session.overrides.get(role or self.role)

    def saved(self, role: str | None = None) -> ActiveSelection:
        """What ``role`` is outside this session: shell scope, project, else active.toml (re-read on change)."""
        return self.session.saved(role or self.role)

    def selection(self, role: str | None = None) -> ActiveSelection:
        """The selection to use now: the session choice, else active.toml (raises NoSelection)."""
        return self.session.selection(role or self.role)

    def scope(self, role: str | None = None) -> str:
        """Where the role comes from outside this session: ``active.toml``, or the shell/project scope's label."""
        return self.session.scope(role or self.role)

    def source(self, role: str | None = None) -> str:
        """``"session"`` or ``"active.toml"``: where :meth:`selection` comes from."""
        return "session" if (role or self.role) in self.session.overrides else "active.toml"

    def set_session(self, sel: ActiveSelection) -> None:
        """Make ``sel`` the session choice for its role (no checks; :meth:`handle` checks)."""
        self.session.overrides[sel.role] = sel

    def reset(self, role: str | None = None) -> bool:
        """Drop the session choice for ``role``; False when there was none."""
        return self.session.overrides.pop(role or self.role, None) is not None

    def current_ref(self, role: str) -> str | None:
        return self.session.current_ref(role)

    def roles(self) -> list[str]:
        """Roles set in any scope (shell, project, active.toml) or in this session, and ``default``."""
        return self.session.roles()

    def poll(self) -> list[str]:
        """Notes about active.toml changes made elsewhere since the last look (one ``stat`` per role).

        A REPL calls this between turns. A role that follows the file simply
        follows it ("active.toml changed: now X"); a session choice stays and
        the note says how to follow the file again.
        """
        return self.session.poll(self.role)

    def describe(self, role: str | None = None, *, label: bool = True) -> str:
        """One line: the role's selection and where it comes from (``label``: "role R: " before other roles)."""
        return self.session.describe(role or self.role, label=label)

    # -- commands
    def handle(self, line: str) -> Reply | None:
        """Run a ``/model``/``/models`` line; ``None`` for any other line."""
        return self._commands.handle(line)

    def refresh(self, role: str | None = None) -> bool:
        """Fetch the model list of the role's provider when none is cached (for queries and completion).

        One probe with the switch timeout; quiet on failure. True when a list was stored.
        """
        try:
            sel = self.selection(role)
            provider = self._commands.config().provider(sel.provider)
        except (SelectionError, Refused, LookupError):
            return False
        if self.probe_timeout is None or state.known_models(provider.id, provider.base_url) is not None:
            return False
        if not gate.fetch_list(provider, sel.model, self.probe_timeout):
            return False
        self.forget_index()
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
                self._index = ModelIndex(config, extra_refs=[o.ref for o in self.session.overrides.values()],
                                         current=self.current_ref(self.role))
                self._index_key = key
            return self._index

    def forget_index(self) -> None:
        """The next :meth:`index` is built afresh (a probe or a save changed what it holds)."""
        self._index = None

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
