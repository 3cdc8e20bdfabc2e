"""Where llmswitch keeps its files.

Everything lives under ``platformdirs.user_config_path("llmswitch")`` unless
``LLMSWITCH_CONFIG_DIR`` says otherwise; caches and state follow the
platform's cache/state dirs (``LLMSWITCH_CACHE_DIR`` / ``LLMSWITCH_STATE_DIR``
override them). Nothing here creates a directory: reading never creates files.

The read path (``llmswitch current``, ``llmswitch.active()``) uses the ``str``
functions (:func:`config_dir_name`, :func:`active_path`): on 3.11 ``pathlib``
imports ``urllib.parse`` and ``ipaddress``, and ``platformdirs`` costs as much
again, so on Linux the XDG rule is applied here directly (a test checks it
against platformdirs) and platformdirs is consulted only where that rule does
not hold (other platforms, a relative ``$HOME``, Android).
"""

from __future__ import annotations

import os
import sys

TYPE_CHECKING = False
if TYPE_CHECKING:
    from pathlib import Path

CONFIG_FILE = "config.toml"
ACTIVE_FILE = "active.toml"
APP = "llmswitch"


def is_plain_linux() -> bool:
    """Linux that is not Android: where the XDG rules below hold (and keyring keeps its config under XDG too)."""
    return sys.platform.startswith("linux") and not hasattr(sys, "getandroidapilevel") \
        and not os.environ.get("ANDROID_DATA")


def _linux_config_home() -> str | None:
    """``$XDG_CONFIG_HOME`` (if absolute) or ``~/.config`` on plain Linux; None where platformdirs must decide."""
    if not is_plain_linux():
        return None
    xdg = os.environ.get("XDG_CONFIG_HOME", "")
    if xdg.startswith("/"):
        return xdg
    home = os.environ.get("HOME", "")
    return os.path.join(home, ".config") if home.startswith("/") else None


def config_dir_name() -> str:
    """The directory holding ``config.toml`` and ``active.toml``, as a string (no pathlib)."""
    override = os.environ.get("LLMSWITCH_CONFIG_DIR")
    if override:
        return os.path.expanduser(override)
    base = _linux_config_home()
    if base is not None:
        return os.path.join(base, APP)
    import platformdirs

    return platformdirs.user_config_dir(APP, appauthor=False)


def active_path() -> str:
    """``active.toml``'s path as a string: what the read path uses."""
    return os.path.join(config_dir_name(), ACTIVE_FILE)


def state_dir_name() -> str:
    """:func:`state_dir` as a string, by the same rule as :func:`config_dir_name` (the read path's trust list)."""
    override = os.environ.get("LLMSWITCH_STATE_DIR")
    if override:
        return os.path.expanduser(override)
    xdg, home = os.environ.get("XDG_STATE_HOME", ""), os.environ.get("HOME", "")
    if _linux_config_home() is not None and (xdg.startswith("/") or home.startswith("/")):
        return os.path.join(xdg if xdg.startswith("/") else os.path.join(home, ".local", "state"), APP)
    return os.fspath(state_dir())


def cache_dir_name() -> str:
    """:func:`cache_dir` as a string, by the same rule as :func:`state_dir_name` (``key get``'s hot path)."""
    override = os.environ.get("LLMSWITCH_CACHE_DIR")
    if override:
        return os.path.expanduser(override)
    xdg, home = os.environ.get("XDG_CACHE_HOME", ""), os.environ.get("HOME", "")
    if _linux_config_home() is not None and (xdg.startswith("/") or home.startswith("/")):
        return os.path.join(xdg if xdg.startswith("/") else os.path.join(home, ".cache"), APP)
    return os.fspath(cache_dir())


def config_dir() -> Path:
    """The directory holding ``config.toml`` and ``active.toml``."""
    from pathlib import Path

    return Path(config_dir_name())


def cache_dir() -> Path:
    """Where the last probe's model lists are kept (safe to delete)."""
    from pathlib import Path

    override = os.environ.get("LLMSWITCH_CACHE_DIR")
    if override:
        return Path(override).expanduser()
    import platformdirs

    return platformdirs.user_cache_path(APP, appauthor=False)


def state_dir() -> Path:
    """Where history (REPL lines, recent models) is kept."""
    from pathlib import Path

    override = os.environ.get("LLMSWITCH_STATE_DIR")
    if override:
        return Path(override).expanduser()
    import platformdirs

    return platformdirs.user_state_path(APP, appauthor=False)


def config_file() -> Path:
    return config_dir() / CONFIG_FILE


def active_file() -> Path:
    return config_dir() / ACTIVE_FILE


# --- calling llmswitch again from another program ----------------------------------------------

def executable() -> list[str]:
    """How to call this llmswitch again from a shell snippet."""
    argv0 = sys.argv[0] if sys.argv else ""
    if os.path.basename(argv0) in ("llmswitch", "llmswitch.exe") and os.path.isabs(argv0):
        return [argv0]
    return [sys.executable, "-m", "llmswitch"]


def key_get_command(provider: str) -> str:
    """``llmswitch key get PROVIDER`` as one shell command line (the llmswitch that runs now), each word quoted."""
    import shlex

    return " ".join(shlex.quote(part) for part in [*executable(), "key", "get", provider])
