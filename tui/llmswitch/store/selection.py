"""The active selection (``active.toml``): the contract other tools read.

Reading is the read path of ``llmswitch current`` and ``llmswitch.active()``, so
it imports only ``os`` and :mod:`llmswitch.store.selection_store` (the file itself) at module level: no
dataclasses, typing, pathlib (it pulls in ``urllib``), and ``llmswitch.base.errors``
only when something is refused. What it trusts and re-checks on every read:

* the file and its directory belong to you (or root) and no one else can write
  them (:func:`llmswitch.base.files.untrusted`);
* ``version`` is the integer 1 (not ``true``, not ``1.0``); every value has its
  documented type, no control characters; ``base_url`` is ``http(s)://`` with a
  host and no credentials.

The writer (``use``, the picker, ``/model --save``) keeps a parse cache beside
the file, ``.active.toml.cache`` (marshal: the exact bytes it parsed and what
they parse to). A reader uses it only when the file's bytes are identical to the
cached bytes — never over the file — and when it is as trusted as the file;
otherwise it parses the TOML. Byte equality, not size/mtime/inode: mtime moves in
coarse ticks, so an edit in the same tick would look unchanged, and comparing a
file of a few hundred bytes, already read, costs next to nothing.

File layout (documented in docs/tool-authors.md)::

    version = 1
    updated = 2026-11-21T19:30:00Z

    [roles.default]
    provider = "openrouter"
    model = "anthropic/claude-sonnet-4"
    base_url = "https://openrouter.ai/api/v1"
    api_kind = "openai"
    key_source = "keyring"
    keyring_service = "llmswitch"
    keyring_username = "openrouter"
    key_env = ["OPENROUTER_API_KEY"]
    key_required = true
    updated = 2026-11-21T19:30:00Z

    [roles.default.headers]
    "X-Title" = "my app"
"""

from __future__ import annotations

import os

from ..base import paths
from . import selection_store as _store
from .selection_store import CACHE_FORMAT as CACHE_FORMAT  # re-exported: the contract names them here
from .selection_store import MAX_BYTES as MAX_BYTES

TYPE_CHECKING = False
if TYPE_CHECKING:
    import re
    from datetime import datetime
    from pathlib import Path
    from typing import Any

    from ..base.errors import LlmswitchError
    from ..base.errors import NoSelection as NoSelection
    from ..base.errors import SelectionError as SelectionError

SCHEMA_VERSION = 1
DEFAULT_ROLE = "default"
KEY_SOURCES = ("keyring", "env", "command", "none")
_REWRITE = _store.REWRITE
_error = _store.error
_OPTIONAL_TEXT = ("keyring_service", "keyring_username", "key_command", "api_version", "api_kind")


def __getattr__(name: str) -> object:
    """Names resolved on first use, so a successful read never imports them."""
    if name in ("SelectionError", "NoSelection"):  # their home is llmswitch.base.errors
        from ..base import errors

        return getattr(errors, name)
    if name == "UntrustedSelection":
        return _store.untrusted_class()
    if name == "ROLE_NAME":
        return _role_name()
    raise AttributeError(f"module 'llmswitch.store.selection' has no attribute {name!r}")


if TYPE_CHECKING:
    ROLE_NAME: re.Pattern[str]


_ROLE: list[re.Pattern[str]] = []


def _role_name() -> re.Pattern[str]:
    """The rule for role names (compiled on first use: ``re`` is not needed to read)."""
    if not _ROLE:
        import re

        _ROLE.append(re.compile(r"^[a-z][a-z0-9_-]{0,31}$"))
    return _ROLE[0]


def override_var(provider_id: str) -> str:
    """``LLMSWITCH_KEY_<ID>``: the env var that overrides every other key source (ASCII letters and digits kept)."""
    return "LLMSWITCH_KEY_" + "".join(c if c.isascii() and c.isalnum() else "_" for c in provider_id).upper()


SHELL_UNSAFE = "$`\\\"';&|<>!"
"""Characters refused in model ids where they enter (``use``): live in a shell even inside double quotes,
or able to end a quoted word. Real model ids (spaces, ``~``, ``+``, ``()`` included) have none of them."""
SHELL_UNSAFE_TEXT = " ".join(SHELL_UNSAFE) + " and control characters"


def shell_unsafe(text: str) -> str | None:
    """The first character of ``text`` a shell would act on (named for a sentence), or None."""
    for c in text:
        if c in SHELL_UNSAFE:
            return repr(c)
        if c < " " or "\x7f" <= c <= "\x9f":
            return f"a control character (U+{ord(c):04X})"
    return None


class ActiveSelection:
    """One role's selection, exactly as other tools should use it (immutable; no key is ever part of it).

    Attributes: ``role``; ``provider`` (id); ``model`` (as the provider's API expects it);
    ``base_url`` (the resolved endpoint root; use it as-is); ``api_kind`` (``openai``, ``azure``
    or ``anthropic``); ``key_source`` (keyring | env | command | none); ``keyring_service`` and
    ``keyring_username``; ``key_env`` (env vars that may hold the key, in the order llmswitch
    tries them); ``key_command``; ``key_required``; ``headers`` (extra non-secret headers);
    ``api_version`` (Azure); ``updated`` (a UTC datetime, or None).
    """

    __slots__ = ("_updated", "api_kind", "api_version", "base_url", "headers", "key_command", "key_env",
                 "key_required", "key_source", "keyring_service", "keyring_username", "model", "provider", "role")

    role: str
    provider: str
    model: str
    base_url: str
    api_kind: str
    key_source: str
    keyring_service: str | None
    keyring_username: str | None
    key_env: tuple[str, ...]
    key_command: str | None
    key_required: bool
    headers: dict[str, str]
    api_version: str | None
    _updated: datetime | str | None

    def __init__(self, role: str, provider: str, model: str, base_url: str, api_kind: str = "openai",
                 key_source: str = "keyring", keyring_service: str | None = None,
                 keyring_username: str | None = None, key_env: tuple[str, ...] | list[str] = (),
                 key_command: str | None = None, key_required: bool = True, headers: dict[str, str] | None = None,
                 api_version: str | None = None, updated: datetime | str | None = None) -> None:
        put = object.__setattr__
        put(self, "role", role)
        put(self, "provider", provider)
        put(self, "model", model)
        put(self, "base_url", base_url)
        put(self, "api_kind", api_kind)
        put(self, "key_source", key_source)
        put(self, "keyring_service", keyring_service)
        put(self, "keyring_username", keyring_username)
        put(self, "key_env", tuple(key_env))
        put(self, "key_command", key_command)
        put(self, "key_required", key_required)
        put(self, "headers", dict(headers or {}))
        put(self, "api_version", api_version)
        put(self, "_updated", updated)  # an ISO string from the cache becomes a datetime when asked for

    def __reduce__(self) -> tuple[type[ActiveSelection], tuple[object, ...]]:
        return ActiveSelection, (self.role, self.provider, self.model, self.base_url, self.api_kind, self.key_source,
                                 self.keyring_service, self.keyring_username, self.key_env, self.key_command,
                                 self.key_required, self.headers, self.api_version, self._updated)

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"ActiveSelection is immutable; cannot set {name!r}")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"ActiveSelection is immutable; cannot delete {name!r}")

    @property
    def updated(self) -> datetime | None:
        """When the role was last written (UTC), or None."""
        value = self._updated
        if isinstance(value, str):
            from datetime import datetime

            value = datetime.fromisoformat(value)
            object.__setattr__(self, "_updated", value)
        return value

    @property
    def ref(self) -> str:
        """``provider/model``."""
        return f"{self.provider}/{self.model}"

    def _fields(self) -> tuple[object, ...]:
        return (self.role, self.provider, self.model, self.base_url, self.api_kind, self.key_source,
                self.keyring_service, self.keyring_username, self.key_env, self.key_command, self.key_required,
                tuple(sorted(self.headers.items())), self.api_version, self.updated)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, ActiveSelection):
            return NotImplemented
        return self._fields() == other._fields()

    def __hash__(self) -> int:
        return hash(self._fields())

    def __repr__(self) -> str:
        names = ("role", "provider", "model", "base_url", "api_kind", "key_source", "keyring_service",
                 "keyring_username", "key_env", "key_command", "key_required", "headers", "api_version", "updated")
        return "ActiveSelection(" + ", ".join(f"{n}={getattr(self, n)!r}" for n in names) + ")"

    def updated_text(self) -> str | None:
        """``YYYY-MM-DD HH:MM UTC`` (without importing datetime when the value came from the cache)."""
        value = self._updated
        if value is None:
            return None
        if isinstance(value, str) and value.endswith("+00:00") and len(value) >= 16:
            return f"{value[:10]} {value[11:16]} UTC"
        moment = self.updated
        if moment is None:
            return None
        if moment.tzinfo is not None:
            from datetime import UTC

            moment = moment.astimezone(UTC)
        return f"{moment:%Y-%m-%d %H:%M} UTC"

    def _table(self) -> dict[str, Any]:
        """The documented fields in file order, without ``updated`` and ``headers``."""
        table: dict[str, Any] = {"provider": self.provider, "model": self.model, "base_url": self.base_url,
                                 "api_kind": self.api_kind, "key_source": self.key_source}
        if self.keyring_service:
            table["keyring_service"] = self.keyring_service
            table["keyring_username"] = self.keyring_username
        if self.key_env:
            table["key_env"] = list(self.key_env)
        if self.key_command:
            table["key_command"] = self.key_command
        table["key_required"] = self.key_required
        if self.api_version:
            table["api_version"] = self.api_version
        return table

    def to_toml_table(self) -> dict[str, Any]:
        """The role's table as ``active.toml`` holds it."""
        table = self._table()
        table["updated"] = self.updated or _now()
        if self.headers:
            table["headers"] = dict(self.headers)
        return table

    def as_dict(self) -> dict[str, Any]:
        """The documented fields as JSON-ready data (``updated`` as ISO 8601 with ``Z``, None when never written)."""
        data = {"role": self.role, **self._table()}
        value = self._updated
        updated = value if isinstance(value, str) or value is None else value.isoformat()
        data["updated"] = updated and updated.replace("+00:00", "Z")  # None: not saved (a scope names only a ref)
        data["headers"] = dict(self.headers)
        return data


def _now() -> datetime:
    from datetime import UTC, datetime

    return datetime.now(UTC).replace(microsecond=0)


# --- reading ----------------------------------------------------------------------------------

class FileState:
    """Identity of the file on disk, for cheap change checks."""

    __slots__ = ("inode", "mtime_ns", "size")

    def __init__(self, mtime_ns: int, size: int, inode: int) -> None:
        self.mtime_ns = mtime_ns
        self.size = size
        self.inode = inode

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, FileState):
            return NotImplemented
        return (self.mtime_ns, self.size, self.inode) == (other.mtime_ns, other.size, other.inode)

    def __hash__(self) -> int:
        return hash((self.mtime_ns, self.size, self.inode))

    def __repr__(self) -> str:
        return f"FileState(mtime_ns={self.mtime_ns}, size={self.size}, inode={self.inode})"


def file_state(path: Path | str | None = None) -> FileState | None:
    try:
        st = os.stat(paths.active_path() if path is None else path)
    except FileNotFoundError:
        return None
    return FileState(st.st_mtime_ns, st.st_size, st.st_ino)


def read_all(path: Path | str | None = None) -> dict[str, ActiveSelection]:
    """Every role in the file; an absent file is an empty mapping."""
    name = paths.active_path() if path is None else os.fspath(path)
    raw = _store.read_trusted(name)
    if raw is None:
        return {}
    data = _store.cached(name, raw)
    if data is None:
        data = _store.parse(raw, name)
    return _roles_from(data, name)


def _roles_from(data: dict[str, Any], path: Path | str) -> dict[str, ActiveSelection]:
    name = str(path)
    version = data.get("version")
    if type(version) is not int or version != SCHEMA_VERSION:  # true and 1.0 are not 1
        raise _error(f"schema version {version!r} is not {SCHEMA_VERSION}",
                     f"upgrade llmswitch, or delete the file and {_REWRITE}", name)
    roles = data.get("roles")
    if not isinstance(roles, dict):
        raise _error("has no [roles.*] tables", _REWRITE, name)
    return {role: _selection(role, table, name) for role, table in roles.items()}


def _control(text: str) -> bool:
    return any(c < " " or "\x7f" <= c <= "\x9f" for c in text)


def url_problem(url: str) -> str | None:
    """Why a ``base_url`` read from active.toml must not be used, or None (string checks only, no urllib)."""
    if _control(url):
        return "contains control characters"
    scheme, sep, rest = url.partition("://")
    if not sep or scheme.lower() not in ("http", "https"):
        return "is not an http:// or https:// URL"
    authority = rest.split("/", 1)[0].split("?", 1)[0].split("#", 1)[0]
    if "@" in authority:
        return "has credentials in it (user:pass@)"
    if not authority or authority.startswith(":"):
        return "has no host"
    return None


def _selection(role: str, table: Any, path: str) -> ActiveSelection:
    def bad(what: str) -> LlmswitchError:
        return _error(f"roles.{role}.{what}", f"run: llmswitch use --role {role} PROVIDER/MODEL to rewrite it", path)

    if type(role) is not str or _control(role):
        raise bad("has control characters in the role name")
    if not isinstance(table, dict):
        raise bad("is not a table")
    for required in ("provider", "model", "base_url"):
        value = table.get(required)
        if type(value) is not str or not value:
            raise bad(f"{required} is missing or not a string")
        if _control(value):
            raise bad(f"{required} contains control characters")
    why = url_problem(table["base_url"])
    if why:
        raise bad(f"base_url {why}")
    source = table.get("key_source", "keyring")
    if source not in KEY_SOURCES:
        raise bad(f"key_source {source!r} is not one of {', '.join(KEY_SOURCES)}")
    headers = table.get("headers", {})
    key_env = table.get("key_env", [])
    if type(headers) is not dict or not all(type(v) is str for v in headers.values()):
        raise bad("headers is not a table of strings")
    if any(_control(k) or _control(v) for k, v in headers.items()):
        raise bad("headers contains control characters")
    if type(key_env) is not list or not all(type(v) is str and v and not _control(v) for v in key_env):
        raise bad("key_env is not a list of names")
    for optional in _OPTIONAL_TEXT:
        if optional in table:
            value = table[optional]
            if type(value) is not str:
                raise bad(f"{optional} is not a string")
            if _control(value):
                raise bad(f"{optional} contains control characters")
    required = table.get("key_required", True)
    if type(required) is not bool:
        raise bad("key_required is not true or false")
    return ActiveSelection(
        role=role,
        provider=table["provider"],
        model=table["model"],
        base_url=table["base_url"],
        api_kind=table.get("api_kind", "openai"),
        key_source=source,
        keyring_service=table.get("keyring_service"),
        keyring_username=table.get("keyring_username"),
        key_env=tuple(key_env),
        key_command=table.get("key_command"),
        key_required=required,
        headers=dict(headers),
        api_version=table.get("api_version"),
        updated=_updated(table.get("updated")),
    )


def _updated(value: object) -> datetime | str | None:
    if type(value) is tuple and len(value) == 2 and value[0] == "datetime" and type(value[1]) is str:
        return value[1]  # from the cache: parsed when someone asks for .updated
    from datetime import datetime

    return value if isinstance(value, datetime) else None


def read(role: str = DEFAULT_ROLE, path: Path | str | None = None) -> ActiveSelection:
    """The selection for ``role``; raises NoSelection (with the fix) when there is none."""
    name = paths.active_path() if path is None else os.fspath(path)
    roles = read_all(name)
    if role in roles:
        return roles[role]
    if not roles:
        why = "has no roles" if os.path.exists(name) else "does not exist"
        raise _error(f"no model selected yet ({name} {why})", _REWRITE, None, missing=True)
    flag = "" if role == DEFAULT_ROLE else f" --role {role}"
    raise _error(f"no model selected for role {role!r} (roles set: {', '.join(sorted(roles))})",
                 f"run: llmswitch use{flag} PROVIDER/MODEL", None, missing=True)


# --- writing ----------------------------------------------------------------------------------

def check_role(role: str) -> None:
    if not _role_name().match(role):
        raise _error(f"role {role!r} must be lowercase letters, digits, '-' or '_'",
                     "e.g. default, small, embedding", None)


def write(selection: ActiveSelection, path: Path | str | None = None) -> None:
    """Set one role atomically, under the lock, keeping the other roles."""
    _store.update(lambda roles: {**roles, selection.role: selection}, path, selection.role)


def clear(role: str, path: Path | str | None = None) -> bool:
    """Remove a role (never ``default`` while others exist); False when it was not set."""
    removed = False

    def drop(roles: dict[str, ActiveSelection]) -> dict[str, ActiveSelection]:
        nonlocal removed
        if role not in roles:
            return roles
        if role == DEFAULT_ROLE and len(roles) > 1:
            raise _error("the default role is required while other roles are set",
                         "clear those first (llmswitch use --role ROLE --unset)", None)
        removed = True
        return {name: sel for name, sel in roles.items() if name != role}

    _store.update(drop, path, role)
    return removed


HEADER = """\
# Written by llmswitch; edit with `llmswitch use`. Other tools read it:
# see docs/tool-authors.md in llmswitch's repository. No key is ever stored here.
"""
