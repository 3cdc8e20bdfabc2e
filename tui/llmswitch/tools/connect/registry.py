"""The registry of connections (``connections.json`` in the state dir) and each cycle's backups.

One entry per connected tool::

    {"roles": {"main": "default", "weak": "cheap"},          # tool role -> llmswitch role
     "files": {"config": {"path": "/home/u/.aider.conf.yml", # the exact path written at connect time
                          "existed": true,                   # before this cycle (else llmswitch created it)
                          "sha256": "…",                     # of what llmswitch last wrote there
                          "exact": true,                     # no user edit was taken in since the backup
                          "backup": "…"}},                   # sha256 of this cycle's backup
     "owned": {"config:aider": "model: …\n"},               # what each of our parts held when we wrote it
     "key": {"kind": "LAUNCHER", "name": "OPENAI_API_KEY"},
     "memory": {…},                                          # tool-specific (a JSON member's old value)
     "pending": {…},                                         # only while a write is under way (see engine)
     "connected": "2026-12-02T01:00:00+00:00"}

Backups: ``connect-backups/TOOL/LABEL`` holds each file as it was when this connection
cycle began (``connect`` of a tool not connected, or moved); a new cycle replaces it, and
``disconnect`` removes it. A backup is only ever used when its sha256 is the one the entry
recorded, so a stale one from an earlier cycle (or a killed run) can never come back.
Only llmswitch's own state dir holds these, and the lock (``.connections.json.lock``).
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from ...base import paths

if TYPE_CHECKING:
    from pathlib import Path

VERSION = 1


def registry_path() -> Path:
    return paths.state_dir() / "connections.json"


def backup_path(tool: str, label: str) -> Path:
    return paths.state_dir() / "connect-backups" / tool / label


def connected() -> bool:
    """Whether any tool is connected: one stat, so ``switch`` pays nothing more when none is."""
    return registry_path().exists()


def digest(text: str | None) -> str | None:
    import hashlib

    return None if text is None else hashlib.sha256(text.encode()).hexdigest()


def load() -> dict[str, dict[str, Any]]:
    """Tool name → entry; an absent or unreadable registry is empty (nothing is connected)."""
    try:
        data = json.loads(registry_path().read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    tools = data.get("tools") if isinstance(data, dict) else None
    return {k: v for k, v in tools.items() if isinstance(v, dict)} if isinstance(tools, dict) else {}


def save(tools: dict[str, dict[str, Any]]) -> None:
    """Write the registry; with nothing connected it goes away (so :func:`connected` is one stat)."""
    from ...base.files import atomic_write

    if not tools:
        registry_path().unlink(missing_ok=True)
        return
    atomic_write(registry_path(), json.dumps({"version": VERSION, "tools": tools}, indent=1,
                                             sort_keys=True).encode())


def now() -> str:
    from datetime import UTC, datetime

    return datetime.now(UTC).replace(microsecond=0).isoformat()


def keep_backup(tool: str, label: str, text: str | None) -> str | None:
    """Save ``text`` as the file's state at the start of this cycle (replacing an older cycle's); its sha256."""
    from ...base.files import atomic_write

    path = backup_path(tool, label)
    if text is None:
        path.unlink(missing_ok=True)
        return None
    atomic_write(path, text.encode())
    return digest(text)


def read_backup(tool: str, label: str, sha256: str | None) -> str | None:
    """This cycle's backup, only when it is the one recorded (``sha256``); else None."""
    if sha256 is None:
        return None
    try:
        text = backup_path(tool, label).read_text(encoding="utf-8")
    except OSError:
        return None
    return text if digest(text) == sha256 else None


def drop_backups(tool: str) -> None:
    import shutil

    shutil.rmtree(paths.state_dir() / "connect-backups" / tool, ignore_errors=True)
    try:
        (paths.state_dir() / "connect-backups").rmdir()  # when no other tool has one
    except OSError:
        pass
