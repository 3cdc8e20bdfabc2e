"""Kilo CLI (npm ``@kilocode/cli``, command ``kilo``): its global config in ``~/.config/kilo``.

Kilo CLI is built on opencode and reads the same config format (JSON with comments and trailing commas):
a ``provider`` entry with ``@ai-sdk/openai-compatible``, ``options.baseURL`` and ``options.apiKey`` as
``{env:VAR}`` (its own substitution, read when it starts), ``model`` and ``small_model`` as
``PROVIDER/MODEL`` — so this module is :mod:`.opencode`'s rules in Kilo's place. Its folder is
``$KILO_CONFIG_DIR``, else ``$XDG_CONFIG_HOME/kilo`` (``~/.config/kilo``), where it merges
``config.json``, ``kilo.json``, ``kilo.jsonc``, ``opencode.json`` and ``opencode.jsonc`` in that order, a
later file winning; llmswitch writes the last of them that exists (``kilo.json`` when none does), so no
global file of the user's overrides it.

The key: the provider's own env var when that is its key source, else ``OPENAI_API_KEY``, set by
``llmswitch exec -- kilo``. Roles: ``main`` → ``model``, ``small`` → ``small_model`` (titles), on the same
endpoint; protocol: chat completions.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from .base import home
from .opencode import Opencode

if TYPE_CHECKING:
    from collections.abc import Mapping
    from pathlib import Path

CONFIG_NAMES = ("config.json", "kilo.json", "kilo.jsonc", "opencode.json", "opencode.jsonc")
"""The files Kilo merges in its folder, in its order (a later one wins)."""
NEW_FILE = "kilo.json"


def root(environ: Mapping[str, str] | None = None) -> Path:
    """``$KILO_CONFIG_DIR``, else ``$XDG_CONFIG_HOME/kilo`` (``~/.config/kilo``)."""
    from pathlib import Path

    environ = os.environ if environ is None else environ
    if environ.get("KILO_CONFIG_DIR"):
        return Path(environ["KILO_CONFIG_DIR"])
    xdg = environ.get("XDG_CONFIG_HOME")
    return (Path(xdg) if xdg else home(environ) / ".config") / "kilo"


class Kilo(Opencode):
    name = "kilo"
    title = "Kilo CLI"
    package = "npm:@kilocode/cli"
    command = "kilo"
    verified = "7.7.7"

    def config_paths(self, environ: Mapping[str, str]) -> list[Path]:
        return [root(environ) / name for name in CONFIG_NAMES]

    def files(self, environ: Mapping[str, str] | None = None) -> dict[str, Path]:
        paths = self.config_paths(os.environ if environ is None else environ)
        existing = [path for path in paths if path.exists()]
        return {"config": existing[-1] if existing else root(environ) / NEW_FILE}


TOOL = Kilo()
