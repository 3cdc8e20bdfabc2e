"""Reading what somebody else wrote, within bounds: a file a path names, and JSON or TOML a server sent.

Two doors, and no other way in for such bytes:

* :func:`read_file` — a file named by a path a user or another file gave (a team file, a
  ``.llmswitch.toml``, a tool's config or a ``.env`` file that ``import`` reads). It is read
  only when it is a regular file (a symlink to one is followed), never when it is a FIFO (which
  would block forever), a device (``/dev/zero`` never ends) or a directory, and at most the cap
  of its :class:`Kind` is read (cap + 1 bytes, to tell "exactly the cap" from "more").
* :func:`decode_json` / :func:`decode_toml` — a body a server sent (``/models``, a gateway's
  ``/model/info``, ``/key/info``, ``/key``) or a file from elsewhere: refused when it is over
  its size, nests deeper than :data:`MAX_DEPTH`, or holds a number outside :data:`MAX_INT` or
  a NaN or infinity.

Neither raises on hostile input: each returns a :class:`Refusal` naming the :class:`Problem`,
with the cause as a sentence fragment ("is a named pipe (FIFO), not a regular file") for the
caller to put after its subject, and a fix.

Stdlib only; ``os`` and ``stat`` at import (the read path reads ``.llmswitch.toml`` through
here); ``re``, ``json`` and ``tomllib`` load only when a decoder is used.
"""

from __future__ import annotations

import os
import stat

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

__all__ = ["IMPORT_FILE", "KINDS", "MAX_DEPTH", "MAX_INT", "PROJECT_FILE", "SERVER_ANSWER", "TEAM_FILE", "Decoded",
           "Kind", "Problem", "Refusal", "decode_json", "decode_toml", "read_file"]


class Kind:
    """A kind of file or answer, and the most bytes llmswitch reads of one."""

    __slots__ = ("cap", "name")

    def __init__(self, name: str, cap: int) -> None:
        self.name = name
        """What it is, for a sentence: ``a project file``."""
        self.cap = cap
        """The most bytes read; more is refused unread."""

    def size(self) -> str:
        """The cap in words: ``64 KiB``, ``8 MiB``."""
        return f"{self.cap // 2**20} MiB" if self.cap >= 2**20 else f"{self.cap // 1024} KiB"

    def __repr__(self) -> str:
        return f"Kind({self.name!r}, {self.cap})"


PROJECT_FILE = Kind("a project file (.llmswitch.toml)", 64 * 1024)
"""A project scope is a few lines."""
TEAM_FILE = Kind("a team file", 1024 * 1024)
"""A shared providers file is a few kilobytes (read from a path or over https)."""
IMPORT_FILE = Kind("a file import reads (a tool's config, a .env file)", 1024 * 1024)
"""What ``llmswitch import`` and the setup wizard read: aider, llm, opencode, Codex, Claude Code and
Continue configs, ``./.env``, ``~/.env``, ``~/.continue/.env``."""
TOOL_FILE = Kind("another tool's config file (connect)", 4 * 1024 * 1024)
"""What ``connect``, ``use`` and ``disconnect`` read back before they write: Codex's ``config.toml``, Claude Code's
``settings.json``, aider's, llm's, opencode's and Continue's files (hand-tuned ones run to tens of KiB)."""
SERVER_ANSWER = Kind("a server's answer", 8 * 1024 * 1024)
"""One answer's decoded bytes (a big OpenRouter ``/models`` is ~1 MiB)."""
KINDS = (PROJECT_FILE, TEAM_FILE, IMPORT_FILE, TOOL_FILE, SERVER_ANSWER)
"""Every kind, for the docs (docs/security.md lists each cap; a test compares)."""

MAX_DEPTH = 64
"""Arrays and objects (or TOML arrays and tables) nest at most this deep; real answers nest 5 or 6."""
MAX_INT = 2**64
"""The largest magnitude of an integer accepted (an unsigned 64-bit sentinel still fits)."""


class Problem:
    """Why bytes from elsewhere were refused: a closed set of names (plain strings, not an ``Enum``: class
    creation costs the read path, which reads ``.llmswitch.toml`` through here)."""

    __slots__ = ()

    MISSING = "missing"
    NOT_REGULAR = "not a regular file"
    UNREADABLE = "unreadable"
    UNSAFE = "unsafe"
    """The caller's own check on the file (owner, mode) refused it."""
    TOO_LARGE = "too large"
    NOT_TEXT = "not UTF-8 text"
    NOT_PARSED = "not parsed"
    """Not JSON (or not TOML) at all."""
    TOO_DEEP = "nested too deep"
    BAD_NUMBER = "a number out of range"


class Refusal:
    """A named problem: ``cause`` completes a sentence whose subject the caller knows; ``fix`` says what to do."""

    __slots__ = ("cause", "fix", "problem")

    def __init__(self, problem: str, cause: str, fix: str) -> None:
        self.problem = problem
        self.cause = cause
        self.fix = fix

    def sentence(self, subject: str) -> str:
        """``SUBJECT CAUSE — FIX``: one line for a warning."""
        return f"{subject} {self.cause} — {self.fix}"

    def __repr__(self) -> str:
        return f"Refusal({self.problem!r}, {self.cause!r})"


# --- files ----------------------------------------------------------------------------------------

_OPEN = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_NOCTTY", 0)
_REGULAR_ONLY = "llmswitch reads only regular files (a symlink to one is fine)"


def _what(mode: int) -> str:
    if stat.S_ISFIFO(mode):
        return "a named pipe (FIFO)"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISDIR(mode):
        return "a directory"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a file"


def _too_large(size: int | None, kind: Kind) -> Refusal:
    said = f"is {size} bytes" if size is not None else "is larger"
    return Refusal(Problem.TOO_LARGE, f"{said}, over the {kind.size()} {kind.name} may be", "check it is the right file")


def read_file(path: str | os.PathLike[str], kind: Kind, *, follow: bool = True,
              judge: Callable[[os.stat_result, str], tuple[str, str] | None] | None = None) -> bytes | Refusal:
    """The bytes of the regular file at ``path`` (at most ``kind.cap``), or why not.

    The path is ``stat``-ed first (following symlinks unless ``follow`` is False), so a FIFO or a
    device is refused before it is opened; the open itself is non-blocking, and the descriptor is
    ``fstat``-ed again (a file swapped for a FIFO in between is refused too). ``judge`` (e.g.
    :func:`llmswitch.base.trust.judge`) may refuse the file from that ``fstat``: its ``(cause, fix)``
    becomes an ``UNSAFE`` refusal. Never raises for what is at the path.
    """
    name = os.fspath(path)
    try:
        st = os.stat(name) if follow else os.lstat(name)
    except (FileNotFoundError, NotADirectoryError):
        return Refusal(Problem.MISSING, "does not exist", "check the path")
    except (OSError, ValueError) as exc:  # ValueError: a NUL in the path
        return Refusal(Problem.UNREADABLE, f"cannot be read ({getattr(exc, 'strerror', None) or exc})",
                       "check the path and its permissions")
    if not stat.S_ISREG(st.st_mode):
        what = "a symlink" if stat.S_ISLNK(st.st_mode) else _what(st.st_mode)
        return Refusal(Problem.NOT_REGULAR, f"is {what}, not a regular file", f"name the file itself ({_REGULAR_ONLY})")
    if st.st_size > kind.cap:
        return _too_large(st.st_size, kind)
    try:
        fd = os.open(name, _OPEN | (0 if follow else getattr(os, "O_NOFOLLOW", 0)))
    except OSError as exc:
        return Refusal(Problem.UNREADABLE, f"cannot be read ({exc.strerror or exc})", "check its permissions")
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            return Refusal(Problem.NOT_REGULAR, f"is {_what(st.st_mode)}, not a regular file",
                           f"name the file itself ({_REGULAR_ONLY})")
        if judge is not None:
            found = judge(st, name)
            if found is not None:
                return Refusal(Problem.UNSAFE, found[0], found[1])
        chunks: list[bytes] = []
        got = 0
        while got <= kind.cap:  # a file that grows (or /proc, whose size says 0) stops at cap + 1
            chunk = os.read(fd, kind.cap + 1 - got)
            if not chunk:
                break
            chunks.append(chunk)
            got += len(chunk)
    except OSError as exc:
        return Refusal(Problem.UNREADABLE, f"cannot be read ({exc.strerror or exc})", "check the file")
    finally:
        os.close(fd)
    if got > kind.cap:
        return _too_large(None, kind)
    return b"".join(chunks)


# --- answers --------------------------------------------------------------------------------------

class Decoded:
    """What a decoder made of some bytes: ``value`` when ``refusal`` is None."""

    __slots__ = ("refusal", "value")

    def __init__(self, value: Any = None, refusal: Refusal | None = None) -> None:
        self.value = value
        self.refusal = refusal

    @property
    def ok(self) -> bool:
        return self.refusal is None

    def __repr__(self) -> str:
        return f"Decoded({self.value!r})" if self.refusal is None else f"Decoded({self.refusal!r})"


class _Refused(Exception):
    def __init__(self, refusal: Refusal) -> None:
        self.refusal = refusal


_SENDER_FIX = "check that it comes from the server or file you meant"


def _bad_number(what: str) -> _Refused:
    return _Refused(Refusal(Problem.BAD_NUMBER, f"holds {what}", _SENDER_FIX))


def _constant(name: str) -> Any:
    raise _bad_number(f"{name}, which JSON does not allow")


def _float(text: str) -> float:
    value = float(text)
    if value - value != 0.0:  # inf (nan cannot come from a JSON number literal)
        raise _bad_number(f"the number {text[:24]}, which is out of range")
    return value


def _int(text: str) -> int:
    if len(text) > 21:  # MAX_INT has 20 digits (and a sign); checked before int() parses thousands of them
        raise _bad_number(f"an integer of {len(text.lstrip('-'))} digits")
    value = int(text)
    if abs(value) > MAX_INT:
        raise _bad_number(f"the integer {text}, which is out of range")
    return value


_PATTERNS: list[Any] = []


def _patterns() -> tuple[Any, Any]:
    if not _PATTERNS:
        import re

        _PATTERNS.extend((re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"', re.S), re.compile(r"[^\[\]{}]+")))
    return _PATTERNS[0], _PATTERNS[1]


def _json_depth(text: str, limit: int) -> int:
    """How deep arrays and objects nest in ``text`` (strings skipped), counting no further than ``limit + 1``."""
    strings, others = _patterns()
    brackets = others.sub("", strings.sub("", text))
    depth = peak = 0
    for char in brackets:
        if char in "[{":
            depth += 1
            if depth > peak:
                peak = depth
                if peak > limit:
                    break
        else:
            depth -= 1
    return peak


def json_too_deep(text: str, limit: int = MAX_DEPTH) -> bool:
    """True when JSON (or JSONC) ``text`` nests deeper than ``limit`` — checked before a parser recurses into it."""
    return _json_depth(text, limit) > limit


def _too_deep(limit: int) -> Refusal:
    return Refusal(Problem.TOO_DEEP, f"nests deeper than {limit} levels", _SENDER_FIX)


def _text(data: bytes | str, kind: Kind) -> str | Refusal:
    if len(data) > kind.cap:
        return _too_large(len(data), kind)
    if isinstance(data, str):
        return data
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        return Refusal(Problem.NOT_TEXT, f"is not UTF-8 text (byte {exc.start})", _SENDER_FIX)


def decode_json(data: bytes | str, kind: Kind = SERVER_ANSWER, *, max_depth: int = MAX_DEPTH) -> Decoded:
    """``data`` as JSON within bounds, or the :class:`Refusal` that says why not. Never raises.

    Refused: more than ``kind.cap`` bytes (characters for ``str``), bytes that are not UTF-8
    (a byte-order mark is allowed), text that is not JSON, nesting deeper than ``max_depth``
    (checked before parsing, so no RecursionError), ``NaN``/``Infinity``, a float out of range
    (``1e999``) and an integer beyond :data:`MAX_INT`.
    """
    import json

    text = _text(data, kind)
    if isinstance(text, Refusal):
        return Decoded(refusal=text)
    if _json_depth(text, max_depth) > max_depth:
        return Decoded(refusal=_too_deep(max_depth))
    try:
        return Decoded(json.loads(text, parse_constant=_constant, parse_float=_float, parse_int=_int))
    except _Refused as refused:
        return Decoded(refusal=refused.refusal)
    except ValueError as exc:
        said = f"{exc.msg} at line {exc.lineno}" if isinstance(exc, json.JSONDecodeError) else "not JSON"
        what = "is empty" if not text.strip() else f"is not JSON ({said})"
        return Decoded(refusal=Refusal(Problem.NOT_PARSED, what, _SENDER_FIX))
    except RecursionError:  # the pre-scan is exact; this is the belt to its braces
        return Decoded(refusal=_too_deep(max_depth))


def _walk(value: Any, max_depth: int) -> Refusal | None:
    """The first bound a parsed TOML document breaks (depth, a NaN or infinite float), iteratively."""
    pending: list[tuple[Any, int]] = [(value, 0)]
    while pending:
        item, depth = pending.pop()
        if isinstance(item, dict | list):
            if depth >= max_depth:
                return _too_deep(max_depth)
            pending.extend((v, depth + 1) for v in (item.values() if isinstance(item, dict) else item))
        elif isinstance(item, float) and item - item != 0.0:
            return _bad_number(f"{item!r}, which llmswitch does not accept").refusal
        elif isinstance(item, int) and not isinstance(item, bool) and abs(item) > MAX_INT:
            return _bad_number("an integer out of range").refusal
    return None


def decode_toml(data: bytes | str, kind: Kind, *, max_depth: int = MAX_DEPTH) -> Decoded:
    """``data`` as TOML within the same bounds as :func:`decode_json` (``nan``/``inf`` refused). Never raises."""
    import tomllib

    text = _text(data, kind)
    if isinstance(text, Refusal):
        return Decoded(refusal=text)
    try:
        value = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        return Decoded(refusal=Refusal(Problem.NOT_PARSED, f"is not TOML ({exc})", _SENDER_FIX))
    except RecursionError:  # tomllib parses nested arrays and inline tables recursively
        return Decoded(refusal=_too_deep(max_depth))
    refusal = _walk(value, max_depth)
    return Decoded(refusal=refusal) if refusal is not None else Decoded(value)
