"""JSON members a tool module owns, set and removed in place, with the user's previous values remembered.

opencode and Claude Code keep their settings in one JSON(C) object; llmswitch owns a few
members by path (``("model",)``, ``("env", "ANTHROPIC_BASE_URL")``). :func:`apply` sets them
with :func:`.textedit.json_set` (everything else, comments included, stays as it was) and
returns the memory — what each member held before the first connect, or ``ABSENT`` —
that :func:`restore` puts back on ``disconnect``. :func:`loads_jsonc` reads the text the way
JSONC readers do (comments and trailing commas allowed) for the read-back.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any, ClassVar

from . import textedit
from .base import Tool

if TYPE_CHECKING:
    from collections.abc import Mapping

ABSENT = {"llmswitch": "absent"}
"""Memory marker: the member did not exist before llmswitch set it."""


def _key(path: tuple[str, ...]) -> str:
    return "/".join(path)


def apply(text: str | None, values: Mapping[tuple[str, ...], Any], memory: Mapping[str, Any]) -> tuple[str, dict[str, Any]]:
    """``text`` with each member of ``values`` set; members owned before but not now are put back.

    ``memory`` is what an earlier connect remembered; the result keeps it and adds, for each
    member set for the first time, its previous value (or ``ABSENT``) and the parent objects
    llmswitch had to create.
    """
    members = dict(memory.get("members", {}))
    created = list(memory.get("created", []))
    new_file = bool(memory.get("new_file")) if members else text is None or not text.strip()
    gone = {k: v for k, v in members.items() if tuple(k.split("/")) not in values}
    text = restore(text, {"members": gone, "created": created})
    current = text if text is not None and text.strip() else "{\n}\n"
    kept = {k: v for k, v in members.items() if k not in gone}
    for path, value in values.items():
        if _key(path) not in kept:
            kept[_key(path)] = _get(current, path)
            created += [_key(path[:n]) for n in range(1, len(path))
                        if _get(current, path[:n]) is ABSENT and _key(path[:n]) not in created]
        current = textedit.json_set(current, path, value)
    return current, {"members": kept, "created": created, "new_file": new_file}


def restore(text: str | None, memory: Mapping[str, Any]) -> str | None:
    """``text`` with every remembered member put back (removed when it was absent); objects llmswitch created go
    when they are empty again."""
    if text is None:
        return None
    for key, value in memory.get("members", {}).items():
        path = tuple(key.split("/"))
        text = textedit.json_remove(text, path) if value == ABSENT else textedit.json_set(text, path, value)
    for key in sorted(memory.get("created", []), key=lambda k: -k.count("/")):
        if _get(text, tuple(key.split("/"))) == {}:
            text = textedit.json_remove(text, tuple(key.split("/")))
    if memory.get("new_file") and text.strip() in ("{}", "{\n}"):
        return None  # llmswitch created the file and nothing else is in it
    return text


def owned(text: str | None, memory: Mapping[str, Any]) -> dict[str, Any]:
    """Each member llmswitch owns (by ``memory``) → what it holds in ``text`` now (``ABSENT`` when it is not there)."""
    keys = list(memory.get("members", {}))
    if text is None or not text.strip():
        return {key: ABSENT for key in keys}
    try:
        return {key: _get(text, tuple(key.split("/"))) for key in keys}
    except textedit.JSONEditError:
        return {key: ABSENT for key in keys}


def release(text: str | None, was: Mapping[str, Any], memory: Mapping[str, Any]) -> dict[str, Any]:
    """``memory`` without the members the user changed since llmswitch wrote them (``was``): those are theirs now,
    and :func:`restore` leaves them as they are."""
    now = owned(text, memory)
    members = {k: v for k, v in memory.get("members", {}).items() if k not in was or now.get(k) == was[k]}
    return {**memory, "members": members}


def line(text: str | None, key: str) -> int | None:
    """Where the member ``key`` (``env/ANTHROPIC_MODEL``), or its nearest parent, is in ``text``."""
    return None if text is None else textedit.json_line(text, tuple(key.split("/")))


class OwnedMembers:
    """For a tool module whose parts are members of one JSON(C) file (``json_label``): what they hold, where they
    are, and — on ``disconnect`` — leaving the ones the user changed as the user has them."""

    json_label: ClassVar[str]

    def owned(self, texts: Mapping[str, str | None], memory: Mapping[str, Any]) -> dict[str, Any]:
        return {f"{self.json_label}:{k}": v for k, v in owned(texts[self.json_label], memory).items()}

    def part_name(self, part: str) -> str:
        return f"member {part.replace('/', '.')}"

    def part_line(self, text: str | None, part: str) -> int | None:
        return line(text, part)

    def salvage(self, texts: Mapping[str, str | None], was: Mapping[str, Any],
                memory: Mapping[str, Any]) -> tuple[dict[str, str | None], dict[str, Any]]:
        members = {key.partition(":")[2]: value for key, value in was.items()}
        return dict(texts), release(texts[self.json_label], members, memory)


def _get(text: str, path: tuple[str, ...]) -> Any:
    try:
        return textedit.json_get(text, path)
    except KeyError:
        return ABSENT


def settings_object(text: str | None) -> dict[str, Any] | None:
    """A tool's ``settings.json`` (JSON with comments) as the tool reads it; None when absent or empty. Raises
    UnreadableFile (label ``settings``, with the line) for a file the tool could not read either."""
    from ...base import bounded
    from .base import UnreadableFile, parser_line

    if text is None or not text.strip():
        return None
    if bounded.json_too_deep(text):
        raise UnreadableFile("settings", f"settings.json nests deeper than {bounded.MAX_DEPTH} levels", 1)
    try:
        data = loads_jsonc(text)
    except ValueError as exc:
        raise UnreadableFile("settings", f"settings.json: {exc}", parser_line(str(exc), text)) from None
    if not isinstance(data, dict):
        raise UnreadableFile("settings", "settings.json is not a JSON object", 1)
    return data


def loads_jsonc(text: str) -> Any:
    """Parse JSON with ``//`` and ``/* */`` comments and trailing commas (JSONC); raises ValueError."""
    out: list[str] = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c == '"':
            j = i + 1
            while j < n and text[j] != '"':
                j += 2 if text[j] == "\\" else 1
            out.append(text[i:j + 1])
            i = j + 1
        elif text.startswith("//", i):
            end = text.find("\n", i)
            i = n if end < 0 else end
        elif text.startswith("/*", i):
            end = text.find("*/", i + 2)
            if end < 0:
                raise ValueError("an unclosed /* comment")
            out.append("\n" * text.count("\n", i, end))  # keep line numbers true for error messages
            i = end + 2
        elif c in "]}":
            while out and out[-1].isspace():
                out.pop()
            if out and out[-1] == ",":
                out.pop()
            out.append(c)
            i += 1
        else:
            out.append(c)
            i += 1
    try:
        return json.loads("".join(out))
    except json.JSONDecodeError as exc:
        raise ValueError(f"not valid JSON ({exc.msg} at line {exc.lineno})") from None


class OwnedMembersIn(Tool):
    """For a tool whose parts are members of several JSON(C) files (``json_labels``), beside any marked blocks of
    :attr:`~.base.Tool.blocks` in its other files; the memory is kept per file label (``{"settings": {…}}``)."""

    json_labels: ClassVar[tuple[str, ...]]

    def _is_block(self, part: str) -> bool:
        return any(part in parts for parts in self.blocks.values())

    def owned(self, texts: Mapping[str, str | None], memory: Mapping[str, Any]) -> dict[str, Any]:
        found: dict[str, Any] = super().owned(texts, memory)  # the blocks (Tool.owned)
        for label in self.json_labels:
            found.update({f"{label}:{k}": v for k, v in owned(texts[label], memory.get(label, {})).items()})
        return found

    def part_name(self, part: str) -> str:
        return super().part_name(part) if self._is_block(part) else f"member {part.replace('/', '.')}"

    def part_line(self, text: str | None, part: str) -> int | None:
        return super().part_line(text, part) if self._is_block(part) else line(text, part)

    def salvage(self, texts: Mapping[str, str | None], was: Mapping[str, Any],
                memory: Mapping[str, Any]) -> tuple[dict[str, str | None], dict[str, Any]]:
        out, _ = super().salvage(texts, was, memory)  # the blocks (Tool.salvage)
        kept = dict(memory)
        for label in self.json_labels:
            members = {key.partition(":")[2]: value for key, value in was.items() if key.partition(":")[0] == label}
            kept[label] = release(out[label], members, memory.get(label, {}))
        return out, kept

    def apply_members(self, texts: Mapping[str, str | None], values: Mapping[str, Mapping[tuple[str, ...], Any]],
                      memory: Mapping[str, Any]) -> tuple[dict[str, str | None], dict[str, Any]]:
        """Each JSON file with its members of ``values`` set (:func:`apply`), and the memory per file."""
        out: dict[str, str | None] = {}
        kept: dict[str, Any] = {}
        for label in self.json_labels:
            if not values.get(label) and not memory.get(label, {}).get("members"):
                out[label], kept[label] = texts[label], dict(memory.get(label, {}))
                continue
            out[label], kept[label] = apply(texts[label], values.get(label, {}), memory.get(label, {}))
        return out, kept

    def restore_members(self, texts: Mapping[str, str | None], memory: Mapping[str, Any]) -> dict[str, str | None]:
        """Each JSON file with every remembered member put back (:func:`restore`)."""
        return {label: restore(texts[label], memory.get(label, {})) for label in self.json_labels}
