"""Changing ``config.toml``: add, replace or remove one provider, touching only its lines.

A provider may be written in any TOML shape: a ``[providers.ID]`` table, sub-tables such as
``[providers.ID.headers]`` anywhere in the file, dotted keys under ``[providers]`` or at the
top. Its lines (and the comment directly above each) are found by
:func:`llmswitch.base.tomlpos.owned_ranges` and cut; nothing else is rewritten, line endings
(CRLF stays CRLF) included. Before anything is written the result is read back with
``tomllib`` and must equal the old data with only that provider changed, or the file is
left as it was. Edits are never on the read path.
"""

from __future__ import annotations

import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ...base import paths
from ...base.errors import ConfigError, UnknownProvider
from ...base.redact import shown
from ...base.tomlpos import key_lines, without
from .model import PROVIDER_ID, Config, Problem, did_you_mean
from .validate import load, parse

__all__ = ["HEADER", "add_provider", "change_settings", "remove_provider", "render_provider", "written_settings"]

HEADER = """\
# llmswitch providers — see `llmswitch config check` and docs/config.md in llmswitch's repository.
# Keys are never stored here: `llmswitch key set PROVIDER` puts them in the OS keyring.
"""


def render_provider(provider_id: str, settings: dict[str, Any]) -> str:
    """The TOML text of one ``[providers.ID]`` table."""
    import tomli_w

    return tomli_w.dumps({"providers": {provider_id: settings}})


def add_provider(provider_id: str, settings: dict[str, Any], *, replace: bool = False,
                 path: Path | None = None) -> Config:
    """Add (or with ``replace`` overwrite) one provider, keeping the rest of the file as it is.

    The new text is validated before it is written; on any problem the file is
    left untouched and ConfigError is raised.
    """
    from ...base.files import atomic_write, locked

    path = path or paths.config_file()
    if not PROVIDER_ID.match(provider_id):
        raise ConfigError([Problem(f"provider id {shown(provider_id)} must be lowercase letters, digits, '.', '_' "
                                   f"or '-'", "choose another id")])
    with locked(path):
        current = load(path)  # refuses to edit a file that already has errors
        text = _read(path) if current.exists else HEADER
        if provider_id in current.providers:
            if not replace:
                raise ConfigError([Problem(f"provider {provider_id!r} is already configured",
                                           f"use --replace, or remove it first: llmswitch providers rm {provider_id}",
                                           file=str(path), line=key_lines(text).get(("providers", provider_id)))])
            text = _without(text, provider_id, path)
        newline = _newline(text)
        block = render_provider(provider_id, settings).replace("\n", newline)
        body = text.rstrip("\r\n")
        new_text = body + newline * 2 + block if body.strip() else block
        _expect(text, new_text, provider_id, path, added=tomllib.loads(block)["providers"][provider_id])
        config = parse(new_text.encode("utf-8"), path)
        atomic_write(path, new_text.encode("utf-8"))
    if path == paths.config_file():  # active.toml's copy of the key facts follows (not a switch)
        from ..keydecision import refresh_selections

        refresh_selections((provider_id,), config)
    return config


def remove_provider(provider_id: str, path: Path | None = None) -> Config:
    """Remove one provider's lines from the file, keeping everything else byte for byte."""
    from ...base.files import atomic_write, locked

    path = path or paths.config_file()
    with locked(path):
        current = load(path)
        if provider_id not in current.providers:
            close = did_you_mean(provider_id, sorted(current.providers))
            hint = f"did you mean {', '.join(close)}? " if close else ""
            count = len(current.providers)
            raise UnknownProvider(f"provider {shown(provider_id, 40)} is not in {path}",
                                  f"nothing was removed; {hint}llmswitch list shows the {count} configured "
                                  f"provider{'s' if count != 1 else ''}" if count else
                                  "nothing was removed; no provider is configured")
        text = _read(path)
        new_text = _without(text, provider_id, path)
        _expect(text, new_text, provider_id, path)
        config = parse(new_text.encode("utf-8"), path)
        atomic_write(path, new_text.encode("utf-8"))
        return config


def written_settings(provider_id: str, path: Path | None = None) -> dict[str, Any]:
    """The provider's table exactly as written in config.toml ({} when it is not there)."""
    try:
        data = tomllib.loads(_read(path or paths.config_file()))
    except FileNotFoundError:
        return {}
    table = data.get("providers", {})
    body = table.get(provider_id, {}) if isinstance(table, dict) else {}
    return dict(body) if isinstance(body, dict) else {}


def change_settings(provider_id: str, change: Callable[[dict[str, Any]], object], path: Path | None = None) -> Config:
    """Apply ``change`` (which edits the dict in place) to the provider's table and write it back, validated.

    Raises ConfigError (the file is then left as it was) or OSError. Blocking.
    """
    settings = written_settings(provider_id, path)
    change(settings)
    return add_provider(provider_id, settings, replace=True, path=path)


# --- the text ------------------------------------------------------------------------------------

def _read(path: Path) -> str:
    """The file's text with its own line endings (``read_text`` would turn CRLF into LF)."""
    return path.read_bytes().decode("utf-8")


def _newline(text: str) -> str:
    return "\r\n" if "\r\n" in text else "\n"


def _without(text: str, provider_id: str, path: Path) -> str:
    try:
        return without(text, ("providers", provider_id))
    except ValueError as exc:
        line = exc.args[0] if exc.args and isinstance(exc.args[0], int) else None
        raise ConfigError([Problem(f"provider {provider_id!r} is written inside a value that also holds other "
                                   f"providers, so it has no lines of its own to change",
                                   f"give it its own [providers.{provider_id}] table, then run the command again",
                                   file=str(path), line=line)]) from None


def _normal(data: dict[str, Any]) -> dict[str, Any]:
    """``data`` with an empty ``providers`` table dropped (a left-over ``[providers]`` header is fine)."""
    return {k: v for k, v in data.items() if not (k == "providers" and v == {})}


def _expect(old_text: str, new_text: str, provider_id: str, path: Path, *, added: Any = None) -> None:
    """Refuse the edit unless only ``provider_id`` changed (to ``added``, or gone)."""
    expected = tomllib.loads(old_text)
    providers = expected.get("providers", {})
    providers = {k: v for k, v in providers.items() if k != provider_id} if isinstance(providers, dict) else providers
    if added is not None:
        providers[provider_id] = added
    expected["providers"] = providers
    new = _loads_or_none(new_text)
    if new is None or _normal(new) != _normal(expected):
        raise ConfigError([Problem(f"could not change provider {provider_id!r} without touching other lines "
                                   f"(its TOML shape is unusual)", "edit the file by hand; it was not changed",
                                   file=str(path))])


def _loads_or_none(text: str) -> dict[str, Any] | None:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError:
        return None
