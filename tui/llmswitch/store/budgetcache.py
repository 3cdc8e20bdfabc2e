"""The last budget a gateway reported, read without pathlib, platformdirs or dataclasses.

``llmswitch current --json`` is on the read path (see :mod:`llmswitch.boundaries`): it may
load ``json`` and nothing heavy, so it reads the copy :mod:`llmswitch.services.budget` keeps
(``STATE_DIR/gateway/ID.budget.json``) with ``os`` alone and says how old it is. On Linux
the state dir follows the XDG rule directly (``$LLMSWITCH_STATE_DIR``, else
``$XDG_STATE_HOME/llmswitch``, else ``~/.local/state/llmswitch``, as platformdirs does);
elsewhere :func:`llmswitch.base.paths.state_dir` decides.
"""

from __future__ import annotations

import os
import sys
import time

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

SUFFIX = ".budget.json"


def state_dir_name() -> str:
    """The state dir as a string (the one :func:`llmswitch.base.paths.state_dir` names)."""
    override = os.environ.get("LLMSWITCH_STATE_DIR")
    if override:
        return os.path.expanduser(override)
    if sys.platform.startswith("linux") and not os.environ.get("ANDROID_DATA"):
        xdg = os.environ.get("XDG_STATE_HOME", "")
        if xdg.startswith("/"):
            return os.path.join(xdg, "llmswitch")
        home = os.environ.get("HOME", "")
        if home.startswith("/"):
            return os.path.join(home, ".local", "state", "llmswitch")
    from ..base import paths

    return str(paths.state_dir())


def path(provider_id: str) -> str:
    return os.path.join(state_dir_name(), "gateway", provider_id + SUFFIX)


def read(provider_id: str, base_url: str | None) -> dict[str, Any] | None:
    """The kept budget of ``provider_id`` at ``base_url`` with its ``age_seconds``, or None. Never raises."""
    import json

    try:
        with open(path(provider_id), encoding="utf-8") as handle:
            document = json.load(handle)
    except (OSError, ValueError):
        return None
    if not isinstance(document, dict) or document.get("base_url") != base_url:
        return None
    fetched = document.get("fetched_epoch")
    if isinstance(fetched, bool) or not isinstance(fetched, int | float):
        return None
    shown = {k: document.get(k) for k in ("source", "limit", "remaining", "usage", "reset", "unavailable", "fix")}
    return {**shown, "fetched": document.get("fetched"), "age_seconds": max(0, round(time.time() - fetched))}
