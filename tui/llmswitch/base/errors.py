"""One error type for every front end: a cause, a fix and an exit code, as fields.

The core raises these; the CLI (text and ``--json``), the picker, the wizard, chat
and the Python API render the fields. Nobody splits a sentence to get the fix back.

Stdlib only and no ``dataclasses``: this module is on the read path
(``llmswitch current``, ``llmswitch.active()``).

Exit codes (documented in docs/cli.md):
  0 ok · 1 a check failed (probe, doctor, config check) · 2 usage error or an
  invalid config/state file · 3 unknown provider, no selection, nothing stored ·
  4 key problem (missing key, keyring unavailable) · 127 exec: command not found ·
  130 interrupted · otherwise ``exec`` returns the command's own exit code.
"""

from __future__ import annotations

from enum import IntEnum

TYPE_CHECKING = False  # typing is not imported on the read path
if TYPE_CHECKING:
    from typing import Any

__all__ = [
    "ConfigError", "Exit", "KeyProblem", "LlmswitchError", "NoSelection", "Problem", "SelectionError",
    "SwitchError", "UnknownProvider", "UnsafeFileError",
]


class Exit(IntEnum):
    """The CLI's documented exit codes; every front end uses these names."""

    OK = 0
    CHECK = 1
    """A check failed: probe, doctor, config check."""
    USAGE = 2
    """A usage error, or an invalid config or state file."""
    NOT_FOUND = 3
    """An unknown provider, no selection, nothing stored."""
    KEY = 4
    """A key problem: missing key, keyring unavailable, key command failed."""
    NO_COMMAND = 127
    """``exec``: the command was not found."""
    INTERRUPTED = 130


class Problem:
    """One thing wrong with a file, with where it is and how to fix it."""

    __slots__ = ("cause", "file", "fix", "key", "line", "severity")

    def __init__(self, cause: str, fix: str | None = None, *, file: str | None = None, line: int | None = None,
                 key: str | None = None, severity: str = "error") -> None:
        self.cause = cause
        self.fix = fix
        self.file = file
        self.line = line
        self.key = key
        self.severity = severity

    @property
    def where(self) -> str:
        """``path:line`` (or just the path) when known, else ``""``."""
        if not self.file:
            return ""
        return f"{self.file}:{self.line}" if self.line else self.file

    def __str__(self) -> str:
        where = f"{self.where}: " if self.where else ""
        key = f"{self.key}: " if self.key else ""
        fix = f" — {self.fix}" if self.fix else ""
        return f"{where}{key}{self.cause}{fix}"

    def __repr__(self) -> str:
        return f"Problem({self.cause!r}, fix={self.fix!r}, file={self.file!r}, line={self.line!r}, key={self.key!r})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Problem):
            return NotImplemented
        return self.as_dict() == other.as_dict()

    def __hash__(self) -> int:
        return hash(tuple(self.as_dict().values()))

    def as_dict(self) -> dict[str, Any]:
        return {"severity": self.severity, "file": self.file, "line": self.line, "key": self.key,
                "cause": self.cause, "fix": self.fix}


class LlmswitchError(Exception):
    """A failure a person can act on: ``subject: cause — fix``, and the exit code the CLI returns.

    ``subject`` is what it is about (a provider id, a file), ``cause`` says what is wrong,
    ``fix`` the one thing that changes the outcome (None when there is nothing to do).
    ``problems`` carries the file problems behind a config or state error.
    """

    exit_code: int = Exit.CHECK

    def __init__(self, cause: str, fix: str | None = None, *, subject: str | None = None,
                 exit_code: int | None = None, problems: tuple[Problem, ...] | list[Problem] = ()) -> None:
        self.cause = cause
        self.fix = fix
        self.subject = subject
        self.problems = tuple(problems)
        if exit_code is not None:
            self.exit_code = exit_code
        super().__init__(self.sentence())

    def sentence(self, *, with_fix: bool = True) -> str:
        """The one line the CLI prints: ``subject: cause — fix`` (problems below, one a line)."""
        text = f"{self.subject}: {self.cause}" if self.subject else self.cause
        if with_fix and self.fix:
            text += f" — {self.fix}"
        if self.problems:
            text += "".join(f"\n  {p}" for p in self.problems)
        return text

    def __str__(self) -> str:
        return self.sentence()

    def as_dict(self) -> dict[str, Any]:
        """The same facts as data, for ``--json``."""
        return {"error": type(self).__name__, "subject": self.subject, "cause": self.cause, "fix": self.fix,
                "exit_code": int(self.exit_code), "sentence": self.sentence(),
                "problems": [p.as_dict() for p in self.problems]}


class ConfigError(LlmswitchError):
    """The providers file cannot be used; ``problems`` says why, each with its line and fix."""

    exit_code = Exit.USAGE

    def __init__(self, problems: list[Problem] | tuple[Problem, ...], *, path: str | None = None) -> None:
        where = path or next((p.file for p in problems if p.file), None) or "config.toml"
        super().__init__("the providers file has problems", f"fix them in {where} (llmswitch config check lists them)",
                         problems=problems)

    def sentence(self, *, with_fix: bool = True) -> str:
        # the problems carry their own fixes; one per line under the headline
        return self.cause + ":" + "".join(f"\n  {p}" for p in self.problems)


class UnknownProvider(LlmswitchError, LookupError):
    """A provider id that is neither configured nor a preset."""

    exit_code = Exit.NOT_FOUND


class SelectionError(LlmswitchError):
    """``active.toml`` is missing, unreadable or not in the documented shape."""

    exit_code = Exit.USAGE


class NoSelection(SelectionError):
    """Nothing has been selected for the role yet."""

    exit_code = Exit.NOT_FOUND


class KeyProblem(LlmswitchError):
    """A key that cannot be had: missing, keyring unusable, command failed, refused on entry."""

    exit_code = Exit.KEY


class SwitchError(LlmswitchError):
    """A switch that cannot happen (unknown model reference, refused provider)."""

    exit_code = Exit.USAGE


class UnsafeFileError(LlmswitchError):
    """A file or directory llmswitch will not trust or write: a symlink, writable by others, not ours."""

    exit_code = Exit.USAGE
