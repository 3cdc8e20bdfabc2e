"""The Textual app: model picker, provider editor, first-run setup wizard.

This module stays cheap to import: Textual is imported inside :func:`run`
and :func:`pick`, so ``llmswitch --help`` never pays for it.
"""

from __future__ import annotations

import sys

EXIT_CONFIG = 2


def _load_config_or_report():
    """The Config, or None after printing its problems (the caller exits 2)."""
    from ..config import ConfigError, load

    try:
        return load()
    except ConfigError as exc:
        sys.stderr.write("llmswitch: the providers file has problems:\n")
        for problem in exc.problems:
            sys.stderr.write(f"  {problem}\n")
        sys.stderr.write("Fix them (llmswitch config check shows them again), then run llmswitch.\n")
        return None


def run(setup: bool = False) -> int:
    """Open the picker (and the setup wizard when asked, or when there is no providers file)."""
    config = _load_config_or_report()
    if config is None:
        return EXIT_CONFIG
    from .app import LLMSwitchApp

    app = LLMSwitchApp(setup=setup or not config.exists, config=config)
    app.run()
    return app.return_code or 0


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
