"""``llmswitch import``: find the providers, models and keys other tools are already set up with.

:func:`discover` reads (never writes) the user-level configs of the tools llmswitch
connects — each tool module's :meth:`~llmswitch.tools.connect.base.Tool.discover` knows its own files, the
same it writes for ``connect`` — and the common env files (``./.env``, ``~/.env``, and those a tool names in
:meth:`~llmswitch.tools.connect.base.Tool.env_files`), and returns one :class:`Found` per endpoint:
a suggested provider id (a preset when the URL or key variable is one), base URL, API
kind, the models named there, and how the key is held there (:class:`FoundKey`: an env-var
reference, a helper command, or a plaintext key with its file and line). Entries llmswitch
wrote itself (``connect``) are skipped. The setup wizard calls :func:`discover` too.

:func:`adopt` turns a find into llmswitch configuration: a provider entry for a custom
endpoint (a preset needs none), with ``key_source`` ``env:VAR`` / ``command:CMD`` when that
is how the tool referred to the key. A plaintext key is moved into the keyring only when
asked (``move_key``); the file that still holds the plaintext copy is always named, since
llmswitch never edits another tool's file to delete it. A key is never printed.

A base URL is trusted as far as the file it was found in: the current directory's ``.env``
(:attr:`Found.project`) is a cloned repository's choice, not yours. So a custom URL never takes a
preset's id or an existing provider's (from any file: it gets its own id, :func:`adopt`); one
from a project file is added only once you confirm it (``accepted_url``: an interactive yes, or
``import --add --accept-url URL``), and reads no key at all — not your env vars, not your keyring,
not ``LLMSWITCH_KEY_<ID>`` — until you name its key source (:data:`NO_KEY_SOURCE_YET`).
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import connect
from .connect.found import KEY_VAR as _KEY_VAR
from .connect.found import OURS, Found, FoundKey
from .connect.found import guess as _guess
from .connect.found import plain as _plain
from .connect.found import read as _read

if TYPE_CHECKING:
    from collections.abc import Iterator, Mapping

    from ..base.outcome import ProbeResult
    from ..store.keydecision import KeyDecision

__all__ = ["NO_KEY_SOURCE_YET", "OURS", "SOURCES", "Found", "FoundKey", "adopt", "discover"]

SOURCES = (*connect.names(), "env")
"""Every tool ``connect`` knows (a new tool module is a new source), then the env files."""
NO_KEY_SOURCE_YET = "none"
"""The ``key_source`` a provider made from a project file's URL is written with: nothing is read (not your
environment, not your keyring) until you name its key source. (How a key source is decided and written is
:mod:`llmswitch.store.keys`' business; this is only the import's "not yet".)"""


def _home(environ: Mapping[str, str]) -> Path:
    return Path(environ["HOME"]) if environ.get("HOME") else Path.home()


def _env_files(environ: Mapping[str, str], cwd: Path) -> Iterator[Found]:
    seen: set[Path] = set()
    home = _home(environ)
    tools = (path for name in connect.names() for path in connect.tool(name).env_files(environ))
    for path in (cwd / ".env", home / ".env", *tools):
        text = _read(path)
        if text is None or path.resolve() in seen:
            continue
        seen.add(path.resolve())
        project = path.parent == cwd and cwd.resolve() != home.resolve()  # ./.env outside your home directory
        values = dict(_dotenv(text))
        base = values.get("OPENAI_BASE_URL") or values.get("OPENAI_API_BASE")
        for var, secret in values.items():
            if not _KEY_VAR.match(var):
                continue
            pid, url, kind = _guess(base if var == "OPENAI_API_KEY" else values.get(var[:-8] + "_BASE_URL"), var)
            model = values.get("OPENAI_MODEL") if var == "OPENAI_API_KEY" else values.get(var[:-8] + "_MODEL")
            yield Found("env", path, pid, url, kind, (model,) if model else (), _plain(text, path, secret), project)


def _dotenv(text: str) -> Iterator[tuple[str, str]]:
    for line in text.splitlines():
        match = re.match(r"^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*?)\s*$", line)
        if match:
            value = match.group(2)
            if value[:1] in ("'", '"') and value[-1:] == value[:1]:
                value = value[1:-1]
            yield match.group(1), re.sub(r"\s+#.*$", "", value) if value[:1] not in ("'", '"') else value


def discover(sources: tuple[str, ...] = SOURCES, environ: Mapping[str, str] | None = None,
             cwd: Path | None = None) -> list[Found]:
    """Everything ``sources`` hold (a tool's unreadable file is skipped: it is theirs, not ours to judge)."""
    environ = os.environ if environ is None else environ
    found: list[Found] = []
    for source in sources:
        try:
            found += list(_env_files(environ, cwd or Path.cwd()) if source == "env"
                          else connect.tool(source).discover(environ))
        except (ValueError, RecursionError):  # RecursionError: YAML, JSONC or TOML nested too deep to parse
            continue
    return found


# --- adopting a find ---------------------------------------------------------------------------

def _key_decision(key: FoundKey | None, pid: str, base_url: str | None, *, move_key: bool, keyring_ok: bool,
                  result: ProbeResult | None = None) -> KeyDecision:
    """The key facts for a find, as :mod:`llmswitch.store.keydecision` decides them: the tool's reference (a
    variable, a command) is kept; a plaintext key moved goes to the keyring; else the keyring when one works,
    ``env:VAR`` when none does, ``none`` for a server that answered without a key — ``result`` (a keyless probe
    of the find's URL) or, without it, the last remembered probe there."""
    from ..store.keydecision import decide_for

    chosen = None
    if key is not None and key.kind in ("env", "command"):
        chosen = f"{key.kind}:{key.name}"
    elif key is not None and key.kind == "plaintext" and move_key:
        chosen = "keyring"
    return decide_for(pid, base_url=base_url, chosen=chosen, keyring_ok=keyring_ok, result=result)


def _default_var(pid: str) -> str:
    from ..store.keydecision import default_variable

    return default_variable(pid)


def _own_id(pid: str, url: str, config: Any) -> tuple[str, Any]:
    """The id a custom URL is configured under, and the entry already there (reused as it is, never changed).

    An entry with the same URL is reused; otherwise the first of ``pid``, ``pid-imported``,
    ``pid-imported-2``… that is neither configured nor a preset, and whose key names
    (``LLMSWITCH_KEY_<ID>``, keyring entry) belong to nothing else (:func:`llmswitch.store.team.claimed`).
    """
    from ..base.errors import LlmswitchError
    from ..store import catalog
    from ..store.team import claimed, collision

    taken = claimed(config)
    base = pid.removesuffix("-imported")
    for candidate in (pid, f"{base}-imported", *(f"{base}-imported-{n}" for n in range(2, 100))):
        existing = config.providers.get(candidate)
        if existing is not None:
            if (existing.base_url or "").rstrip("/") == url:
                return candidate, existing
            continue
        if catalog.preset(candidate) is None and collision(candidate, taken) is None:
            return candidate, None
    raise LlmswitchError(f"no free provider id for {url} (tried {pid} and {base}-imported-2 … -99)",
                         f"add it under an id of your own: llmswitch providers add ID --base-url {url}")


def adopt(found: Found, *, move_key: bool = False, accepted_url: bool = False,
          result: ProbeResult | None = None) -> tuple[str, list[str]]:
    """Configure ``found`` (returns the provider id and what happened, one sentence each); a key is never printed.

    A custom endpoint becomes a provider entry under its own id (:func:`_own_id`: never a preset's,
    never another provider's; an entry with the same URL is reused unchanged). A preset needs an entry
    only when the key is referred to differently from the preset's own variables. ``move_key`` stores a
    plaintext key in the keyring; the file that still holds the plaintext copy is always named.

    A URL from a project file (:attr:`Found.needs_confirmation`) is added only with ``accepted_url``
    (the user confirmed that very URL), with key source :data:`NO_KEY_SOURCE_YET`, and its key is not moved.
    ``result``, a keyless probe of the find's URL, says whether the server wants a key (``key_required``).
    """
    from ..store import catalog, keys
    from ..store.config import edit, load
    from ..store.keydecision import keyring_works

    pid = found.provider
    guarded = found.needs_confirmation
    if guarded and not accepted_url:
        return pid, [f"not added: {found.base_url} comes from a project file ({found.file}), chosen by whoever wrote "
                     f"that project — if you trust it: llmswitch import --add --accept-url {found.base_url}"]
    config = load()
    notes: list[str] = []
    existing = config.providers.get(pid)
    keyring_ok = keyring_works()
    if found.base_url is not None:
        pid, existing = _own_id(pid, found.base_url, config)
    preset = catalog.preset(pid)
    url = found.base_url if found.base_url is not None else preset.resolved_base_url() if preset else None
    decided = {"key_source": NO_KEY_SOURCE_YET} if guarded else _key_decision(
        found.key, pid, url, move_key=move_key, keyring_ok=keyring_ok, result=result).settings()
    source = str(decided["key_source"])
    if found.base_url is not None:
        if existing is None:
            settings: dict[str, Any] = {"base_url": found.base_url, **decided, "name": f"{pid} (from {found.source})"}
            if found.kind != "openai":
                settings["kind"] = found.kind
            edit.add_provider(pid, settings)
            if guarded:
                notes.append(f"added provider {pid} ({found.base_url}, from the project file {found.file}) to "
                             f"{config.path}; it reads no key from your environment or keyring (key_source = "
                             f"\"{NO_KEY_SOURCE_YET}\") until you name its key source there, e.g. "
                             + (f"key_source = \"keyring\", then: llmswitch key set {pid}" if keyring_ok else
                                f"key_source = \"env:{_default_var(pid)}\", then: export {_default_var(pid)}=<the key>"))
            else:
                notes.append(f"added provider {pid} ({found.base_url}, key: {source}) to {config.path}")
        else:
            notes.append(f"{found.base_url} is already configured as {pid}; it was left as it is")
    elif existing is None and source != "keyring" and (
            preset is None or source != f"env:{(preset.key_env or ('',))[0]}"):
        edit.add_provider(pid, {"preset": pid, **decided})
        notes.append(f"added provider {pid} (key: {source}) to {config.path}")
    key = found.key
    if key is not None and key.kind == "plaintext" and key.secret:
        where = f"{key.file}" + (f" (line {key.line})" if key.line else "")
        if guarded:
            notes.append(f"{where} holds a plaintext key; it was not moved (a provider from a project file reads "
                         f"no key until you name its key source)")
        elif source.startswith("env:") and not keyring_ok:  # no keyring here: the variable is the one way
            var = source.removeprefix("env:")
            notes.append(f"{where} holds a plaintext key for {pid}; no keyring works here, so it was not moved — "
                         f"export {var}=<the key> (key_source = \"{source}\")")
        elif not move_key and found.project:
            notes.append(f"{where} is a project file's key for {pid}, chosen by whoever wrote that project; it was "
                         f"not moved (--move-keys moves keys from your own files only) — if it is yours, answer yes "
                         f"at the prompt of a terminal, or: llmswitch key set {pid}")
        elif not move_key:
            notes.append(f"{where} holds a plaintext key for {pid}; it was not moved (add --move-keys, or: "
                         f"llmswitch key set {pid})")
        elif keys.stored(pid) not in (None, key.secret):
            notes.append(f"the keyring already holds another key for {pid}: it was kept, and the one in {where} "
                         f"was not moved")
        else:
            keys.store(pid, key.secret, origin=f"the key in {where}")
            notes.append(f"moved the key for {pid} into the keyring; {where} still holds the plaintext copy — "
                         f"delete it there once nothing else reads it (llmswitch does not edit that file)")
    notes += [f"to use it: llmswitch use {pid}/{model}" for model in found.models]
    return pid, notes
