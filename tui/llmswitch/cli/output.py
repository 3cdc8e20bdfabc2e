"""What the CLI prints: plain lines, warnings, JSON, and errors rendered from their fields.

Every line goes through the one terminal-safe renderer (:func:`llmswitch.base.chars.terminal_safe_lines`):
a path, an id, a model name or a server's words reach the terminal with each control or
invisible character written visibly (``\x1b``, ``\u202e``), whichever command printed them.
Commands we suggest quote their words with :func:`llmswitch.base.chars.shell_word`.

Light on purpose (``sys`` and ``os`` at import; ``json``, ``llmswitch.base.chars`` and
``llmswitch.base.errors`` only when used): ``llmswitch current`` imports it.
"""

from __future__ import annotations

import sys

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from ..base.errors import LlmswitchError


def shown(text: str) -> str:
    """``text`` fit for the terminal, line breaks and tabs kept (plain text costs one C-level check)."""
    if text.isprintable() or text.replace("\n", "").replace("\t", "").isprintable():
        return text
    from ..base.chars import terminal_safe_lines

    return terminal_safe_lines(text)


def out(text: str = "") -> None:
    sys.stdout.write(shown(text) + "\n")


def warn(text: str) -> None:
    sys.stderr.write(f"warning: {shown(text)}\n")


def emit_json(data: Any) -> None:
    import json

    out(json.dumps(data, indent=2, default=str))


def render_error(error: LlmswitchError, *, as_json: bool = False) -> int:
    """``llmswitch: <sentence>`` on stderr (and, for ``--json``, the same facts on stdout); the exit code."""
    sys.stderr.write(f"llmswitch: {shown(error.sentence())}\n")
    if as_json:
        emit_json(error.as_dict())
    return int(error.exit_code)


def as_error(exc: BaseException) -> LlmswitchError | None:
    """``exc`` as an :class:`~llmswitch.base.errors.LlmswitchError`, or None when it is not a user-facing failure.

    Errors of modules not yet converted to llmswitch.base.errors (plain ``KeyProblem``,
    ``ConfigError``, ``UnknownProvider``, ``SwitchError``) keep their sentence as the cause.
    """
    from ..base import errors

    if isinstance(exc, errors.LlmswitchError):
        return exc
    legacy = {"llmswitch.store.keys": ("KeyProblem", errors.Exit.KEY), "llmswitch.store.config": ("UnknownProvider",
              errors.Exit.NOT_FOUND), "llmswitch.services.switch": ("SwitchError", errors.Exit.USAGE)}
    for module_name, (class_name, code) in legacy.items():
        module = sys.modules.get(module_name)
        kind = getattr(module, class_name, None)
        if isinstance(kind, type) and isinstance(exc, kind):
            return errors.LlmswitchError(str(exc), exit_code=int(getattr(exc, "code", code)))
    config = sys.modules.get("llmswitch.store.config")
    if config is not None and isinstance(exc, config.ConfigError):
        return errors.ConfigError([as_problem(p) for p in getattr(exc, "problems", ())])
    return None


def as_problem(problem: Any) -> Any:
    """A file problem as :class:`llmswitch.base.errors.Problem` (config.py's own Problem has ``message``)."""
    from ..base.errors import Problem

    if isinstance(problem, Problem):
        return problem
    return Problem(str(getattr(problem, "cause", None) or getattr(problem, "message", problem)),
                   getattr(problem, "fix", None), file=getattr(problem, "file", None),
                   line=getattr(problem, "line", None), key=getattr(problem, "key", None),
                   severity=getattr(problem, "severity", "error"))
