"""The active selection (``active.toml``): the contract other tools read.

Reading is stdlib-only and cheap (this module is on the read path of
``llmswitch current`` and ``llmswitch.active()``): no textual, httpx,
keyring or openai. Writing is atomic and locked (see :mod:`llmswitch.files`).

File layout (documented in README, "For tool authors")::

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
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from . import paths

SCHEMA_VERSION = 1
DEFAULT_ROLE = "default"
ROLE_NAME = re.compile(r"^[a-z][a-z0-9_-]{0,31}$")
KEY_SOURCES = ("keyring", "env", "command", "none")


class SelectionError(Exception):
    """``active.toml`` is missing, unreadable or not in the documented shape."""


class NoSelection(SelectionError):
    """Nothing has been selected for the role yet."""


@dataclass(frozen=True)
class ActiveSelection:
    """One role's selection, exactly as other tools should use it."""

    role: str
    provider: str
    """Provider id (``openrouter``, ``ollama``, a custom id)."""
    model: str
    """Model id as the provider's API expects it."""
    base_url: str
    """The resolved endpoint root; tools must use it as-is."""
    api_kind: str = "openai"
    """``openai`` (chat completions), ``azure`` or ``anthropic``."""
    key_source: str = "keyring"
    """Where the key lives: keyring | env | command | none."""
    keyring_service: str | None = None
    keyring_username: str | None = None
    key_env: tuple[str, ...] = ()
    """Env vars that may hold the key, in the order llmswitch tries them."""
    key_command: str | None = None
    key_required: bool = True
    headers: dict[str, str] = field(default_factory=dict)
    """Extra non-secret headers to send."""
    api_version: str | None = None
    updated: datetime | None = None

    @property
    def ref(self) -> str:
        """``provider/model``."""
        return f"{self.provider}/{self.model}"

    def to_toml_table(self) -> dict[str, Any]:
        table: dict[str, Any] = {
            "provider": self.provider,
            "model": self.model,
            "base_url": self.base_url,
            "api_kind": self.api_kind,
            "key_source": self.key_source,
        }
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
        table["updated"] = self.updated or _now()
        if self.headers:
            table["headers"] = dict(self.headers)
        return table

    def as_dict(self) -> dict[str, Any]:
        data = {"role": self.role, **self.to_toml_table()}
        data["updated"] = data["updated"].isoformat().replace("+00:00", "Z")
        data.setdefault("headers", {})
        return data


def _now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


# --- reading (stdlib only) --------------------------------------------------------------------

@dataclass(frozen=True)
class FileState:
    """Identity of the file on disk, for cheap change checks."""

    mtime_ns: int
    size: int
    inode: int


def file_state(path: Path | None = None) -> FileState | None:
    path = path or paths.active_file()
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return None
    return FileState(st.st_mtime_ns, st.st_size, st.st_ino)


def read_all(path: Path | None = None) -> dict[str, ActiveSelection]:
    """Every role in the file; an absent file is an empty mapping."""
    import tomllib

    path = path or paths.active_file()
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return {}
    except OSError as exc:
        raise SelectionError(f"{path}: cannot be read ({exc.strerror}) — check its permissions") from None
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise SelectionError(f"{path}: not valid TOML ({exc}) — fix it, or delete it and run: llmswitch use PROVIDER/MODEL") from None
    return _roles_from(data, path)


def _roles_from(data: dict[str, Any], path: Path) -> dict[str, ActiveSelection]:
    version = data.get("version")
    if version != SCHEMA_VERSION:
        raise SelectionError(f"{path}: schema version {version!r} is not {SCHEMA_VERSION} — upgrade llmswitch, "
                             f"or delete the file and run: llmswitch use PROVIDER/MODEL")
    roles = data.get("roles")
    if not isinstance(roles, dict):
        raise SelectionError(f"{path}: has no [roles.*] tables — run: llmswitch use PROVIDER/MODEL")
    return {name: _selection(name, table, path) for name, table in roles.items()}


def _selection(role: str, table: Any, path: Path) -> ActiveSelection:
    def bad(what: str) -> SelectionError:
        return SelectionError(f"{path}: roles.{role}.{what} — run: llmswitch use --role {role} PROVIDER/MODEL to rewrite it")

    if not isinstance(table, dict):
        raise bad("is not a table")
    for required in ("provider", "model", "base_url"):
        if not isinstance(table.get(required), str) or not table[required]:
            raise bad(f"{required} is missing or not a string")
    source = table.get("key_source", "keyring")
    if source not in KEY_SOURCES:
        raise bad(f"key_source {source!r} is not one of {', '.join(KEY_SOURCES)}")
    headers = table.get("headers", {})
    key_env = table.get("key_env", [])
    if not isinstance(headers, dict) or not all(isinstance(v, str) for v in headers.values()):
        raise bad("headers is not a table of strings")
    if not isinstance(key_env, list) or not all(isinstance(v, str) for v in key_env):
        raise bad("key_env is not a list of strings")
    for optional in ("keyring_service", "keyring_username", "key_command", "api_version", "api_kind"):
        if optional in table and not isinstance(table[optional], str):
            raise bad(f"{optional} is not a string")
    if not isinstance(table.get("key_required", True), bool):
        raise bad("key_required is not true or false")
    updated = table.get("updated")
    return ActiveSelection(
        role=role,
        provider=table["provider"],
        model=table["model"],
        base_url=table["base_url"],
        api_kind=str(table.get("api_kind", "openai")),
        key_source=source,
        keyring_service=table.get("keyring_service"),
        keyring_username=table.get("keyring_username"),
        key_env=tuple(key_env),
        key_command=table.get("key_command"),
        key_required=table.get("key_required", True),
        headers=dict(headers),
        api_version=table.get("api_version"),
        updated=updated if isinstance(updated, datetime) else None,
    )


def read(role: str = DEFAULT_ROLE, path: Path | None = None) -> ActiveSelection:
    """The selection for ``role``; raises NoSelection (with the fix) when there is none."""
    path = path or paths.active_file()
    roles = read_all(path)
    if role in roles:
        return roles[role]
    if not roles:
        raise NoSelection(f"no model selected yet ({path} does not exist) — run: llmswitch use PROVIDER/MODEL")
    flag = "" if role == DEFAULT_ROLE else f" --role {role}"
    raise NoSelection(f"no model selected for role {role!r} (roles set: {', '.join(sorted(roles))}) — "
                      f"run: llmswitch use{flag} PROVIDER/MODEL")


# --- writing ----------------------------------------------------------------------------------

def check_role(role: str) -> None:
    if not ROLE_NAME.match(role):
        raise SelectionError(f"role {role!r} must be lowercase letters, digits, '-' or '_' (e.g. default, small, embedding)")


def write(selection: ActiveSelection, path: Path | None = None) -> None:
    """Set one role atomically, under the lock, keeping the other roles."""
    _update(lambda roles: {**roles, selection.role: selection}, path, selection.role)


def clear(role: str, path: Path | None = None) -> bool:
    """Remove a role (never ``default`` while others exist); False when it was not set."""
    removed = False

    def drop(roles: dict[str, ActiveSelection]) -> dict[str, ActiveSelection]:
        nonlocal removed
        if role not in roles:
            return roles
        if role == DEFAULT_ROLE and len(roles) > 1:
            raise SelectionError("the default role is required while other roles are set — "
                                 "clear those first (llmswitch use --role ROLE --unset)")
        removed = True
        return {name: sel for name, sel in roles.items() if name != role}

    _update(drop, path, role)
    return removed


def _update(change, path: Path | None, role: str) -> None:
    import tomli_w

    from .files import atomic_write, locked

    check_role(role)
    path = path or paths.active_file()
    with locked(path):
        roles = change(read_all(path))
        if roles and DEFAULT_ROLE not in roles:
            raise SelectionError(f"set the default model before role {role!r} — run: llmswitch use PROVIDER/MODEL")
        if not roles:
            if path.exists():
                path.unlink()
            return
        now = _now()
        ordered = sorted(roles.items(), key=lambda item: (item[0] != DEFAULT_ROLE, item[0]))
        document = {
            "version": SCHEMA_VERSION,
            "updated": now,
            "roles": {name: sel.to_toml_table() for name, sel in ordered},
        }
        body = tomli_w.dumps(document)
        atomic_write(path, (HEADER + body).encode("utf-8"))


HEADER = """\
# Written by llmswitch; edit with `llmswitch use`. Other tools read it:
# see "For tool authors" in llmswitch's README. No key is ever stored here.
"""
