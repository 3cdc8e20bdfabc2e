"""The registry of connections (``connections.json`` in the state dir) and the one-time backups.

One entry per connected tool::

    {"roles": {"main": "default", "weak": "cheap"},          # tool role -> llmswitch role
     "files": {"config": {"path": "/home/u/.aider.conf.yml",
                          "existed": true, "sha256": "…"}},  # what we last wrote
     "key": {"kind": "LAUNCHER", "name": "OPENAI_API_KEY"},
     "memory": {…},                                          # tool-specific (a JSON member's old value)
     "connected": "2026-12-02T01:00:00+00:00"}

Backups: ``connect-backups/TOOL/LABEL`` holds each file as it was before the first
``connect`` (absent files are recorded as ``existed: false``); later connects and
follows never overwrite it. ``disconnect`` removes it when the restore was exact.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from .. import paths

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
    from ..files import atomic_write

    if not tools:
        registry_path().unlink(missing_ok=True)
        return
    atomic_write(registry_path(), json.dumps({"version": VERSION, "tools": tools}, indent=1,
                                             sort_keys=True).encode())


def now() -> str:
    from datetime import UTC, datetime

    return datetime.now(UTC).replace(microsecond=0).isoformat()


def keep_backup(tool: str, label: str, text: str | None) -> None:
    """Save ``text`` as the file's state before the first connect (never overwritten later)."""
    from ..files import atomic_write

    path = backup_path(tool, label)
    if path.exists() or text is None:
        return
    atomic_write(path, text.encode())


def read_backup(tool: str, label: str) -> str | None:
    try:
        return backup_path(tool, label).read_text(encoding="utf-8")
    except OSError:
        return None


def drop_backup(tool: str, label: str) -> None:
    path = backup_path(tool, label)
    try:
        path.unlink()
        path.parent.rmdir()
    except OSError:
        pass
