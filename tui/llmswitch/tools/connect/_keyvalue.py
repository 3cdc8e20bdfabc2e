"""``KEY=value`` files (shell-gpt's ``.sgptrc``, mini-swe-agent's ``.env``), and the variables that beat them.

Both tools read their file into a mapping in which a later line wins, and both let the
process environment win over the file. So a module that writes such a file needs three
things, each here once: which key a line sets (by the tool's own rule), the value as the tool
will read it back, and a refusal when the environment already sets one of the keys it owns —
then nothing it writes would reach the tool.
"""

from __future__ import annotations

import os
import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

_DOTENV_KEY = re.compile(r"^[ \t]*(?:export[ \t]+)?([A-Za-z_][A-Za-z0-9_.-]*)[ \t]*=[ \t]*", re.M)
_DOUBLE_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", '"': '"', "'": "'", "\\": "\\", "a": "\a", "b": "\b",
                   "f": "\f", "v": "\v"}


def sgpt_key(line: str) -> str:
    """The key shell-gpt reads from ``line`` (``line.strip().split("=", 1)[0]`` of a non-comment line), or ``""``."""
    if not line.strip() or line.startswith("#") or "=" not in line:
        return ""
    return line.strip().split("=", 1)[0]


def sgpt_values(text: str) -> tuple[dict[str, str], tuple[int, str] | None]:
    """What shell-gpt's ``Config._read`` makes of ``text`` (a later line wins), and the first line it fails on."""
    values: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), 1):
        if line.strip() and not line.startswith("#"):
            if "=" not in line:
                return values, (number, f"line {number} is neither a comment nor KEY=value, so shell-gpt stops "
                                        f"at start-up")
            key, value = line.strip().split("=", 1)
            values[key] = value
    return values, None


def dotenv_key(line: str) -> str:
    """The key a python-dotenv line sets (``KEY=…``, ``export KEY=…``), or ``""``."""
    found = _DOTENV_KEY.match(line)
    return found.group(1) if found else ""


def dotenv_values(text: str) -> dict[str, str]:
    """The values python-dotenv reads (a later line wins): single quotes literal but for ``\\\\``/``\\'``, double quotes
    with escapes, unquoted up to `` #``; quoted values may span lines. A line it cannot parse is skipped, as it does."""
    values: dict[str, str] = {}
    i = 0
    while i < len(text):
        end = text.find("\n", i)
        end = len(text) if end < 0 else end
        found = _DOTENV_KEY.match(text, i, end)
        if found is None:
            i = end + 1
            continue
        start = found.end()
        quote = text[start:start + 1]
        if quote in ("'", '"'):
            value, close = _quoted(text, start + 1, quote)
            if close < 0:  # an unterminated quote: python-dotenv skips the statement
                i = end + 1
                continue
            values[found.group(1)] = value
            after = text.find("\n", close)
            i = len(text) if after < 0 else after + 1
            continue
        raw = text[start:end]
        values[found.group(1)] = re.sub(r"[ \t]+#.*$", "", raw).rstrip()
        i = end + 1
    return values


def _quoted(text: str, i: int, quote: str) -> tuple[str, int]:
    out: list[str] = []
    while i < len(text):
        char = text[i]
        if char == "\\" and i + 1 < len(text):
            follow = text[i + 1]
            if quote == "'":
                out.append(follow if follow in ("\\", "'") else char + follow)
            else:
                out.append(_DOUBLE_ESCAPES.get(follow, char + follow))
            i += 2
            continue
        if char == quote:
            return "".join(out), i + 1
        out.append(char)
        i += 1
    return "".join(out), -1


def dotenv_single(value: str) -> str:
    """``value`` as a single-quoted python-dotenv value: literal (no ``${VAR}`` expansion), ``\\`` and ``'`` escaped."""
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def line_of_key(text: str, key: str, key_of: Callable[[str], str]) -> int | None:
    return next((n for n, line in enumerate(text.splitlines(), 1) if key_of(line) == key), None)


def shadowed(title: str, name: str, variables: tuple[str, ...],
             environ: Mapping[str, str] | None = None) -> tuple[str, str] | None:
    """(cause, fix) when the environment sets a variable ``title`` reads before its file: the file would not win."""
    environ = os.environ if environ is None else environ
    for variable in variables:
        if environ.get(variable):
            return (f"${variable} is set in this environment and {title} reads it before its config file, so what "
                    f"llmswitch writes would not reach {title}",
                    f"unset {variable} (and remove it where your shell profile sets it), then run: "
                    f"llmswitch connect {name}")
    return None
