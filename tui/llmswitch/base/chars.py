"""Characters that cannot travel: the one check for keys, header values and names from files,
and the one terminal-safe renderer.

A key pasted from a web page can carry a zero-width space or a byte-order mark; an HTTP
header can only carry ASCII; an escape sequence in ``config.toml`` must never reach the
terminal raw. These functions find the first such character and name it (``U+200B ZERO
WIDTH SPACE``) so a sentence can say what and where without echoing the value.

:func:`terminal_safe` (and :func:`terminal_safe_lines`) is how everything from outside —
paths, ids, model names, server text, team names — is shown: each invisible character
(:func:`invisible`: controls such as ESC, format characters such as the bidi overrides and
zero-width spaces, line and paragraph separators, lone surrogates) is written visibly as
``\x1b`` or ``\u202e``. :func:`shell_word` quotes a word for a command we suggest.

Stdlib only (``unicodedata`` is a C module, loaded only for text that is not plainly
printable), cheap: usable anywhere, the read path included.
"""

from __future__ import annotations

__all__ = ["describe", "first_invisible", "first_outside_ascii", "invisible", "shell_word", "terminal_safe",
           "terminal_safe_lines", "where_in"]

_TEXT_JOINERS = frozenset("\u200c\u200d")
"""ZWNJ and ZWJ: part of ordinary text in several scripts and in emoji, so allowed in names."""


_INVISIBLE = ("Cc", "Cf", "Zl", "Zp", "Cs")
"""Unicode categories that cannot be seen or move the cursor: controls, format characters (bidi,
zero-width, BOM), line and paragraph separators, lone surrogates."""


def invisible(ch: str) -> bool:
    """True for a character that must never reach a terminal raw (ZWJ and ZWNJ are text: False)."""
    import unicodedata

    return ch not in _TEXT_JOINERS and unicodedata.category(ch) in _INVISIBLE


def describe(ch: str) -> str:
    """``U+200B ZERO WIDTH SPACE``; control characters have no Unicode name and are called so."""
    import unicodedata

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
    if text.isprintable():  # the usual case, in C: nothing invisible (isprintable is stricter)
        return None
    for index, ch in enumerate(text):
        if invisible(ch):
            return index, ch
    return None


def where_in(found: tuple[int, str]) -> str:
    """``U+200B ZERO WIDTH SPACE at character 12`` (1-based) for a sentence."""
    index, ch = found
    return f"{describe(ch)} at character {index + 1}"


# --- showing text from outside --------------------------------------------------------------------

def _visible(ch: str) -> str:
    code = ord(ch)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"


def _escaped(text: str, keep: str = "") -> str:
    if text.isprintable():
        return text
    return "".join(_visible(ch) if ch not in keep and invisible(ch) else ch for ch in text)


def terminal_safe(text: str, limit: int | None = None) -> str:
    """``text`` as one line fit for a terminal: each invisible character written visibly (``\\x1b``, ``\\u202e``).

    Newlines and tabs become spaces, so nothing from outside can move the cursor, recolour,
    set the window title, reorder or hide text. ``limit`` cuts it (with ``…``) after escaping.
    """
    text = _escaped(text.replace("\r\n", " ").replace("\n", " ").replace("\t", " "))
    if limit is not None and len(text) > limit:
        text = text[: limit - 1] + "…"
    return text


def terminal_safe_lines(text: str) -> str:
    """Like :func:`terminal_safe` but keeps line breaks and tabs (a streamed answer, a list of problems)."""
    return _escaped(text.replace("\r\n", "\n"), keep="\n\t")


_SHELL_PLAIN = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_@%+=:,./-")
"""Characters no POSIX shell treats specially (shlex's own set): a word of only these needs no quotes."""


def shell_word(word: str) -> str:
    """``word`` as one shell word a person can paste (POSIX sh: ``shlex.quote``).

    A word with invisible characters cannot be shown raw, and ``shlex.quote`` would carry them
    raw: it is written as bash/zsh ``$'…'`` with each such character's bytes escaped
    (``$'a\\x1bb'``, ``$'\\xe2\\x80\\xae'``), so what is shown is exactly what the shell will read.
    """
    if first_invisible(word) is None:
        if word and all(ch in _SHELL_PLAIN for ch in word):
            return word
        return "'" + word.replace("'", "'\"'\"'") + "'"  # what shlex.quote does, without importing it
    body = "".join("\\\\" if ch == "\\" else "\\'" if ch == "'" else _bytes(ch) if invisible(ch) else ch
                   for ch in word)
    return f"$'{body}'"


def _bytes(ch: str) -> str:
    """``ch`` as ``\\xHH`` escapes of its UTF-8 bytes: what ``$'…'`` turns back into exactly those bytes, in any locale
    (a byte a file name could not decode, held as a surrogate, is that byte again)."""
    return "".join(f"\\x{b:02x}" for b in ch.encode("utf-8", "surrogateescape" if "\udc80" <= ch <= "\udcff"
                                                     else "surrogatepass"))
