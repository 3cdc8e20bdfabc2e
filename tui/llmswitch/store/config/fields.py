"""The checkers of ``config.toml``: one small function per provider field, one per rule.

Each checker is ``check(entry, value)``: it calls ``entry.set(...)`` with what it accepts or
``entry.problem(...)`` with a cause and a fix; :data:`FIELD_CHECKS` maps each field to its
checker and :data:`RULES` lists the checks that look at several fields.
:mod:`.validate` reads the file and runs them. Nothing a file holds reaches the terminal
raw: values are shown through :func:`llmswitch.base.redact.shown`, anything shaped like a key
never, and characters that cannot be seen or sent are named (``U+200B ZERO WIDTH SPACE``).

To add a provider field: describe it in :data:`.model.PROVIDER_FIELDS`, write its checker
here and add it to :data:`FIELD_CHECKS`.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ...base import chars, urls
from ...base.redact import SECRET_HEADERS, is_secret_header, looks_like_secret, shown, terminal_safe
from ..selection import KEY_SOURCES
from .model import (
    DEFAULT_TIMEOUT,
    HEADER_SOURCE_FIELDS,
    PROVIDER_ID,
    SECRET_FIELD_NAMES,
    HeaderSource,
    Problem,
    ProviderConfig,
    provider_from_preset,
)

if TYPE_CHECKING:
    from ..catalog import Preset

__all__ = [
    "FIELD_CHECKS", "PLACEHOLDER_MODELS", "RULES", "Entry", "Report", "check_env_name", "check_model_id",
    "model_id_problem", "seconds", "secret_name",
]

PLACEHOLDER_MODELS = {
    "", "default", "model", "models", "model-name", "model_name", "your-model", "your_model", "your-model-name",
    "<model>", "{model}", "$model", "changeme", "change-me", "todo", "tbd", "xxx", "none", "null", "undefined",
    "placeholder", "example", "auto",
}
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_HEADER_NAME = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")
_KEYRING_ENTRY = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:@-]{0,127}$")
_SOURCE_FORMS = '"keyring", "env:VAR_NAME", "command:pass show NAME" or "none"'


# --- value checks shared with switch, the CLI and the app --------------------------------------

def model_id_problem(model: object) -> tuple[str, str | None] | None:
    """``(cause, fix)`` when ``model`` cannot be sent to an API, or None when it can."""
    if not isinstance(model, str):
        return "a model id must be a string", None
    stripped = model.strip()
    if not stripped:
        return "the model id is empty", "name a model after the slash (llmswitch list PROVIDER shows them)"
    if stripped != model or any(ch.isspace() for ch in model):
        return f"model id {shown(model)} contains whitespace", None
    if stripped.lower() in PLACEHOLDER_MODELS or re.fullmatch(r"[<{\[].*[>}\]]", stripped):
        return (f"{shown(stripped)} is a placeholder, not a model id",
                "name a real model (llmswitch list shows them)")
    odd = chars.first_invisible(model)
    if odd is not None:
        return f"model id contains {chars.where_in(odd)}", "type the model id again"
    return None


def check_model_id(model: object) -> str | None:
    """Why ``model`` cannot be sent to an API (one sentence), or None when it can."""
    found = model_id_problem(model)
    if found is None:
        return None
    cause, fix = found
    return f"{cause} — {fix}" if fix else cause


def check_env_name(name: str) -> str | None:
    """Why ``name`` cannot be the env var that holds a key (None when it can)."""
    if looks_like_secret(name):
        return "that is a key, not the name of an environment variable — type a name like GROQ_API_KEY"
    if not _ENV_NAME.match(name):
        return "not an environment variable name (letters, digits and _ only, e.g. GROQ_API_KEY)"
    return None


# --- collecting problems -------------------------------------------------------------------------

class Report:
    """Problems found so far, each placed on the line of its key (or of the nearest table)."""

    def __init__(self, path: Path, lines: dict[tuple[str, ...], int]) -> None:
        self.path = path
        self.lines = lines
        self.problems: list[Problem] = []

    def add(self, key: tuple[str, ...], cause: str, fix: str | None = None, severity: str = "error") -> None:
        line = None
        for n in range(len(key), 0, -1):
            line = self.lines.get(key[:n])
            if line:
                break
        dotted = ".".join("(key-shaped name)" if looks_like_secret(part) else terminal_safe(part, 60) for part in key)
        self.problems.append(Problem(cause, fix, file=str(self.path), line=line, key=dotted or None,
                                     severity=severity))

    def unknown(self, key: tuple[str, ...], allowed: dict[str, str] | set[str]) -> None:
        name = key[-1]
        if secret_name(name.lower()):
            pid = key[1] if len(key) > 2 and key[0] == "providers" and PROVIDER_ID.match(key[1]) else "PROVIDER"
            self.add(key, "keys never go in config.toml",
                     f"delete this line and run: llmswitch key set {pid} (or key_source = \"env:VAR\")")
            return
        close = difflib.get_close_matches(name, list(allowed), n=1, cutoff=0.6)
        fix = f"did you mean {close[0]!r}?" if close else f"known keys: {', '.join(sorted(allowed))}"
        self.add(key, f"unknown key {shown(name)}", fix)


def secret_name(lowered: str) -> bool:
    """``api_key``, ``OPENAI_API_KEY``, ``token``…: a key that would hold a secret."""
    return lowered in SECRET_FIELD_NAMES or lowered.endswith(("_api_key", "_apikey", "_token", "_secret", "password"))


def seconds(report: Report, key: tuple[str, ...], value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value <= 600:
        report.add(key, f"must be a number of seconds between 0 and 600 (got {shown(value)})")
        return DEFAULT_TIMEOUT
    return float(value)



# --- one provider ---------------------------------------------------------------------------------

class Entry:
    """One ``[providers.ID]`` table being read: its body, its preset, and the values found so far."""

    def __init__(self, report: Report, pid: str, body: dict[str, Any], default_timeout: float) -> None:
        self.report = report
        self.pid = pid
        self.body = body
        self.preset: Preset | None = None
        self.values: dict[str, Any] = {"id": pid, "configured": True, "timeout": default_timeout}

    def problem(self, sub: tuple[str, ...], cause: str, fix: str | None = None, severity: str = "error") -> None:
        self.report.add(("providers", self.pid, *sub), cause, fix, severity)

    def set(self, **values: Any) -> None:
        self.values.update(values)

    @cached_property
    def base(self) -> ProviderConfig:
        """What the provider is before its own settings: its preset, or a bare custom provider (read after ``preset``)."""
        if self.preset is not None:
            return provider_from_preset(self.preset)
        return ProviderConfig(id=self.pid, name=self.pid, base_url=None)


Checker = Callable[[Entry, Any], None]


# --- field checkers (one per field) ---------------------------------------------------------------

def _visible_text(entry: Entry, field: str, value: str) -> bool:
    """False (and a problem) when ``value`` holds a control, zero-width or direction character."""
    odd = chars.first_invisible(value)
    if odd is None:
        return True
    entry.problem((field,), f"contains {chars.where_in(odd)}, which is not shown on screen",
                  "retype the value without it")
    return False


def _name(entry: Entry, value: Any) -> None:
    if not isinstance(value, str) or not value.strip():
        entry.problem(("name",), "must be a non-empty string")
    elif _visible_text(entry, "name", value):
        entry.set(name=value)


def _kind(entry: Entry, value: Any) -> None:
    from .. import catalog

    if value in catalog.API_KINDS:
        entry.set(kind=value)
        return
    close = difflib.get_close_matches(str(value), catalog.API_KINDS, n=1, cutoff=0.5)
    entry.problem(("kind",), f"unknown API kind {shown(value)}",
                  f"did you mean {close[0]!r}?" if close else f"use one of: {', '.join(catalog.API_KINDS)}")


def _base_url(entry: Entry, value: Any) -> None:
    if not isinstance(value, str):
        entry.problem(("base_url",), f"must be a string (got {type(value).__name__})")
        return
    if not _visible_text(entry, "base_url", value):
        return
    found = urls.problem(value, entry.pid)
    if found is not None:
        entry.problem(("base_url",), *found)
    else:
        entry.set(base_url=value.strip().rstrip("/"))


def _key_source(entry: Entry, raw: Any) -> None:
    if not isinstance(raw, str):
        entry.problem(("key_source",), f"must be a string: {_SOURCE_FORMS}")
        return
    source, _, arg = raw.partition(":")
    form = _KEY_SOURCE_FORMS.get(source) if source in KEY_SOURCES else None
    if form is not None:
        form(entry, source, arg)
    elif looks_like_secret(raw):
        entry.problem(("key_source",), "looks like a key itself; keys never go in config.toml",
                      f"run: llmswitch key set {entry.pid} and set key_source = \"keyring\"")
    else:
        entry.problem(("key_source",), f"not a key source: {shown(raw, 40)}", f"use {_SOURCE_FORMS}")


def _bare_source(entry: Entry, source: str, arg: str) -> None:
    """``keyring`` and ``none`` take nothing after them."""
    if arg:
        entry.problem(("key_source",), f"not a key source: {shown(source + ':' + arg, 40)}",
                      f"use {_SOURCE_FORMS}")
    else:
        entry.set(key_source=source)


def _env_source(entry: Entry, _source: str, arg: str) -> None:
    if looks_like_secret(arg):
        entry.problem(("key_source",), "names a key, not an environment variable; keys never go in config.toml",
                      f"use the variable's name, e.g. key_source = \"env:{entry.pid.upper().replace('-', '_')}_API_KEY\"")
    elif _ENV_NAME.match(arg):
        entry.set(key_source="env", key_env=(arg,))
    else:
        entry.problem(("key_source",), f"not a key source: {shown('env:' + arg, 40)}",
                      'name an environment variable, e.g. "env:GROQ_API_KEY"')


def _command_source(entry: Entry, _source: str, arg: str) -> None:
    import shlex

    command = arg.strip()
    if not command:
        entry.problem(("key_source",), "command: names no command", 'e.g. key_source = "command:pass show groq"')
        return
    if not _visible_text(entry, "key_source", command):
        return
    try:
        argv = shlex.split(command)
    except ValueError as exc:
        entry.problem(("key_source",), f"the key command cannot be parsed ({str(exc).lower()})",
                      "fix its quoting in key_source (it runs without a shell, split like a shell line)")
        return
    if not argv:
        entry.problem(("key_source",), "command: names no command", 'e.g. key_source = "command:pass show groq"')
    elif any(looks_like_secret(part) for part in argv):
        entry.problem(("key_source",), "the key command holds a key itself; keys never go in config.toml",
                      f"run: llmswitch key set {entry.pid} and set key_source = \"keyring\"")
    else:
        entry.set(key_source="command", key_command=command)


_KEY_SOURCE_FORMS: dict[str, Callable[[Entry, str, str], None]] = {
    "keyring": _bare_source, "none": _bare_source,
    "env": _env_source, "command": _command_source,
}
"""One checker per form of ``key_source`` (the names are :data:`llmswitch.store.selection.KEY_SOURCES`)."""


def _key_required(entry: Entry, value: Any) -> None:
    if isinstance(value, bool):
        entry.set(key_required=value)
    else:
        entry.problem(("key_required",), f"must be true or false (got {shown(value)})")


def _headers(entry: Entry, value: Any) -> None:
    if not isinstance(value, dict):
        entry.problem(("headers",), "must be a table of string values", 'e.g. headers = { "X-Title" = "my app" }')
        return
    literal: dict[str, str] = {}
    sources: list[HeaderSource] = []
    for name, hvalue in value.items():
        found = _header(entry, name, hvalue)
        if isinstance(found, HeaderSource):
            sources.append(found)
        elif found is not None:
            literal[name] = found
    entry.set(headers=literal, header_sources=tuple(sources))


def _secret_header_fix(name: str) -> str:
    var = re.sub(r"[^A-Z0-9]", "_", name.upper()).strip("_") or "HEADER_SECRET"
    return f'take it from the environment instead: "{name}" = {{ env = "{var}" }}, then export {var}'


def _header(entry: Entry, name: str, value: Any) -> str | HeaderSource | None:
    """A literal value, a source for a secret one, or None (a problem was reported)."""
    where = ("headers", name)
    if not _HEADER_NAME.fullmatch(name):
        entry.problem(where, "is not a valid HTTP header name", "use letters, digits and - only")
    elif name.lower() in SECRET_HEADERS:
        entry.problem(where, "a credential header does not belong in config.toml; it carries the provider's key",
                      f"remove it and run: llmswitch key set {entry.pid} (or set key_source)")
    elif isinstance(value, dict):
        return _header_source(entry, name, value)
    elif not isinstance(value, str):
        entry.problem(where, f"must be a string (got {type(value).__name__})",
                      f'e.g. "{name}" = "my app", or {{ env = "VAR" }} for a secret value')
    elif is_secret_header(name):
        entry.problem(where, "looks like a credential header, so its value does not belong in config.toml as text",
                      _secret_header_fix(name))
    elif looks_like_secret(value):
        entry.problem(where, "the value looks like a key, which never goes in config.toml as text",
                      _secret_header_fix(name))
    elif (odd := chars.first_outside_ascii(value, space=True)) is not None:
        entry.problem(where, f"the value contains {chars.where_in(odd)}, which an HTTP header cannot carry",
                      "use plain ASCII in header values")
    else:
        return value
    return None


def _header_source(entry: Entry, name: str, table: dict[str, Any]) -> HeaderSource | None:
    """``{ env = "VAR" }`` or ``{ keyring = "ENTRY" }`` (with an optional ``prefix``)."""
    where = ("headers", name)
    for field in table:
        if field not in HEADER_SOURCE_FIELDS:
            entry.report.unknown(("providers", entry.pid, *where, field), HEADER_SOURCE_FIELDS)
    env, entry_name, prefix = table.get("env"), table.get("keyring"), table.get("prefix", "")
    ok = True
    if (env is None) == (entry_name is None):
        entry.problem(where, "a header's secret comes from exactly one place",
                      f'write "{name}" = {{ env = "VAR" }} or "{name}" = {{ keyring = "{entry.pid}:{name.lower()}" }}')
        ok = False
    if env is not None and (not isinstance(env, str) or check_env_name(env)):
        entry.problem((*where, "env"), "must name an environment variable (letters, digits and _)",
                      'e.g. env = "HELICONE_API_KEY"')
        ok = False
    if entry_name is not None and (not isinstance(entry_name, str) or not _KEYRING_ENTRY.match(entry_name)
                                   or looks_like_secret(entry_name)):
        entry.problem((*where, "keyring"), "must name a keyring entry (letters, digits and . _ : @ -)",
                      f'e.g. keyring = "{entry.pid}:{name.lower()}"')
        ok = False
    if not isinstance(prefix, str) or looks_like_secret(prefix) or chars.first_outside_ascii(prefix, space=True):
        entry.problem((*where, "prefix"), "must be short plain text such as \"Bearer \"",
                      "keep the secret itself in the env var or keyring entry")
        ok = False
    if not ok:
        return None
    return HeaderSource(name, env=env, keyring=entry_name, prefix=prefix)


def _favorites(entry: Entry, value: Any) -> None:
    if not isinstance(value, list) or not all(isinstance(m, str) for m in value):
        entry.problem(("favorites",), "must be a list of model ids", 'e.g. favorites = ["gpt-4o-mini"]')
        return
    for model in value:
        why = model_id_problem(model)
        if why:
            entry.problem(("favorites",), *why)
    entry.set(favorites=tuple(value))


def _timeout(entry: Entry, value: Any) -> None:
    entry.set(timeout=seconds(entry.report, ("providers", entry.pid, "timeout"), value))


def _api_version(entry: Entry, value: Any) -> None:
    if not isinstance(value, str) or chars.first_outside_ascii(value) is not None:
        entry.problem(("api_version",), 'must be a string like "2024-10-21"')
    else:
        entry.set(api_version=value)


FIELD_CHECKS: dict[str, Checker] = {
    "name": _name,
    "kind": _kind,
    "base_url": _base_url,
    "key_source": _key_source,
    "key_required": _key_required,
    "headers": _headers,
    "favorites": _favorites,
    "timeout": _timeout,
    "api_version": _api_version,
}
"""One checker per provider field (``preset`` is read first, by :func:`_preset`: it sets the defaults)."""


# --- rules across fields ---------------------------------------------------------------------------

def _needs_base_url(entry: Entry) -> None:
    if "base_url" not in entry.body and entry.base.base_url is None:
        preset = entry.preset
        hint = f" or set {preset.url_env}" if preset and preset.url_env else ""
        entry.problem(("base_url",), "no base_url", f"add base_url = \"https://…/v1\"{hint}")


def _key_optional_where_obvious(entry: Entry) -> None:
    """A loopback custom server needs no key unless told or seen asking for one (:func:`llmswitch.store.state.needs_key`);
    ``key_source = "none"`` never does."""
    from .. import state

    values = entry.values
    if "key_required" not in entry.body:
        if "base_url" in values and entry.preset is None and urls.is_loopback(values["base_url"]):
            values["key_required"] = False
        elif entry.preset is not None:
            values["key_required"] = entry.preset.key_required  # what a probe taught is per provider id: see below
        if not values.get("key_required", entry.base.key_required) \
                and state.needs_key(entry.pid, values.get("base_url", entry.base.base_url)):
            values["key_required"] = True
    if values.get("key_source", entry.base.key_source) == "none":
        values["key_required"] = False


def _preset_facts(entry: Entry) -> None:
    if entry.preset is not None:
        entry.set(preset=entry.preset.id, local=entry.preset.local, key_check_path=entry.preset.key_check_path,
                  start_hint=entry.preset.start_hint)


RULES: tuple[Callable[[Entry], None], ...] = (
    _needs_base_url, _key_optional_where_obvious, _preset_facts,  # Azure without api_version: its v1 API
)
"""Rules that look at several fields, applied after every field checker."""
