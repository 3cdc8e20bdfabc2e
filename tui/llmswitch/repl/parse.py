"""Reading a ``/model`` or ``/models`` line: the commands, their flags, and what a bad line should say."""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from ..base.errors import Exit, LlmswitchError
from ..store import selection as _selection

__all__ = ["COMMANDS", "FLAGS", "USAGE", "Command", "CommandError", "parse"]

COMMANDS = ("/model", "/models")
FLAGS = ("--save", "--project", "--role", "--force", "--reset")
USAGE = ("/model QUERY · /model PROVIDER/MODEL · /model N · /models [QUERY] · "
         "--save (write active.toml) · --project (write .llmswitch.toml here) · --role R · --force · /model --reset")


class CommandError(LlmswitchError, ValueError):
    """A model command that cannot be understood: ``cause`` says what, ``fix`` what to type instead."""

    exit_code = Exit.USAGE


@dataclass(frozen=True)
class Command:
    """One parsed ``/model`` or ``/models`` line."""

    name: str
    """``/model`` or ``/models``."""
    query: str = ""
    """Everything that is not a flag, words joined by one space (``""`` when none)."""
    save: bool = False
    """``--save``: also write active.toml (the default for every tool)."""
    project: bool = False
    """``--project``: also write ``.llmswitch.toml`` in the working directory (the project scope), and trust it."""
    force: bool = False
    """``--force``: switch even when the probe says the server is down or refuses the key."""
    reset: bool = False
    """``--reset``: drop the session choice and follow active.toml again."""
    role: str | None = None
    """``--role R``: act on role R instead of the switcher's current role."""


def parse(line: str, commands: Iterable[str] = COMMANDS) -> Command | None:
    """``Command`` for a model command, ``None`` for any other line; raises CommandError."""
    words = line.strip().split()
    if not words or words[0] not in commands:
        return None
    name, rest = words[0], words[1:]
    options: dict[str, Any] = {}
    query: list[str] = []
    i = 0
    while i < len(rest):
        word = rest[i]
        if word == "--":
            query += rest[i + 1:]
            break
        if word.startswith("--") and len(word) > 2:
            flag, eq, value = word.partition("=")
            if flag not in FLAGS:
                close = difflib.get_close_matches(flag, FLAGS, n=1, cutoff=0.5)
                raise CommandError(f"unknown flag {flag}",
                                   f"did you mean {close[0]}?" if close else f"flags: {' '.join(FLAGS)}")
            if flag == "--role":
                if not eq:
                    i += 1
                    if i >= len(rest) or rest[i].startswith("--"):
                        raise CommandError("--role needs a name", "e.g. /model --role small PROVIDER/MODEL")
                    value = rest[i]
                if not _selection.ROLE_NAME.match(value):
                    raise CommandError(f"role {value!r} must be lowercase letters, digits, '-' or '_' "
                                       f"(e.g. default, small)")
                options["role"] = value
            elif eq:
                raise CommandError(f"{flag} takes no value", f"write {flag} on its own")
            else:
                options[flag[2:]] = True
        else:
            query.append(word)
        i += 1
    if name == "/models" and (options.keys() - {"role"}):
        raise CommandError("/models only lists", "use /model --save/--force/--reset to switch")
    command = Command(name, " ".join(query), **options)
    if command.save and command.project:
        raise CommandError("--save and --project write different files", "pick one: --save (every tool) or "
                           "--project (this directory tree)")
    if command.reset and (command.query or command.save or command.project or command.force):
        raise CommandError("--reset stands alone", "/model --reset [--role R] follows active.toml again")
    return command
