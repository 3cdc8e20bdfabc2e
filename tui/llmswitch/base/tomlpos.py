"""Where things are in a TOML file: line numbers for keys, and the lines a table owns.

``tomllib`` gives values but not positions. This scanner walks the text once and splits it
into *statements*: table headers (``[a.b]``, ``[[a.b]]``) and ``key = value`` lines
(dotted and quoted keys included), each with the lines it covers. Values are followed
through multi-line strings, arrays and inline tables by their delimiters only (strings,
comments, brackets), so a ``[fake]`` inside a string or ``"#"`` inside a value is never
mistaken for structure. It is used to point at problems and to cut a provider's lines
out of a file; callers that edit verify the result with ``tomllib`` before writing.

Lines end at ``\\n`` only (TOML's line break): ``str.splitlines`` would also split at
U+2028 or a form feed inside a comment and shift every number after it.
"""

from __future__ import annotations

import re
from typing import NamedTuple

__all__ = ["Statement", "cut", "key_lines", "owned_ranges", "split_lines", "statements", "table_span", "without"]

_BARE = re.compile(r"[A-Za-z0-9_-]+")
_MAX_RECORDED_DEPTH = 8
"""key_lines records prefixes of a dotted path up to this depth: nothing asks deeper, and a
5,000-level dotted key must not cost 12 million tuples."""


class Statement(NamedTuple):
    """One header or ``key = value`` of a TOML file."""

    first: int
    """0-based line where it starts."""
    end: int
    """0-based line after its last line (a multi-line value spans several)."""
    path: tuple[str, ...]
    """For a header, the table it opens; for a key, the full path (table + dotted key)."""
    header: bool
    array: bool = False
    """``[[path]]``: an array-of-tables header."""


def split_lines(text: str) -> list[str]:
    """The lines of ``text``, each with its ``\\n`` (or ``\\r\\n``) kept; only ``\\n`` ends a line."""
    parts = text.split("\n")
    lines = [part + "\n" for part in parts[:-1]]
    if parts[-1]:
        lines.append(parts[-1])
    return lines


def _parse_key(text: str, pos: int) -> tuple[list[str], int] | None:
    """Parse a (dotted, possibly quoted) key starting at ``pos``."""
    parts: list[str] = []
    n = len(text)
    while True:
        while pos < n and text[pos] in " \t":
            pos += 1
        if pos >= n:
            return None
        ch = text[pos]
        if ch in "\"'":
            end = pos + 1
            while end < n and text[end] != ch:
                end += 2 if ch == '"' and text[end] == "\\" else 1
            if end >= n:
                return None
            raw = text[pos + 1 : end]
            parts.append(_unescape(raw) if ch == '"' and "\\" in raw else raw)
            pos = end + 1
        else:
            match = _BARE.match(text, pos)
            if not match:
                return None
            parts.append(match.group())
            pos = match.end()
        while pos < n and text[pos] in " \t":
            pos += 1
        if pos < n and text[pos] == ".":
            pos += 1
            continue
        return parts, pos


_ESCAPE = re.compile(r"\\(?:u([0-9A-Fa-f]{4})|U([0-9A-Fa-f]{8})|(.))", re.S)
_SIMPLE_ESCAPES = {"b": "\b", "t": "\t", "n": "\n", "f": "\f", "r": "\r", '"': '"', "\\": "\\", "e": "\x1b"}


def _unescape(raw: str) -> str:
    """A TOML basic string's escapes (``\\"``, ``\\u00e9``…); an unknown one is kept as written."""

    def one(match: re.Match[str]) -> str:
        code = match.group(1) or match.group(2)
        if code:
            value = int(code, 16)
            return chr(value) if value < 0x110000 and not 0xD800 <= value < 0xE000 else match.group()
        return _SIMPLE_ESCAPES.get(match.group(3), match.group())

    return _ESCAPE.sub(one, raw)


_ONE_LINE_VALUE = re.compile(r"""\s*(?:"(?:[^"\\\n]|\\.)*"|'[^'\n]*'|[^"'\[{#\s][^"'\[{#]*)\s*(?:#.*)?\s*""")
"""A value that surely ends on its line: a one-line string, a number, a boolean, a date (the common case)."""


def _value_end(lines: list[str], start: int, text: str) -> int:
    """The line after the last line of a value that begins with ``text`` on line ``start``."""
    if _ONE_LINE_VALUE.fullmatch(text):
        return start + 1
    depth, mode, index, pos = 0, "", start, 0
    while True:
        n = len(text)
        while pos < n:
            ch = text[pos]
            if not mode:
                if ch == "#":
                    break
                if text.startswith(('"""', "'''"), pos):
                    mode, pos = text[pos : pos + 3], pos + 3
                    continue
                if ch in "\"'":
                    mode = ch
                elif ch in "[{":
                    depth += 1
                elif ch in "]}":
                    depth -= 1
                pos += 1
            elif mode in ('"', '"""') and ch == "\\":
                pos += 2
            elif len(mode) == 1:
                if ch == mode:
                    mode = ""
                pos += 1
            elif text.startswith(mode, pos):
                run = len(text[pos:]) - len(text[pos:].lstrip(mode[0]))
                mode, pos = "", pos + run  # up to two quotes before the closing three are content
            else:
                pos += 1
        if len(mode) == 1:
            mode = ""  # a one-line string cannot continue (the file is invalid; tomllib says so)
        index += 1
        if (not mode and depth <= 0) or index >= len(lines):
            return index
        text, pos = lines[index], 0


def statements(text: str) -> list[Statement]:
    """Every header and key of ``text``, in order, with the lines each covers."""
    lines = split_lines(text)
    found: list[Statement] = []
    table: tuple[str, ...] = ()
    array_counts: dict[tuple[str, ...], int] = {}
    index = 0
    while index < len(lines):
        stripped = lines[index].strip()
        if not stripped or stripped.startswith("#"):
            index += 1
            continue
        if stripped.startswith("["):
            array = stripped.startswith("[[")
            parsed = _parse_key(stripped, 2 if array else 1)
            if parsed:
                path = tuple(parsed[0])
                found.append(Statement(index, index + 1, path, True, array))
                if array:
                    count = array_counts.get(path, 0)
                    array_counts[path] = count + 1
                    table = (*path, str(count))
                else:
                    table = path
            index += 1
            continue
        parsed = _parse_key(stripped, 0)
        if not parsed or parsed[1] >= len(stripped) or stripped[parsed[1]] != "=":
            index += 1
            continue
        key, after = parsed
        end = _value_end(lines, index, stripped[after + 1 :])
        found.append(Statement(index, end, (*table, *key), False))
        index = end
    return found


def key_lines(text: str) -> dict[tuple[str, ...], int]:
    """Map each key path to the 1-based line that defines it (tables, array tables, dotted keys)."""
    lines: dict[tuple[str, ...], int] = {}
    counts: dict[tuple[str, ...], int] = {}
    for st in statements(text):
        number = st.first + 1
        for i in range(1, min(len(st.path), _MAX_RECORDED_DEPTH) + 1):
            lines.setdefault(st.path[:i], number)
        if st.header and st.array:
            count = counts.get(st.path, 0)
            counts[st.path] = count + 1
            lines[(*st.path, str(count))] = number
        elif st.header:
            lines[st.path] = number
        else:
            lines.setdefault(st.path, number)
    return lines


def without(text: str, prefix: tuple[str, ...]) -> str:
    """``text`` with the lines of :func:`owned_ranges` cut out (see :func:`cut`); ValueError as there."""
    found = statements(text)
    return cut(text, owned_ranges(text, prefix, found), found)


def owned_ranges(text: str, prefix: tuple[str, ...], found: list[Statement] | None = None) -> list[tuple[int, int]]:
    """0-based ``[start, end)`` line ranges defining ``prefix`` and everything under it, in order.

    Covers each ``[prefix…]`` header with its body (wherever in the file it is), each
    ``prefix….key = value`` written under another table or at the top, and the comment lines
    directly above each of these. Comments directly above the *next* table stay with it.
    Raises ``ValueError`` (with the 1-based line) when ``prefix`` is written inside a value
    that also holds other things (``providers = { x = {…}, y = {…} }``): no line is its own.
    """
    lines = split_lines(text)
    found = statements(text) if found is None else found
    inside_values = _inside_values(found)
    starts = [st.first for st in found if st.header] + [len(lines)]
    ranges: list[tuple[int, int]] = []
    owned_table = False
    next_header = 0
    for st in found:
        if st.header:
            next_header += 1
            owned_table = st.path[: len(prefix)] == prefix
            if owned_table:
                ranges.append((st.first, _trim_back(lines, st.first, starts[next_header])))
        elif owned_table:
            continue
        elif st.path[: len(prefix)] == prefix:
            ranges.append((st.first, st.end))
        elif len(st.path) < len(prefix) and prefix[: len(st.path)] == st.path:
            raise ValueError(st.first + 1)
    return _merge([(_comments_above(lines, start, inside_values), end) for start, end in ranges])


def _comment(line: str) -> bool:
    return line.strip().startswith("#")


def _trim_back(lines: list[str], start: int, end: int) -> int:
    """Leave comments directly above the next table with that table."""
    while end - 1 > start and _comment(lines[end - 1]):
        end -= 1
    return end


def _comments_above(lines: list[str], start: int, inside_values: set[int]) -> int:
    while start > 0 and start - 1 not in inside_values and _comment(lines[start - 1]):
        start -= 1
    return start


def _merge(ranges: list[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for start, end in sorted(ranges):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


def _inside_values(found: list[Statement]) -> set[int]:
    """Lines that continue a multi-line value (never structure, even when they look like it)."""
    return {n for st in found if not st.header for n in range(st.first + 1, st.end)}


def cut(text: str, ranges: list[tuple[int, int]], found: list[Statement] | None = None) -> str:
    """``text`` without the lines in ``ranges``; a blank line left doubled at a cut is dropped.

    Only blank lines at a cut (outside any value) are touched, so multi-line strings
    elsewhere keep every blank line they hold.
    """
    lines = split_lines(text)
    inside_values = _inside_values(statements(text) if found is None else found)
    drop: set[int] = set()

    def blank(n: int) -> bool:
        return n not in inside_values and not lines[n].strip()

    for start, end in ranges:
        drop.update(range(start, end))
        before = start - 1
        while before >= 0 and before in drop:
            before -= 1
        if before < 0 or blank(before):
            after = end
            while after < len(lines) and blank(after):
                drop.add(after)
                after += 1
            if after >= len(lines):  # nothing follows: no trailing blank lines either
                while before >= 0 and blank(before):
                    drop.add(before)
                    before -= 1
    return "".join(line for n, line in enumerate(lines) if n not in drop)


def table_span(text: str, path: tuple[str, ...]) -> tuple[int, int] | None:
    """0-based [start, end) line range of ``[path]`` and the sub-tables right after it.

    Returns None when the table is not defined by a ``[path]`` header. (For removal use
    :func:`owned_ranges`, which also finds sub-tables elsewhere and dotted keys.)
    """
    lines = split_lines(text)
    start = None
    for st in statements(text):
        if not st.header:
            continue
        if start is None:
            if st.path == path and not st.array:
                start = st.first
        elif st.array or st.path[: len(path)] != path:
            return start, _trim_back(lines, start, st.first)
    if start is None:
        return None
    return start, len(lines)
