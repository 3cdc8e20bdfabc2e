"""``llmswitch import``: find the providers, models and keys other tools are already set up with.

:func:`discover` reads (never writes) the user-level configs of the six tools llmswitch
connects — aider, llm, opencode, Codex, Claude Code, Continue — and the common env files
(``./.env``, ``~/.env``, ``~/.continue/.env``), and returns one :class:`Found` per endpoint:
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
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .connect import _jsonmembers as jsonmembers
from .connect import textedit

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator, Mapping

SOURCES = ("aider", "llm", "opencode", "codex", "claude-code", "continue-cli", "env")
NO_KEY_SOURCE_YET = "none"
"""The ``key_source`` a provider made from a project file's URL is written with: nothing is read (not your
environment, not your keyring) until you name its key source. (How a key source is decided and written is
:mod:`llmswitch.store.keys`' business; this is only the import's "not yet".)"""
OURS = ("llmswitch", "llmswitch autocomplete", "llmswitch embed")
_KEY_VAR = re.compile(r"^([A-Z][A-Z0-9_]*)_API_KEY$")


@dataclass(frozen=True)
class FoundKey:
    """How the key is held where it was found; ``secret`` only for a plaintext key (never shown)."""

    kind: str
    """``plaintext``, ``env`` (a reference to VAR) or ``command`` (a helper that prints it)."""
    file: Path
    name: str = ""
    """The env var (``env``) or the command (``command``)."""
    line: int | None = None
    secret: str | None = field(default=None, repr=False, compare=False)

    def describe(self) -> str:
        if self.kind == "plaintext":
            return f"a plaintext key in {self.file}" + (f" (line {self.line})" if self.line else "")
        return f"${self.name}" if self.kind == "env" else f"the command `{self.name}`"


@dataclass(frozen=True)
class Found:
    """One endpoint another tool (or an env file) is set up with."""

    source: str
    file: Path
    provider: str
    """Suggested llmswitch provider id: a preset id when the URL or key variable is a preset's."""
    base_url: str | None
    """None: the preset's own URL."""
    kind: str = "openai"
    models: tuple[str, ...] = ()
    key: FoundKey | None = None
    project: bool = False
    """Found in the current directory (``./.env``), not in your own files: whoever wrote the project chose it."""

    @property
    def needs_confirmation(self) -> bool:
        """A project file's own URL: added only once you confirm it, and it reads no key until you name one."""
        return self.project and self.base_url is not None

    def as_dict(self) -> dict[str, Any]:
        key = None if self.key is None else {"kind": self.key.kind, "name": self.key.name or None,
                                             "file": str(self.key.file), "line": self.key.line}
        return {"source": self.source, "file": str(self.file), "provider": self.provider, "base_url": self.base_url,
                "kind": self.kind, "models": list(self.models), "key": key, "project": self.project,
                "needs_confirmation": self.needs_confirmation}


# --- where each tool keeps its user-level config -----------------------------------------------

def _home(environ: Mapping[str, str]) -> Path:
    return Path(environ["HOME"]) if environ.get("HOME") else Path.home()


def _xdg(environ: Mapping[str, str]) -> Path:
    return Path(environ["XDG_CONFIG_HOME"]) if environ.get("XDG_CONFIG_HOME") else _home(environ) / ".config"


_REFUSED: set[str] = set()


def _read(path: Path) -> str | None:
    """The file's text through :func:`llmswitch.base.bounded.read_file` (a regular file of at most 1 MiB), or None.

    A FIFO, a device or a file over the cap is skipped with one line on stderr (once per path);
    an absent file or one that is not UTF-8 is skipped quietly, as any file of theirs we cannot use.
    """
    import sys

    from ..base import bounded
    from ..base.chars import terminal_safe

    raw = bounded.read_file(path, bounded.IMPORT_FILE)
    if isinstance(raw, bounded.Refusal):
        if raw.problem != bounded.Problem.MISSING and str(path) not in _REFUSED:
            _REFUSED.add(str(path))
            sys.stderr.write(f"llmswitch: import skips {terminal_safe(raw.sentence(str(path)))}\n")
        return None
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return None


def _json(text: str) -> Any:
    """``text`` through the one bounded decoder (:func:`llmswitch.base.bounded.decode_json`); ValueError when refused."""
    from ..base import bounded

    decoded = bounded.decode_json(text, bounded.IMPORT_FILE)
    if decoded.refusal is not None:
        raise ValueError(decoded.refusal.cause)
    return decoded.value


def _parsed(path: Path, parse: Callable[[str], Any]) -> tuple[str, Any]:
    """The file's text and what ``parse`` makes of it (None when absent or unreadable by its format).

    A parser that recurses (YAML, JSONC, TOML) on a file nested too deep for it is unreadable too.
    """
    text = _read(path) or ""
    try:
        return text, parse(text) if text.strip() else None
    except (ValueError, RecursionError):
        return text, None


def _line_of(text: str, needle: str) -> int | None:
    return next((n for n, line in enumerate(text.splitlines(), 1) if needle and needle in line), None)


def _plain(text: str, file: Path, secret: object) -> FoundKey | None:
    if not isinstance(secret, str) or not secret.strip():
        return None
    return FoundKey("plaintext", file, line=_line_of(text, secret), secret=secret.strip())


def _guess(base_url: str | None, key_var: str | None = None) -> tuple[str, str | None, str]:
    """(provider id, base URL or None for a preset's own, kind) for a URL and/or key variable."""
    from ..store import catalog

    presets = catalog.presets()
    if base_url:
        url = base_url.rstrip("/")
        for pid, preset in presets.items():
            if preset.base_url and preset.base_url.rstrip("/") == url:
                return pid, None, preset.kind
        host = re.sub(r"^https?://", "", url).split("/")[0].split(":")[0]
        parts = [p for p in host.split(".") if p not in ("api", "www", "com", "ai", "io", "dev", "net", "org")]
        slug = re.sub(r"[^a-z0-9-]+", "-", (parts[0] if parts else host).lower())[:40].strip("-") or "imported"
        slug = "local" if slug in ("127", "localhost") else slug
        # a custom URL never takes a preset's id (or alias): that would point the preset, and its key, elsewhere
        return (slug if catalog.preset(slug) is None else f"{slug}-imported"), url, \
            "anthropic" if "anthropic" in url else "openai"
    match = _KEY_VAR.match(key_var or "")
    name = match.group(1).lower() if match else "openai"
    pid = name if name in presets else "openai"
    return pid, None, presets[pid].kind if pid in presets else "openai"


# --- one reader per tool -----------------------------------------------------------------------

def _aider(environ: Mapping[str, str]) -> Iterator[Found]:
    path = _home(environ) / ".aider.conf.yml"
    text = _read(path)
    data = textedit.load_yaml(textedit.strip(text, "aider")) if text else None
    if not isinstance(data, dict):
        return
    models = tuple(str(data[k]).removeprefix("openai/") for k in ("model", "weak-model", "editor-model") if data.get(k))
    pid, url, kind = _guess(data.get("openai-api-base"), "OPENAI_API_KEY")
    yield Found("aider", path, pid, url, kind, models, _plain(text or "", path, data.get("openai-api-key")))


def _llm(environ: Mapping[str, str]) -> Iterator[Found]:
    root = Path(environ["LLM_USER_PATH"]) if environ.get("LLM_USER_PATH") else _xdg(environ) / "io.datasette.llm"
    keys_text = _read(root / "keys.json") or "{}"
    try:
        keys = _json(keys_text)
    except ValueError:
        keys = {}
    text = _read(root / "extra-openai-models.yaml")
    entries = textedit.load_yaml(text) if text else None
    for entry in entries if isinstance(entries, list) else []:
        if not isinstance(entry, dict) or entry.get("model_id") in OURS or not entry.get("model_name"):
            continue
        pid, url, kind = _guess(entry.get("api_base"), "OPENAI_API_KEY")
        alias = entry.get("api_key_name")
        key = _plain(keys_text, root / "keys.json", keys.get(alias)) if alias else None
        yield Found("llm", root / "extra-openai-models.yaml", pid, url, kind, (str(entry["model_name"]),), key)
    if isinstance(keys, dict) and isinstance(keys.get("openai"), str):
        yield Found("llm", root / "keys.json", "openai", None, "openai", (), _plain(keys_text, root / "keys.json",
                                                                                   keys["openai"]))


def _opencode(environ: Mapping[str, str]) -> Iterator[Found]:
    for name in ("opencode.jsonc", "opencode.json", "config.json"):
        path = _xdg(environ) / "opencode" / name
        text = _read(path)
        try:
            data = jsonmembers.loads_jsonc(text) if text else None
        except ValueError:
            continue
        providers = data.get("provider") if isinstance(data, dict) else None
        for pid, entry in (providers or {}).items():
            if pid == "llmswitch" or not isinstance(entry, dict):
                continue
            options = entry.get("options") or {}
            guessed, url, kind = _guess(options.get("baseURL"), f"{pid.upper()}_API_KEY")
            api_key = str(options.get("apiKey") or "")
            ref = re.match(r"^\{env:([A-Za-z_][A-Za-z0-9_]*)\}$", api_key)
            key = FoundKey("env", path, ref.group(1)) if ref else _plain(text or "", path, api_key)
            kind = "anthropic" if entry.get("npm") == "@ai-sdk/anthropic" else kind
            yield Found("opencode", path, guessed if url or guessed != "openai" else pid, url, kind,
                        tuple(entry.get("models") or ()), key)


def _codex(environ: Mapping[str, str]) -> Iterator[Found]:
    root = Path(environ["CODEX_HOME"]) if environ.get("CODEX_HOME") else _home(environ) / ".codex"
    text = _read(root / "config.toml")
    try:
        data = tomllib.loads(text) if text else {}
    except tomllib.TOMLDecodeError:
        data = {}
    for pid, entry in (data.get("model_providers") or {}).items():
        if pid == "llmswitch" or not isinstance(entry, dict):
            continue
        guessed, url, kind = _guess(entry.get("base_url"), entry.get("env_key"))
        models = (str(data["model"]),) if data.get("model_provider") == pid and data.get("model") else ()
        key = FoundKey("env", root / "config.toml", str(entry["env_key"])) if entry.get("env_key") else None
        yield Found("codex", root / "config.toml", guessed, url, kind, models, key)
    auth_text = _read(root / "auth.json")
    try:
        auth = _json(auth_text) if auth_text else {}
    except ValueError:
        auth = {}
    if isinstance(auth, dict) and isinstance(auth.get("OPENAI_API_KEY"), str) and auth["OPENAI_API_KEY"]:
        yield Found("codex", root / "auth.json", "openai", None, "openai", (),
                    _plain(auth_text or "", root / "auth.json", auth["OPENAI_API_KEY"]))


def _claude(environ: Mapping[str, str]) -> Iterator[Found]:
    root = Path(environ["CLAUDE_CONFIG_DIR"]) if environ.get("CLAUDE_CONFIG_DIR") else _home(environ) / ".claude"
    path = root / "settings.json"
    text, data = _parsed(path, _json)
    if not isinstance(data, dict):
        return
    env: dict[str, Any] = data["env"] if isinstance(data.get("env"), dict) else {}
    helper = str(data.get("apiKeyHelper") or "")
    if helper.split()[-3:-1] == ["key", "get"]:  # llmswitch's own connection
        return
    base = env.get("ANTHROPIC_BASE_URL")
    pid, url, _ = _guess(base.rstrip("/") + "/v1" if base else None, "ANTHROPIC_API_KEY")
    secret = env.get("ANTHROPIC_API_KEY") or env.get("ANTHROPIC_AUTH_TOKEN")
    key = FoundKey("command", path, helper) if helper else _plain(text, path, secret)
    if key is None and not base:
        return
    models = tuple(str(env[v]) for v in ("ANTHROPIC_MODEL", "ANTHROPIC_DEFAULT_HAIKU_MODEL") if env.get(v))
    yield Found("claude-code", path, pid, url, "anthropic" if pid == "anthropic" or url is None else "openai", models, key)


def _continue(environ: Mapping[str, str]) -> Iterator[Found]:
    root = Path(environ["CONTINUE_GLOBAL_DIR"]) if environ.get("CONTINUE_GLOBAL_DIR") else _home(environ) / ".continue"
    path = root / "config.yaml"
    text, data = _parsed(path, textedit.load_yaml)
    for entry in (data.get("models") or []) if isinstance(data, dict) else []:
        if not isinstance(entry, dict) or entry.get("name") in OURS or entry.get("provider") not in ("openai",
                                                                                                      "anthropic"):
            continue
        pid, url, kind = _guess(entry.get("apiBase"), f"{str(entry['provider']).upper()}_API_KEY")
        api_key = str(entry.get("apiKey") or "")
        ref = re.match(r"^\$\{\{\s*secrets\.([A-Za-z_][A-Za-z0-9_]*)\s*\}\}$", api_key)
        key = FoundKey("env", path, ref.group(1)) if ref else _plain(text, path, api_key)
        yield Found("continue-cli", path, pid, url, kind, (str(entry.get("model")),) if entry.get("model") else (), key)


def _env_files(environ: Mapping[str, str], cwd: Path) -> Iterator[Found]:
    seen: set[Path] = set()
    home = _home(environ)
    for path in (cwd / ".env", home / ".env", home / ".continue" / ".env"):
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


READERS: dict[str, Callable[[Mapping[str, str]], Iterator[Found]]] = {
    "aider": _aider, "llm": _llm, "opencode": _opencode, "codex": _codex, "claude-code": _claude, "continue-cli": _continue}


def discover(sources: tuple[str, ...] = SOURCES, environ: Mapping[str, str] | None = None,
             cwd: Path | None = None) -> list[Found]:
    """Everything ``sources`` hold (a tool's unreadable file is skipped: it is theirs, not ours to judge)."""
    environ = os.environ if environ is None else environ
    found: list[Found] = []
    for source in sources:
        try:
            found += list(_env_files(environ, cwd or Path.cwd()) if source == "env" else READERS[source](environ))
        except (ValueError, RecursionError):  # RecursionError: YAML, JSONC or TOML nested too deep to parse
            continue
    return found


# --- adopting a find ---------------------------------------------------------------------------

def _key_source(key: FoundKey | None, pid: str, base_url: str | None, *, move_key: bool,
                keyring_ok: bool) -> str:
    """``key_source`` for a find, as :mod:`llmswitch.store.keydecision` decides it: the tool's reference (a variable, a
    command) is kept; a plaintext key moved goes to the keyring; else the keyring when one works, ``env:VAR``
    when none does, ``none`` for a server a probe saw answer without a key."""
    from ..store.keydecision import decide_for

    chosen = None
    if key is not None and key.kind in ("env", "command"):
        chosen = f"{key.kind}:{key.name}"
    elif key is not None and key.kind == "plaintext" and move_key:
        chosen = "keyring"
    return decide_for(pid, base_url=base_url, chosen=chosen, keyring_ok=keyring_ok).source


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


def adopt(found: Found, *, move_key: bool = False, accepted_url: bool = False) -> tuple[str, list[str]]:
    """Configure ``found`` (returns the provider id and what happened, one sentence each); a key is never printed.

    A custom endpoint becomes a provider entry under its own id (:func:`_own_id`: never a preset's,
    never another provider's; an entry with the same URL is reused unchanged). A preset needs an entry
    only when the key is referred to differently from the preset's own variables. ``move_key`` stores a
    plaintext key in the keyring; the file that still holds the plaintext copy is always named.

    A URL from a project file (:attr:`Found.needs_confirmation`) is added only with ``accepted_url``
    (the user confirmed that very URL), with key source :data:`NO_KEY_SOURCE_YET`, and its key is not moved.
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
    source = NO_KEY_SOURCE_YET if guarded else _key_source(found.key, pid, url, move_key=move_key,
                                                             keyring_ok=keyring_ok)
    if found.base_url is not None:
        if existing is None:
            settings: dict[str, Any] = {"base_url": found.base_url, "key_source": source,
                                        "name": f"{pid} (from {found.source})"}
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
        edit.add_provider(pid, {"preset": pid, "key_source": source})
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
