"""Characters that cannot travel: the one check for keys, header values and names from files.

A key pasted from a web page can carry a zero-width space or a byte-order mark; an HTTP
header can only carry ASCII; an escape sequence in ``config.toml`` must never reach the
terminal raw. These functions find the first such character and name it (``U+200B ZERO
WIDTH SPACE``) so a sentence can say what and where without echoing the value.

Stdlib only (``unicodedata`` is a C module), cheap: usable anywhere, the read path included.
"""

from __future__ import annotations

import unicodedata

__all__ = ["describe", "first_invisible", "first_outside_ascii", "where_in"]

_TEXT_JOINERS = frozenset("\u200c\u200d")
"""ZWNJ and ZWJ: part of ordinary text in several scripts and in emoji, so allowed in names."""


def describe(ch: str) -> str:
    """``U+200B ZERO WIDTH SPACE``; control characters have no Unicode name and are called so."""
    name = unicodedata.name(ch, "")
    return f"U+{ord(ch):04X} {name}" if name else f"U+{ord(ch):04X} (a control character)"


def first_outside_ascii(text: str, *, space: bool = False) -> tuple[int, str] | None:
    """``(index, character)`` of the first character outside printable ASCII (``!``..``~``).

    ``space=True`` also allows the plain space U+0020 (header values may hold one).
    """
    for index, ch in enumerate(text):
        code = ord(ch)
        if 0x21 <= code <= 0x7E or (space and code == 0x20):
            continue
        return index, ch
    return None


def first_invisible(text: str) -> tuple[int, str] | None:
    """``(index, character)`` of the first control, format (zero-width, bidi, BOM) or separator character.

    Visible non-ASCII text (``Ünïcode``, ``名前``) passes: this is the check for display
    names and URLs, where only what cannot be seen (or moves the cursor) is refused.
    """
    for index, ch in enumerate(text):
        if ch in _TEXT_JOINERS:
            continue
        if unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp", "Cs"):
            return index, ch
    return None


def where_in(found: tuple[int, str]) -> str:
    """``U+200B ZERO WIDTH SPACE at character 12`` (1-based) for a sentence."""
    index, ch = found
    return f"{describe(ch)} at character {index + 1}"
