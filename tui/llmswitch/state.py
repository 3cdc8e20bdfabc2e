"""What llmswitch remembers between runs (all safe to delete).

* the last model list each provider answered with (cache dir), so ``use``
  can warn about typos and REPL completion works offline;
* recently used models (state dir), shown first in pickers.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import paths

if TYPE_CHECKING:
    from .probe.outcome import ProbeResult

RECENT_LIMIT = 20


def _models_path(provider_id: str) -> Path:
    return paths.cache_dir() / "models" / f"{provider_id}.json"


def remember_models(provider_id: str, base_url: str, models: list[str] | tuple[str, ...],
                    server: str | None = None) -> None:
    """Keep a provider's live model list (from a probe) and the software its fingerprint named."""
    from .files import atomic_write

    document = {"provider": provider_id, "base_url": base_url, "models": list(models),
                "fetched": datetime.now(UTC).replace(microsecond=0).isoformat(), "server": server}
    atomic_write(_models_path(provider_id), json.dumps(document, indent=1).encode())


def remember(result: ProbeResult, base_url: str | None) -> bool:
    """Keep what a probe learned about a provider: its live model list, when the answer was a real list.

    The one place that decides which probe results are worth remembering (``probe.LISTED``
    with at least one model), so the CLI, the picker, the editor, the wizard and the REPL agree.
    Returns True when something was written.
    """
    from .probe.outcome import LISTED

    if not base_url or not result.models or result.outcome not in LISTED:
        return False
    remember_models(result.provider, base_url, result.models, result.server)
    return True


def _models_document(provider_id: str, base_url: str | None) -> dict[str, Any] | None:
    try:
        document = json.loads(_models_path(provider_id).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(document, dict) or not isinstance(document.get("models"), list):
        return None
    if base_url is not None and document.get("base_url") != base_url:
        return None
    return document


def known_models(provider_id: str, base_url: str | None = None) -> list[str] | None:
    """The last live model list, or None (never probed, or probed at another URL)."""
    document = _models_document(provider_id, base_url)
    return None if document is None else [m for m in document["models"] if isinstance(m, str)]


def known_server(provider_id: str, base_url: str | None = None) -> str | None:
    """The software the last listing probe's fingerprint named (``LiteLLM proxy``), or None."""
    document = _models_document(provider_id, base_url)
    server = None if document is None else document.get("server")
    return server if isinstance(server, str) else None


def _recent_path() -> Path:
    return paths.state_dir() / "recent.json"


def recent(limit: int = RECENT_LIMIT) -> list[str]:
    """Recently selected ``provider/model`` refs, newest first."""
    try:
        refs = json.loads(_recent_path().read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []
    return [r for r in refs if isinstance(r, str)][:limit] if isinstance(refs, list) else []


def add_recent(ref: str, limit: int = RECENT_LIMIT) -> None:
    from .files import atomic_write, locked

    path = _recent_path()
    with locked(path):
        refs = [ref, *(r for r in recent(limit) if r != ref)][:limit]
        atomic_write(path, json.dumps(refs).encode())
