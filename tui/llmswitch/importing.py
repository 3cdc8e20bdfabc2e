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

    def as_dict(self) -> dict[str, Any]:
        key = None if self.key is None else {"kind": self.key.kind, "name": self.key.name or None,
                                             "file": str(self.key.file), "line": self.key.line}
        return {"source": self.source, "file": str(self.file), "provider": self.provider, "base_url": self.base_url,
                "kind": self.kind, "models": list(self.models), "key": key}


# --- where each tool keeps its user-level config -----------------------------------------------

def _home(environ: Mapping[str, str]) -> Path:
    return Path(environ["HOME"]) if environ.get("HOME") else Path.home()


def _xdg(environ: Mapping[str, str]) -> Path:
    return Path(environ["XDG_CONFIG_HOME"]) if environ.get("XDG_CONFIG_HOME") else _home(environ) / ".config"


_REFUSED: set[str] = set()


def _read(path: Path) -> str | None:
    """The file's text through :func:`llmswitch.bounded.read_file` (a regular file of at most 1 MiB), or None.

    A FIFO, a device or a file over the cap is skipped with one line on stderr (once per path);
    an absent file or one that is not UTF-8 is skipped quietly, as any file of theirs we cannot use.
    """
    import sys

    from . import bounded
    from .chars import terminal_safe

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
    """``text`` through the one bounded decoder (:func:`llmswitch.bounded.decode_json`); ValueError when refused."""
    from . import bounded

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
    from . import catalog

    presets = catalog.presets()
    if base_url:
        url = base_url.rstrip("/")
        for pid, preset in presets.items():
            if preset.base_url and preset.base_url.rstrip("/") == url:
                return pid, None, preset.kind
        host = re.sub(r"^https?://", "", url).split("/")[0].split(":")[0]
        parts = [p for p in host.split(".") if p not in ("api", "www", "com", "ai", "io", "dev", "net", "org")]
        slug = re.sub(r"[^a-z0-9-]+", "-", (parts[0] if parts else host).lower()).strip("-") or "imported"
        return ("local" if slug in ("127", "localhost") else slug), url, "anthropic" if "anthropic" in url else "openai"
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
    for path in (cwd / ".env", _home(environ) / ".env", _home(environ) / ".continue" / ".env"):
        text = _read(path)
        if text is None or path.resolve() in seen:
            continue
        seen.add(path.resolve())
        values = dict(_dotenv(text))
        base = values.get("OPENAI_BASE_URL") or values.get("OPENAI_API_BASE")
        for var, secret in values.items():
            if not _KEY_VAR.match(var):
                continue
            pid, url, kind = _guess(base if var == "OPENAI_API_KEY" else values.get(var[:-8] + "_BASE_URL"), var)
            model = values.get("OPENAI_MODEL") if var == "OPENAI_API_KEY" else values.get(var[:-8] + "_MODEL")
            yield Found("env", path, pid, url, kind, (model,) if model else (), _plain(text, path, secret))


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

def _key_source(key: FoundKey | None) -> str:
    if key is not None and key.kind == "env":
        return f"env:{key.name}"
    if key is not None and key.kind == "command":
        return f"command:{key.name}"
    return "keyring"


def adopt(found: Found, *, move_key: bool = False) -> tuple[str, list[str]]:
    """Configure ``found`` (returns the provider id and what happened, one sentence each); a key is never printed.

    A custom endpoint becomes a provider entry (an existing entry with the same URL is reused;
    another URL under the same id gets the id ``ID-imported``). A preset needs an entry only when
    the key is referred to differently from the preset's own variables. ``move_key`` stores a
    plaintext key in the keyring; the file that still holds the plaintext copy is always named.
    """
    from . import catalog, keys
    from .config import edit, load

    config = load()
    notes: list[str] = []
    pid = found.provider
    source = _key_source(found.key)
    existing = config.providers.get(pid)
    if found.base_url is not None:
        if existing is not None and (existing.base_url or "").rstrip("/") != found.base_url:
            pid = f"{pid}-imported"
            existing = config.providers.get(pid)
        if existing is None:
            settings: dict[str, Any] = {"base_url": found.base_url, "key_source": source,
                                        "name": f"{pid} (from {found.source})"}
            if found.kind != "openai":
                settings["kind"] = found.kind
            edit.add_provider(pid, settings)
            notes.append(f"added provider {pid} ({found.base_url}, key: {source}) to {config.path}")
    elif existing is None and source != "keyring":
        preset = catalog.preset(pid)
        if preset is None or source != f"env:{(preset.key_env or ('',))[0]}":
            edit.add_provider(pid, {"preset": pid, "key_source": source})
            notes.append(f"added provider {pid} (key: {source}) to {config.path}")
    key = found.key
    if key is not None and key.kind == "plaintext" and key.secret:
        where = f"{key.file}" + (f" (line {key.line})" if key.line else "")
        if not move_key:
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
