"""Line numbers for keys in a TOML file.

``tomllib`` gives values but not positions. This scanner walks the text once
and records the line where each dotted key path is defined (tables, array
tables and ``key = value`` lines, including dotted and quoted keys), skipping
multi-line strings and arrays. It is only used to point at problems, so when
in doubt it answers "no line" rather than a wrong one.
"""

from __future__ import annotations

import re

_BARE = re.compile(r"[A-Za-z0-9_-]+")


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
            parts.append(raw.encode().decode("unicode_escape") if ch == '"' and "\\" in raw else raw)
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


def key_lines(text: str) -> dict[tuple[str, ...], int]:
    """Map each key path to the 1-based line that defines it."""
    return _scan(text)[0]


def _scan(text: str) -> tuple[dict[tuple[str, ...], int], list[tuple[int, tuple[str, ...], bool]]]:
    """(key path → line, [(0-based line, header path, is array table)])."""
    lines: dict[tuple[str, ...], int] = {}
    headers: list[tuple[int, tuple[str, ...], bool]] = []
    table: list[str] = []
    array_counts: dict[tuple[str, ...], int] = {}
    in_multiline: str | None = None
    depth = 0
    for number, line in enumerate(text.splitlines(), start=1):
        if in_multiline:
            if in_multiline in line:
                in_multiline = None
            continue
        stripped = line.strip()
        if depth > 0:
            depth += _bracket_delta(stripped)
            continue
        if not stripped or stripped.startswith("#"):
            continue
        if stripped.startswith("[["):
            parsed = _parse_key(stripped, 2)
            if parsed:
                path = tuple(parsed[0])
                headers.append((number - 1, path, True))
                index = array_counts.get(path, 0)
                array_counts[path] = index + 1
                table = [*path, str(index)]
                lines.setdefault(path, number)
                lines[tuple(table)] = number
            continue
        if stripped.startswith("["):
            parsed = _parse_key(stripped, 1)
            if parsed:
                table = parsed[0]
                headers.append((number - 1, tuple(table), False))
                for i in range(1, len(table) + 1):
                    lines.setdefault(tuple(table[:i]), number)
                lines[tuple(table)] = number
            continue
        parsed = _parse_key(stripped, 0)
        if not parsed or parsed[1] >= len(stripped) or stripped[parsed[1]] != "=":
            continue
        key, after = parsed
        for i in range(1, len(key) + 1):
            lines.setdefault((*table, *key[:i]), number)
        value = stripped[after + 1 :].strip()
        for quote in ('"""', "'''"):
            if value.startswith(quote) and value.count(quote) == 1:
                in_multiline = quote
        if in_multiline is None and value.startswith(("[", "{")):
            depth = _bracket_delta(value)
    return lines, headers


def _bracket_delta(text: str) -> int:
    """Net bracket depth change on a line, ignoring brackets inside strings and comments."""
    delta, quote = 0, ""
    i = 0
    while i < len(text):
        ch = text[i]
        if quote:
            if ch == "\\" and quote == '"':
                i += 1
            elif ch == quote:
                quote = ""
        elif ch in "\"'":
            quote = ch
        elif ch == "#":
            break
        elif ch in "[{":
            delta += 1
        elif ch in "]}":
            delta -= 1
        i += 1
    return delta


def table_span(text: str, path: tuple[str, ...]) -> tuple[int, int] | None:
    """0-based [start, end) line range of ``[path]`` and its sub-tables, for removal.

    Returns None when the table is not defined by a ``[path]`` header (for
    instance when it is written inline or with dotted keys).
    """
    lines = text.splitlines()
    start = None
    for index, header, is_array in _scan(text)[1]:
        if start is None:
            if header == path and not is_array:
                start = index
        elif is_array or header[: len(path)] != path:
            return start, _trim_back(lines, start, index)
    if start is None:
        return None
    return start, len(lines)


def _trim_back(lines: list[str], start: int, end: int) -> int:
    """Leave comments directly above the next table with that table."""
    while end - 1 > start and lines[end - 1].strip().startswith("#"):
        end -= 1
    return end
