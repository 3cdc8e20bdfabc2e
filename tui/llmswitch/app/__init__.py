"""The Textual app: model picker, provider editor, first-run setup wizard.

This module stays cheap to import: Textual is imported inside :func:`run`
and :func:`pick`, so ``llmswitch --help`` never pays for it.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

from ..base.errors import Exit

if TYPE_CHECKING:
    from ..store.config import Config


def _load_config_or_report() -> Config | None:
    """The Config, or None after printing why it cannot be used (the caller exits with ``Exit.USAGE``)."""
    from ..store.config import ConfigError, load

    try:
        return load()
    except ConfigError as exc:
        from ..base.redact import terminal_safe_lines

        # the error's own sentence (its problems, each with file:line and fix); the file's text made inert
        sys.stderr.write(f"llmswitch: {terminal_safe_lines(str(exc))}\n")
        return None


def run(setup: bool = False) -> int:
    """Open the picker (and the setup wizard when asked, or when there is no providers file)."""
    config = _load_config_or_report()
    if config is None:
        return Exit.USAGE
    from .app import LLMSwitchApp

    app = LLMSwitchApp(setup=setup or not config.exists, config=config)
    app.run()
    return app.return_code or Exit.OK


def pick(role: str = "default") -> str | None:
    """Run the model picker inline and return the chosen ``provider/model`` (None when cancelled).

    Nothing is written: the caller (e.g. a REPL's ``/model``) decides the scope.
    """
    config = _load_config_or_report()
    if config is None:
        return None
    from .app import LLMSwitchApp

    app = LLMSwitchApp(pick_role=role, config=config)
    return app.run(inline=True)
