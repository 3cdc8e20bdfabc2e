"""Careful text edits of other tools' files: only llmswitch's own parts change.

Three mechanisms, each reversible by :func:`strip` (or, for JSON, by the stash the
caller keeps), so ``disconnect`` gives back the user's text byte for byte:

* a **marked block** (TOML, YAML, any format with ``#`` comments)::

      # >>> llmswitch aider: written by `llmswitch connect aider`; `llmswitch disconnect aider` removes it >>>
      model: openai/gpt-4o-mini
      # <<< llmswitch aider <<<

* a **displaced line**: a user's top-level setting that our block replaces (two
  ``model:`` keys would be a duplicate) is commented out in place with a marker
  prefix, and put back unchanged by :func:`strip`;
* a **JSON member** set or removed in place (:func:`json_set`, :func:`json_remove`):
  the rest of the text, comments of JSONC included, is left as it was. JSON has no
  comments to mark ownership with, so the caller stashes what the member held
  before (the registry's per-tool ``memory``).

Nothing here reads or writes files; the engine does that atomically.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable
from typing import Any

DISPLACED = "# llmswitch-displaced: "
"""Prefix of a user's line that a block replaces while connected."""


def begin_marker(tool: str) -> str:
    """The first line of a block; ``tool`` may carry a part name (``codex/provider``) for a second block."""
    name = tool.partition("/")[0]
    return (f"# >>> llmswitch {tool}: written by `llmswitch connect {name}`; "
            f"`llmswitch disconnect {name}` removes it >>>")


def end_marker(tool: str) -> str:
    return f"# <<< llmswitch {tool} <<<"


def _lines(text: str) -> list[str]:
    return text.splitlines(keepends=True)


def has_block(text: str, tool: str) -> bool:
    return any(line.rstrip("\r\n") == begin_marker(tool) for line in _lines(text))


def block_body(text: str, tool: str) -> str | None:
    """The text between our markers (None when there is no block)."""
    inside: list[str] | None = None
    for line in _lines(text):
        bare = line.rstrip("\r\n")
        if bare == begin_marker(tool):
            inside = []
        elif bare == end_marker(tool) and inside is not None:
            return "".join(inside)
        elif inside is not None:
            inside.append(line)
    return None


def strip(text: str, tool: str) -> str:
    """``text`` without our block(s) and with displaced lines put back: the user's own text."""
    kept: list[str] = []
    inside = False
    begin, end = begin_marker(tool), end_marker(tool)
    for line in _lines(text):
        bare = line.rstrip("\r\n")
        if bare == begin:
            inside = True
        elif inside:
            inside = bare != end
        elif line.startswith(DISPLACED + f"[{tool}] "):
            kept.append(line[len(DISPLACED) + len(tool) + 3:])
        else:
            kept.append(line)
    return "".join(kept)


def _is_begin(line: str, tool: str) -> bool:
    """Our begin marker, also one an editor re-indented or re-wrapped (trailing words changed)."""
    return line.strip().startswith(f"# >>> llmswitch {tool}:")


def _is_end(line: str, tool: str) -> bool:
    return line.strip() == end_marker(tool)


def marker_problems(text: str, tool: str) -> list[tuple[int, str]]:
    """(line number, what is wrong) with our markers of ``tool``'s block: none, or one begin then one end, intact.

    A block that is not whole cannot be told apart from the user's lines, so nothing may
    edit through it: the engine refuses and says where.
    """
    begins: list[int] = []
    ends: list[int] = []
    problems: list[tuple[int, str]] = []
    for number, line in enumerate(_lines(text), 1):
        bare = line.rstrip("\r\n")
        if _is_begin(line, tool):
            begins.append(number)
            if bare != begin_marker(tool):
                problems.append((number, f"llmswitch's begin marker of its {tool} block was changed"))
        elif _is_end(line, tool):
            ends.append(number)
            if bare != end_marker(tool):
                problems.append((number, f"llmswitch's end marker of its {tool} block was changed"))
    if len(begins) > 1:
        problems.append((begins[1], f"llmswitch's {tool} block begins a second time"))
    if len(ends) > 1:
        problems.append((ends[1], f"llmswitch's {tool} block ends a second time"))
    if begins and not ends:
        problems.append((begins[0], f"llmswitch's {tool} block has no end marker ({end_marker(tool)!r})"))
    if ends and not begins:
        problems.append((ends[0], f"llmswitch's {tool} block has an end marker but no begin marker"))
    if begins and ends and ends[0] < begins[0]:
        problems.append((ends[0], f"llmswitch's {tool} block ends (line {ends[0]}) before it begins "
                                  f"(line {begins[0]})"))
    return sorted(problems)


def salvage(text: str, tool: str, body: str | None) -> str:
    """``text`` without our ``tool`` block — its markers, whole or damaged, and the lines we wrote (``body``) —
    and with every other line kept where it is (a line the user added inside the block stays).

    A whole block is begin..end. A begin marker without its end reaches to the next llmswitch
    marker or the end of the file, an end marker without its begin back to the previous one or
    the start. With both markers gone, the region is the run of our lines (and comments) around
    the first one left as written, reaching past lines of the user's to more of ours as written.
    In that region our lines go: first those still as we wrote them, then one of our settings
    whose value the user changed (same key: two would be a duplicate key). Displaced lines stay
    displaced (:func:`strip` puts them back).
    """
    from collections import Counter

    lines = _lines(text)
    fence = [i for i, line in enumerate(lines) if line.lstrip().startswith(("# >>> llmswitch ", "# <<< llmswitch "))]
    begins = [i for i, line in enumerate(lines) if _is_begin(line, tool)]
    ends = [i for i, line in enumerate(lines) if _is_end(line, tool)]
    regions: list[tuple[int, int]] = []  # (first, last) line indexes, markers included
    paired: set[int] = set()
    for b in begins:
        after = [i for i in fence if i > b]
        if after and after[0] in ends:
            paired.add(after[0])
            regions.append((b, after[0]))
        else:
            regions.append((b, after[0] - 1 if after else len(lines) - 1))
    for e in ends:
        if e not in paired:
            before = [i for i in fence if i < e]
            regions.append((before[-1] + 1 if before else 0, e))
    if not begins and not ends and body:  # both markers gone: the run around the first line of ours left as written
        exact = {line.rstrip("\r\n") for line in _lines(body)}
        keys = {_setting(line) for line in _lines(body)} - {""}

        def ours(i: int) -> bool:
            return lines[i].rstrip("\r\n") in exact or _setting(lines[i]) in keys

        start = next((i for i, line in enumerate(lines) if line.rstrip("\r\n") in exact and line.strip()), None)
        if start is not None:  # the run may have the user's comments in it (kept: only our lines go)
            first, last = start, start
            i = start - 1
            while i >= 0 and i not in fence and (ours(i) or lines[i].lstrip().startswith("#")):
                first = i if ours(i) else first
                i -= 1
            i = start + 1
            while i < len(lines) and i not in fence and (ours(i) or lines[i].lstrip().startswith("#")):
                last = i if ours(i) else last
                i += 1
            # lines of ours still as written beyond a line of the user's (they added one among ours): the run
            # reaches them too, as far as such lines are left to find (a changed one counts only inside the run)
            unfound = Counter(line.rstrip("\r\n") for line in _lines(body) if line.strip())
            unfound.subtract(lines[i].rstrip("\r\n") for i in range(first, last + 1))
            for step, edge in ((1, last), (-1, first)):
                i = edge + step
                while 0 <= i < len(lines) and i not in fence and +unfound:
                    bare = lines[i].rstrip("\r\n")
                    if unfound[bare] > 0:
                        unfound[bare] -= 1
                        first, last = min(first, i), max(last, i)
                    i += step
            regions.append((first, last))
    drop: set[int] = set()
    for first, last in regions:
        drop.update(i for i in (first, last) if i in begins or i in ends)
        left = Counter(line.rstrip("\r\n") for line in _lines(body or ""))
        others = []
        for i in range(first, last + 1):
            bare = lines[i].rstrip("\r\n")
            if i in drop:
                continue
            if left[bare] > 0:
                left[bare] -= 1
                drop.add(i)
            else:
                others.append(i)
        wanted = Counter(_setting(line) for line, n in left.items() for _ in range(n) if _setting(line))
        for i in others:
            key = _setting(lines[i])
            if key and wanted[key] > 0:
                wanted[key] -= 1
                drop.add(i)
    return "".join(line for i, line in enumerate(lines) if i not in drop)


def line_of_any(text: str, body: str) -> int | None:
    """The number of the first line of ``text`` that is one of ``body``'s non-blank lines (None: none is left)."""
    ours = {line.rstrip("\r\n") for line in _lines(body) if line.strip()}
    return next((n for n, line in enumerate(_lines(text), 1) if line.rstrip("\r\n") in ours), None)


def _setting(line: str) -> str:
    """The key a TOML/YAML line sets (``model`` of ``model = "x"``, ``  api_base: y``, ``- model_id: z``), or ``""``."""
    found = re.match(r"^\s*(?:-\s+)?([A-Za-z0-9_.\-\"\[\]]+)\s*[=:]", line)
    return found.group(1) if found else ""


def _block(tool: str, body: str, newline: str) -> str:
    body = body if body.endswith("\n") or not body else body + "\n"
    return f"{begin_marker(tool)}{newline}{body}{end_marker(tool)}{newline}"


def newline_of(text: str) -> str:
    return "\r\n" if "\r\n" in text else "\n"


def add_block(text: str, tool: str, body: str, *, at: str = "end", before: Callable[[str], bool] | None = None) -> str:
    """``text`` (already stripped) with our block at the end, at the top, or before the first line ``before`` accepts.

    ``at="top"`` puts it after a leading run of comment and blank lines (a shebang or a
    schema comment stays first).
    """
    newline = newline_of(text)
    block = _block(tool, body.replace("\n", newline) if newline != "\n" else body, newline)
    lines = _lines(text)
    if at == "end":
        if lines and not lines[-1].endswith("\n"):
            lines[-1] += newline
        return "".join(lines) + block
    index = 0
    if before is not None:
        index = next((i for i, line in enumerate(lines) if before(line)), len(lines))
    else:
        while index < len(lines) and (not lines[index].strip() or lines[index].lstrip().startswith("#")):
            index += 1
    return "".join(lines[:index]) + block + "".join(lines[index:])


def displace(text: str, tool: str, is_owned: Callable[[str], bool], *, continues: Callable[[str], bool] | None = None,
             stop: Callable[[str], bool] | None = None) -> str:
    """Comment out each line ``is_owned`` accepts (and the lines ``continues`` accepts right after it).

    Scanning ends at the first line ``stop`` accepts (e.g. TOML's first table header: only
    top-level keys are ours to displace).
    """
    out: list[str] = []
    carrying = False
    stopped = False
    for line in _lines(text):
        if not stopped and stop is not None and stop(line):
            stopped = True
        if not stopped and (is_owned(line) or (carrying and continues is not None and continues(line))):
            out.append(f"{DISPLACED}[{tool}] {line}")
            carrying = True
            continue
        carrying = False
        out.append(line)
    return "".join(out)


def displace_at(text: str, tool: str, numbers: set[int]) -> str:
    """Comment out the lines at ``numbers`` (0-based) the way :func:`displace` does; disconnect puts them back."""
    return "".join(f"{DISPLACED}[{tool}] {line}" if n in numbers else line for n, line in enumerate(_lines(text)))


def displaced_lines(text: str, tool: str) -> list[str]:
    """The user's lines that are displaced right now (what disconnect puts back)."""
    prefix = DISPLACED + f"[{tool}] "
    return [line[len(prefix):].rstrip("\r\n") for line in _lines(text) if line.startswith(prefix)]


# --- TOML and YAML scalars we write ----------------------------------------------------------

def toml_string(value: str) -> str:
    """A TOML basic string (JSON's escapes are valid TOML escapes for these characters)."""
    return json.dumps(value, ensure_ascii=False)


def yaml_string(value: str) -> str:
    """A YAML double-quoted scalar (a JSON string is valid YAML 1.2 and PyYAML's 1.1)."""
    return json.dumps(value, ensure_ascii=True)


def top_level_key(names: Iterable[str], separator: str) -> Callable[[str], bool]:
    """A predicate: the line sets one of ``names`` at the top level (no indent), TOML ``=`` or YAML ``:``."""
    alternatives = "|".join(re.escape(n) for n in names)
    pattern = re.compile(rf"^(?:{alternatives})\s*{re.escape(separator)}")
    return lambda line: bool(pattern.match(line))


def indented(line: str) -> bool:
    """A YAML continuation line (indented, or blank inside a block scalar)."""
    return line[:1] in (" ", "\t")


def toml_table_header(line: str) -> bool:
    return line.lstrip().startswith("[")


# --- JSON / JSONC members, edited in place ----------------------------------------------------

class JSONEditError(ValueError):
    """The text is not an object we can edit in place (the caller says which file and why)."""


def _skip(text: str, i: int) -> int:
    """Past whitespace and JSONC comments."""
    while i < len(text):
        if text[i] in " \t\r\n":
            i += 1
        elif text.startswith("//", i):
            j = text.find("\n", i)
            i = len(text) if j < 0 else j + 1
        elif text.startswith("/*", i):
            j = text.find("*/", i + 2)
            if j < 0:
                raise JSONEditError("an unterminated /* comment")
            i = j + 2
        else:
            break
    return i


def _string_end(text: str, i: int) -> int:
    j = i + 1
    while j < len(text):
        if text[j] == "\\":
            j += 2
        elif text[j] == '"':
            return j + 1
        else:
            j += 1
    raise JSONEditError("an unterminated string")


def _value_end(text: str, i: int) -> int:
    if i >= len(text):
        raise JSONEditError("a value is missing")
    if text[i] == '"':
        return _string_end(text, i)
    if text[i] in "{[":
        depth = 0
        j = i
        while j < len(text):
            j = _skip(text, j)
            if j >= len(text):
                break
            c = text[j]
            if c == '"':
                j = _string_end(text, j)
                continue
            if c in "{[":
                depth += 1
            elif c in "}]":
                depth -= 1
                if depth == 0:
                    return j + 1
            j += 1
        raise JSONEditError("an unclosed object or array")
    m = re.compile(r"[^,}\]\s/]+").match(text, i)
    if not m:
        raise JSONEditError(f"an unexpected {text[i]!r}")
    return m.end()


def _members(text: str, start: int) -> tuple[list[tuple[str, int, int, int]], int]:
    """Members of the object opening at ``start``: (name, member start, value start, value end), and the ``}`` index."""
    if text[start] != "{":
        raise JSONEditError("not an object")
    found: list[tuple[str, int, int, int]] = []
    i = _skip(text, start + 1)
    while i < len(text) and text[i] != "}":
        if text[i] != '"':
            raise JSONEditError(f"an unexpected {text[i]!r} where a member name belongs")
        name_end = _string_end(text, i)
        name = json.loads(text[i:name_end])
        j = _skip(text, name_end)
        if j >= len(text) or text[j] != ":":
            raise JSONEditError("a member without ':'")
        value_start = _skip(text, j + 1)
        value_end = _value_end(text, value_start)
        found.append((name, i, value_start, value_end))
        i = _skip(text, value_end)
        if i < len(text) and text[i] == ",":
            i = _skip(text, i + 1)
    if i >= len(text):
        raise JSONEditError("an unclosed object")
    return found, i


def _indent_at(text: str, index: int) -> str:
    line_start = text.rfind("\n", 0, index) + 1
    return re.match(r"[ \t]*", text[line_start:]).group(0)  # type: ignore[union-attr]


def _root(text: str) -> int:
    i = _skip(text, 0)
    if i >= len(text):
        raise JSONEditError("the file is empty")
    return i


def json_get(text: str, path: tuple[str, ...]) -> Any:
    """The value at ``path`` (JSONC allowed around it), or raises KeyError."""
    start = _root(text)
    for depth, name in enumerate(path):
        members, _ = _members(text, start)
        hit = [m for m in members if m[0] == name]
        if not hit:
            raise KeyError(name)
        start = hit[-1][2]
        if depth == len(path) - 1:
            return json.loads(text[start:hit[-1][3]])
    return json.loads(text[start:_value_end(text, start)])


def json_line(text: str, path: tuple[str, ...]) -> int | None:
    """The line where the member at ``path`` starts (or the deepest object that should hold it); None when unreadable."""
    try:
        start = _root(text)
        line = text.count("\n", 0, start) + 1  # the object that should hold it
        for name in path:
            members, _ = _members(text, start)
            hit = [m for m in members if m[0] == name]
            if not hit:
                break
            line = text.count("\n", 0, hit[-1][1]) + 1
            start = hit[-1][2]
            if text[start] != "{":
                break
        return line
    except JSONEditError:
        return None


def json_set(text: str, path: tuple[str, ...], value: Any) -> str:
    """``text`` with the member at ``path`` set to ``value``; parents are created; everything else kept."""
    if not text.strip():
        text = "{\n}\n"
    start = _root(text)
    for depth, name in enumerate(path):
        members, close = _members(text, start)
        hit = [m for m in members if m[0] == name]
        last = depth == len(path) - 1
        if hit:
            _, _, value_start, value_end = hit[-1]
            if last:
                indent = _indent_at(text, hit[-1][1])
                rendered = _render(value, indent)
                return text[:value_start] + rendered + text[value_end:]
            if text[value_start] != "{":
                raise JSONEditError(f"{'.'.join(path[:depth + 1])} is not an object")
            start = value_start
            continue
        rest: Any = value
        for inner in reversed(path[depth + 1:]):
            rest = {inner: rest}
        indent = (_indent_at(text, members[0][1]) if members else _indent_at(text, start) + "  ")
        member = f"{json.dumps(name)}: {_render(rest, indent)}"
        if members:
            tail = members[-1][3]
            return f"{text[:tail]},\n{indent}{member}{text[tail:]}"
        closing_indent = _indent_at(text, close)
        return f"{text[:start + 1]}\n{indent}{member}\n{closing_indent}{text[close:]}"
    raise JSONEditError("an empty path")


def json_remove(text: str, path: tuple[str, ...]) -> str:
    """``text`` without the member at ``path`` (and its comma); unchanged when it is absent."""
    start = _root(text)
    for depth, name in enumerate(path):
        members, _ = _members(text, start)
        index = next((k for k in range(len(members) - 1, -1, -1) if members[k][0] == name), None)
        if index is None:
            return text
        _, member_start, value_start, value_end = members[index]
        if depth < len(path) - 1:
            start = value_start
            if text[start] != "{":
                return text
            continue
        if index + 1 < len(members):  # cut up to the next member's start
            return text[:member_start] + text[members[index + 1][1]:]
        if index > 0:  # the last member: cut from the previous value's end
            cut_from = members[index - 1][3]
            after = _skip(text, value_end)
            after = after + 1 if after < len(text) and text[after] == "," else value_end
            return text[:cut_from] + text[after:]
        after = _skip(text, value_end)
        after = after + 1 if after < len(text) and text[after] == "," else value_end
        line_start = text.rfind("\n", 0, member_start)
        return text[:line_start if line_start > start else member_start] + text[after:]
    return text


def _render(value: Any, indent: str) -> str:
    """``value`` as JSON laid out like its surroundings (two more spaces per level)."""
    rendered = json.dumps(value, indent=2, ensure_ascii=False)
    return rendered.replace("\n", "\n" + indent)


# --- YAML, read the way the tools read it ------------------------------------------------------

def load_yaml(text: str) -> Any:
    """``yaml.safe_load`` (what aider's configargparse and llm use) when PyYAML is installed.

    Without it, a strict reader of the subset these files use (a top-level mapping or a list
    of mappings, of scalars) stands in; anything beyond that subset is a ValueError rather
    than a guess.
    """
    try:
        import yaml  # type: ignore[import-untyped,unused-ignore]
    except ImportError:
        return _subset_yaml(text)
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f", line {mark.line + 1}" if mark is not None else ""
        raise ValueError(f"not valid YAML ({str(exc).splitlines()[0]}{where})") from None


def _scalar(raw: str) -> Any:
    raw = raw.strip()
    if raw.startswith('"'):
        return json.loads(raw)
    if raw.startswith("'") and raw.endswith("'") and len(raw) >= 2:
        return raw[1:-1].replace("''", "'")
    if raw[:1] in ("{", "[", "|", ">", "&", "*", "!"):
        raise ValueError(f"{raw[:20]!r} is beyond the YAML llmswitch can check without PyYAML")
    raw = re.sub(r"\s+#.*$", "", raw)
    return {"true": True, "false": False, "null": None, "~": None, "": None}.get(raw.lower(), raw)


def _subset_yaml(text: str) -> Any:
    items: list[dict[str, Any]] = []
    mapping: dict[str, Any] = {}
    pair = re.compile(r"^([A-Za-z0-9_.-]+)\s*:(?:\s+(.*))?$")
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip() or line.lstrip().startswith("#") or line.strip() == "---":
            continue
        body = line
        if line.startswith("- "):
            items.append({})
            body = line[2:]
        elif items and line.startswith("  "):
            body = line[2:]
        match = pair.match(body)
        if not match:
            raise ValueError(f"line {number} is beyond the YAML llmswitch can check without PyYAML")
        (items[-1] if items and body is not line else mapping)[match.group(1)] = _scalar(match.group(2) or "")
    if items and mapping:
        raise ValueError("a list and a mapping at the top level")
    return items if items else (mapping or None)
