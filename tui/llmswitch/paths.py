"""Where llmswitch keeps its files.

Everything lives under ``platformdirs.user_config_path("llmswitch")`` unless
``LLMSWITCH_CONFIG_DIR`` says otherwise; caches and state follow the
platform's cache/state dirs (``LLMSWITCH_CACHE_DIR`` / ``LLMSWITCH_STATE_DIR``
override them). Nothing here creates a directory: reading never creates files.
"""

from __future__ import annotations

import os
from pathlib import Path

CONFIG_FILE = "config.toml"
ACTIVE_FILE = "active.toml"


def config_dir() -> Path:
    """The directory holding ``config.toml`` and ``active.toml``."""
    override = os.environ.get("LLMSWITCH_CONFIG_DIR")
    if override:
        return Path(override).expanduser()
    import platformdirs  # small, and only needed when no override is set

    return platformdirs.user_config_path("llmswitch", appauthor=False)


def cache_dir() -> Path:
    """Where the last probe's model lists are kept (safe to delete)."""
    override = os.environ.get("LLMSWITCH_CACHE_DIR")
    if override:
        return Path(override).expanduser()
    import platformdirs

    return platformdirs.user_cache_path("llmswitch", appauthor=False)


def state_dir() -> Path:
    """Where history (REPL lines, recent models) is kept."""
    override = os.environ.get("LLMSWITCH_STATE_DIR")
    if override:
        return Path(override).expanduser()
    import platformdirs

    return platformdirs.user_state_path("llmswitch", appauthor=False)


def config_file() -> Path:
    return config_dir() / CONFIG_FILE


def active_file() -> Path:
    return config_dir() / ACTIVE_FILE
