"""Which model is active *here*: the one resolver every read path asks.

Scopes, first match wins, per role (documented in docs/scopes.md):

1. **session** — a REPL's ``/model`` choice (inside that process only);
2. **shell** — ``$LLMSWITCH_USE``, set by ``eval "$(llmswitch shell use PROVIDER/MODEL)"``:
   ``role=provider/model`` entries separated by ``;`` (references only, never a key);
3. **project** — the nearest trusted ``.llmswitch.toml`` (:mod:`llmswitch.store.overlay`);
4. **user** — ``active.toml`` (:mod:`llmswitch.store.selection`).

A shell or project scope names only ``provider/model``; the rest of the selection (base URL,
key reference, headers) comes from your own configuration: from a role in ``active.toml`` that
uses the same provider (as ``llmswitch use`` wrote it, so the read stays stdlib-only and cheap),
otherwise from ``config.toml`` or the provider's preset (then ``tomllib`` and the config module
load). A provider known to neither is refused. Stdlib only at import, like the rest of the read path.
"""

from __future__ import annotations

import os

from ..base import paths
from . import overlay as _overlay
from . import selection as _selection
from .selection import DEFAULT_ROLE, ActiveSelection

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping

    from ..base.errors import LlmswitchError

SHELL_VAR = "LLMSWITCH_USE"
ORDER = ("session", "shell", "project", "user")
"""The scopes, highest first."""


class Resolved:
    """A role's selection and where it came from: ``scope`` (one of :data:`ORDER`), ``origin``
    (the env var, the project file, ``active.toml``, or ``"this session"``) and ``line`` (project file)."""

    __slots__ = ("line", "origin", "scope", "selection")

    def __init__(self, selection: ActiveSelection, scope: str, origin: str, line: int | None = None) -> None:
        self.selection = selection
        self.scope = scope
        self.origin = origin
        self.line = line

    def where(self) -> str:
        """``$LLMSWITCH_USE``, ``/repo/.llmswitch.toml:3``, ``/home/u/.config/llmswitch/active.toml``."""
        if self.scope == "shell":
            return "$" + self.origin
        return f"{self.origin}:{self.line}" if self.line else self.origin

    def label(self) -> str:
        """``shell scope ($LLMSWITCH_USE)`` and the like, for one-line notes."""
        return f"{self.scope} scope ({self.where()})"

    def as_dict(self) -> dict[str, object]:
        return {"scope": self.scope, "set_by": self.origin, "line": self.line}

    def __repr__(self) -> str:
        return f"Resolved({self.selection.ref!r}, scope={self.scope!r}, origin={self.where()!r})"


def _error(cause: str, fix: str, subject: str | None = None) -> LlmswitchError:
    from ..base.errors import SelectionError

    return SelectionError(cause, fix, subject=subject)


# --- the shell scope --------------------------------------------------------------------------

def shell_refs(environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """Role → ``provider/model`` from ``$LLMSWITCH_USE`` (empty when unset); a malformed value is refused."""
    value = (os.environ if environ is None else environ).get(SHELL_VAR, "")
    refs: dict[str, str] = {}
    for entry in value.split(";"):
        entry = entry.strip()
        if not entry:
            continue
        role, eq, ref = entry.partition("=")
        why = None if eq and _overlay._is_role(role) else f"{entry[:60]!r} is not ROLE=PROVIDER/MODEL"
        why = why or _overlay.ref_problem(ref)
        if why:
            raise _error(f"{why}", 'run: eval "$(llmswitch shell reset)", then llmswitch shell use PROVIDER/MODEL',
                         "$" + SHELL_VAR)
        refs[role] = ref
    return refs


def shell_value(refs: Mapping[str, str]) -> str:
    """The ``$LLMSWITCH_USE`` value for ``refs`` (default first)."""
    ordered = sorted(refs.items(), key=lambda item: (item[0] != DEFAULT_ROLE, item[0]))
    return ";".join(f"{role}={ref}" for role, ref in ordered)


# --- resolving ----------------------------------------------------------------------------------

class Scopes:
    """One look at every scope (each source read at most once), then :meth:`resolve` per role.

    ``session``: a REPL's choices; ``environ``/``cwd``: where the shell and project scopes are
    looked for (this process's by default); ``quiet``: do not say on stderr that an overlay is
    ignored (the prompt segment marks it instead).
    """

    def __init__(self, session: Mapping[str, ActiveSelection] | None = None, *,
                 environ: Mapping[str, str] | None = None, cwd: str | None = None, quiet: bool = False,
                 active: str | None = None) -> None:
        self.session = dict(session or {})
        self.shell = shell_refs(environ)
        self.active_path = paths.active_path() if active is None else active
        found = _overlay.find(cwd)
        self.overlay = _overlay.load(found) if found else None
        if self.overlay is not None and not quiet:
            _overlay.announce(self.overlay)
        self._user: dict[str, ActiveSelection] | None = None

    @property
    def project(self) -> dict[str, tuple[str, int]]:
        """Role → (ref, line) from a trusted overlay (empty when there is none or it is ignored)."""
        return self.overlay.roles if self.overlay is not None else {}

    def user(self) -> dict[str, ActiveSelection]:
        if self._user is None:
            self._user = _selection.read_all(self.active_path)
        return self._user

    def roles(self) -> list[str]:
        """Every role some scope sets, default first."""
        names = {*self.session, *self.shell, *self.project, *self.user()}
        return sorted(names, key=lambda name: (name != DEFAULT_ROLE, name))

    def resolve(self, role: str = DEFAULT_ROLE) -> Resolved:
        """The role's selection from the highest scope that sets it; NoSelection (with the fix) when none does."""
        if role in self.session:
            return Resolved(self.session[role], "session", "this session")
        if role in self.shell:
            return Resolved(self.build(self.shell[role], role, "$" + SHELL_VAR), "shell", SHELL_VAR)
        if role in self.project:
            assert self.overlay is not None
            ref, line = self.project[role]
            return Resolved(self.build(ref, role, f"{self.overlay.path}:{line}"), "project", self.overlay.path, line)
        roles = self.user()
        if role in roles:
            return Resolved(roles[role], "user", self.active_path)
        _selection.read(role, self.active_path)  # raises NoSelection with the fix
        raise AssertionError("unreachable")  # pragma: no cover

    def build(self, ref: str, role: str, where: str) -> ActiveSelection:
        """``ref`` as a full selection, the provider's details taken from your own configuration."""
        provider, _, model = ref.partition("/")
        roles = self.user()
        same = [roles[r] for r in (role, DEFAULT_ROLE, *sorted(roles)) if r in roles and roles[r].provider == provider]
        if same:
            s = same[0]
            return ActiveSelection(role, provider, model, s.base_url, s.api_kind, s.key_source, s.keyring_service,
                                   s.keyring_username, s.key_env, s.key_command, s.key_required, s.headers,
                                   s.api_version)
        return _from_config(ref, role, where)


# --- the prompt segment --------------------------------------------------------------------------

PROMPT_FORMAT = "{ref}{mark}"
"""``llmswitch prompt``'s default template."""
PROMPT_FIELDS = ("ref", "provider", "model", "role", "scope", "mark")
"""``mark``: `` (shell)``/`` (project)``/`` (.llmswitch.toml ignored)`` or empty; ``scope``: user, shell, project."""
SEGMENT_SUFFIX = ".prompt"
"""``.active.toml.prompt``: the user scope's segment, written beside active.toml by every writer of the selection."""


def prompt_segment(resolved: Resolved, overlay: _overlay.Overlay | None, template: str = PROMPT_FORMAT) -> str:
    """The prompt segment for ``resolved`` (``overlay``: the project file found, trusted or not); KeyError,
    IndexError, ValueError or AttributeError for a template that is not one of :data:`PROMPT_FIELDS`."""
    sel = resolved.selection
    ignored = overlay is not None and overlay.status != "trusted"
    mark = f" ({resolved.scope})" if resolved.scope != "user" else " (.llmswitch.toml ignored)" if ignored else ""
    values = {"ref": sel.ref, "provider": sel.provider, "model": sel.model, "role": sel.role,
              "scope": resolved.scope, "mark": mark}
    return template.format_map(values)


def segment_path(active: str) -> str:
    """``.active.toml.prompt`` beside ``active``."""
    directory, base = os.path.split(active)
    return os.path.join(directory, f".{base}{SEGMENT_SUFFIX}")


def segment_file(roles: Mapping[str, ActiveSelection], active: str) -> bytes:
    """What ``llmswitch_prompt`` (``prompt --init``) reads when no project file applies: line 1, the default
    segment in the user scope (what ``llmswitch prompt`` prints there, or empty); line 2, the providers that
    have a role in active.toml (a shell scope naming one of them resolves without config.toml)."""
    line = prompt_segment(Resolved(roles[DEFAULT_ROLE], "user", active), None) if DEFAULT_ROLE in roles else ""
    providers = " ".join(sorted({sel.provider for sel in roles.values()}))
    return f"{line}\n{providers}\n".encode()


def _from_config(ref: str, role: str, where: str) -> ActiveSelection:
    """The slow path: the provider from ``config.toml`` or a preset (what ``llmswitch use`` accepts)."""
    from .config import ConfigError, load
    from .refs import SwitchError, parse_ref, selection_for

    try:
        provider, model = parse_ref(ref, load())
    except (SwitchError, ConfigError) as exc:
        raise _error(f"sets role {role} to {ref}, but {exc.cause}",
                     exc.fix or "name a provider from your own configuration", where) from None
    return selection_for(provider, model, role)


def resolve(role: str = DEFAULT_ROLE, *, session: Mapping[str, ActiveSelection] | None = None,
            environ: Mapping[str, str] | None = None, cwd: str | None = None, quiet: bool = False) -> Resolved:
    """The role's selection and the scope it came from (the options as for :class:`Scopes`)."""
    return Scopes(session, environ=environ, cwd=cwd, quiet=quiet).resolve(role)


def active(role: str = DEFAULT_ROLE) -> ActiveSelection:
    """The role's selection in this process's scopes (shell → project → user)."""
    return Scopes().resolve(role).selection


def findings() -> list[tuple[str, str, str | None]]:
    """For ``doctor``: (level ``ok``/``warning``/``error``, cause, fix) about the shell and project scopes in force."""
    found: list[tuple[str, str, str | None]] = []
    try:
        looked = Scopes(quiet=True)
    except Exception as exc:  # noqa: BLE001 - a malformed $LLMSWITCH_USE or trust list is itself the finding
        from ..base.errors import LlmswitchError

        if not isinstance(exc, LlmswitchError):
            raise
        return [("error", exc.sentence(with_fix=False), exc.fix)]
    try:
        looked.user()
    except Exception as exc:  # noqa: BLE001 - doctor reports a broken active.toml itself; judge the scopes without it
        from ..base.errors import LlmswitchError

        if not isinstance(exc, LlmswitchError):
            raise
        looked._user = {}
    for role, ref in looked.shell.items():
        found.append(("ok", f"shell scope: {role} → {ref} (${SHELL_VAR}, this shell only)",
                      None))
    overlay = looked.overlay
    if overlay is not None and overlay.status == "trusted":
        listed = ", ".join(f"{role} → {ref}" for role, (ref, _) in overlay.roles.items()) or "no roles"
        found.append(("ok", f"project scope in force: {overlay.path} (trusted): {listed}", None))
    elif overlay is not None:
        command = _overlay.how_to_trust(overlay.path)
        how = (None if overlay.status == "unsafe" else f"read it, then run: {command}" if command
               else "its path has control or invisible characters, which the trust list cannot hold: rename the "
                    "directory to use it")
        found.append(("warning", f"project file ignored: {overlay.path} ({overlay.why})", how))
    for role in looked.roles():
        try:
            looked.resolve(role)
        except Exception as exc:  # noqa: BLE001 - the same: each role that cannot resolve is a finding
            from ..base.errors import LlmswitchError

            if not isinstance(exc, LlmswitchError):
                raise
            found.append(("error", exc.sentence(with_fix=False), exc.fix))
    return found


# --- the line a shell evaluates (shell scope) ----------------------------------------------------

EVAL = {"fish": "{cmd} | source", "powershell": "{cmd} | Invoke-Expression"}
"""How each shell runs the printed line (bash and zsh: ``eval "$(…)"``)."""


def detect_shell(chosen: str | None) -> str:
    if chosen:
        return chosen
    login = os.path.basename(os.environ.get("SHELL", ""))
    return login if login in ("bash", "zsh", "fish") else "powershell" if login.startswith("pwsh") else "bash"


def eval_line(shell: str, args: str) -> str:
    """What to type in ``shell`` to apply ``llmswitch ARGS``."""
    cmd = f"llmswitch {args}"
    return EVAL.get(shell, 'eval "$({cmd})"').format(cmd=cmd + (" --shell powershell" if shell == "powershell" else ""))
