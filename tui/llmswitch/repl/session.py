"""The session's choice per role, and what each role is outside the session (shell, project, active.toml)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..store.selection import DEFAULT_ROLE, ActiveSelection, NoSelection, SelectionError

if TYPE_CHECKING:  # pragma: no cover
    from ..api import Watcher

__all__ = ["SessionChoices"]


class SessionChoices:
    """Session-scope overrides per role over the saved selection, which is re-read when its file changes."""

    def __init__(self) -> None:
        self.overrides: dict[str, ActiveSelection] = {}
        self._watchers: dict[str, Watcher] = {}
        self.seen: dict[str, str | None] = {}
        """The saved ref per role as last reported (poll() says only what changed since)."""

    def saved(self, role: str) -> ActiveSelection:
        """What ``role`` is outside this session: shell scope, project, else active.toml (re-read on change)."""
        from ..api import Watcher

        watcher = self._watchers.get(role)
        if watcher is None:
            watcher = self._watchers[role] = Watcher(role)
        try:
            sel = watcher.current()
        except SelectionError:
            self._watchers[role] = Watcher(role)  # forget the stale copy: the next read raises again
            self.seen[role] = None
            raise
        self.seen.setdefault(role, sel.ref)
        return sel

    def absorb(self, role: str, ref: str | None) -> None:
        """Our own write of ``role`` (``ref``): poll() must not report it as a change made elsewhere."""
        try:
            self.saved(role)
        except SelectionError:
            pass
        self.seen[role] = ref

    def selection(self, role: str) -> ActiveSelection:
        """The session choice, else the saved one (raises NoSelection)."""
        return self.overrides.get(role) or self.saved(role)

    def scope(self, role: str) -> str:
        """Where the role comes from outside this session: ``active.toml``, or the shell/project scope's label."""
        watcher = self._watchers.get(role)
        resolved = watcher.resolved if watcher is not None else None
        return "active.toml" if resolved is None or resolved.scope == "user" else str(resolved.label())

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
        return sorted(roles | set(self.overrides) | {DEFAULT_ROLE})

    def poll(self, current_role: str) -> list[str]:
        """Notes about active.toml changes made elsewhere since the last look (one ``stat`` per role)."""
        notes = []
        for role, watcher in list(self._watchers.items()):
            if not watcher.changed():
                continue
            before = self.seen.get(role)
            try:
                now: str | None = self.saved(role).ref
                problem = None
            except NoSelection:
                now, problem = None, f"active.toml no longer sets role {role}"
            except SelectionError as exc:
                now, problem = None, str(exc)
            self.seen[role] = now
            if now == before:
                continue
            who = "" if role == DEFAULT_ROLE else f"role {role} "
            kept = self.overrides.get(role)
            if problem:
                tail = f"; this session keeps {kept.ref}" if kept else " — pick one: /model PROVIDER/MODEL"
                notes.append(problem + tail)
            elif kept is not None:
                flag = "" if role == current_role else f" --role {role}"
                notes.append(f"active.toml changed {who}to {now}; this session keeps {kept.ref} "
                             f"(/model --reset{flag} to follow the file)")
            else:
                notes.append(f"active.toml changed: {who}now {now}" if who else f"active.toml changed: now using {now}")
        return notes

    def describe(self, role: str, *, label: bool = True) -> str:
        """One line: the role's selection and where it comes from (``label``: "role R: " before other roles)."""
        who = "" if role == DEFAULT_ROLE or not label else f"role {role}: "
        kept = self.overrides.get(role)
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
