"""The providers file (``config.toml``): load, validate, edit.

Validation never goes silent: every unknown, misplaced or mistyped key becomes
a :class:`Problem` with file, line, key and a fix (a did-you-mean where one
fits). A config that has errors is not used; the file is never rewritten
behind the user's back. Edits (``providers add/rm``) change only the lines of
the provider concerned, so comments and layout survive.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import paths, urls
from .redact import SECRET_HEADERS, looks_like_secret, shown
from .tomlpos import key_lines, table_span

PROVIDER_FIELDS = {
    "name": "display name shown in lists",
    "preset": "catalog/local preset this provider starts from",
    "kind": "API kind: openai, azure or anthropic",
    "base_url": "endpoint root, e.g. https://openrouter.ai/api/v1",
    "key_source": 'where the key comes from: "keyring", "env:VAR", "command:CMD" or "none"',
    "key_required": "false when the server works without a key",
    "headers": "extra non-secret HTTP headers",
    "favorites": "model ids pinned to the top of lists",
    "timeout": "probe/request timeout in seconds",
    "api_version": "Azure OpenAI api-version",
}
PREFERENCE_FIELDS = {"probe_timeout": "default probe timeout in seconds", "recent_limit": "how many recent models to remember"}
TOP_LEVEL = {"version", "preferences", "providers"}
SECRET_FIELD_NAMES = {"api_key", "apikey", "key", "token", "secret", "password", "api_token", "access_token"}
PLACEHOLDER_MODELS = {
    "", "default", "model", "models", "model-name", "model_name", "your-model", "your_model", "your-model-name",
    "<model>", "{model}", "$model", "changeme", "change-me", "todo", "tbd", "xxx", "none", "null", "undefined",
    "placeholder", "example", "auto",
}
_ID = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}$")
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
DEFAULT_TIMEOUT = 10.0


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a file, with where it is and how to fix it."""

    message: str
    fix: str | None = None
    file: str | None = None
    line: int | None = None
    key: str | None = None
    severity: str = "error"

    def __str__(self) -> str:
        where = ""
        if self.file:
            where = f"{self.file}:{self.line}: " if self.line else f"{self.file}: "
        key = f"{self.key}: " if self.key else ""
        fix = f" — {self.fix}" if self.fix else ""
        return f"{where}{key}{self.message}{fix}"

    def as_dict(self) -> dict[str, Any]:
        return {"severity": self.severity, "file": self.file, "line": self.line, "key": self.key,
                "message": self.message, "fix": self.fix}


class ConfigError(Exception):
    """The providers file cannot be used; ``problems`` says why, each with a fix."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


class UnknownProvider(LookupError):
    """A provider id that is neither configured nor a preset."""


@dataclass(frozen=True)
class ProviderConfig:
    """One provider, as configured or as implied by a preset."""

    id: str
    name: str
    base_url: str | None
    """Normalised endpoint root (no trailing slash)."""
    kind: str = "openai"
    key_source: str = "keyring"
    """keyring | env | command | none."""
    key_env: tuple[str, ...] = ()
    """Env vars tried after the keyring (or the one named by ``env:VAR``)."""
    key_command: str | None = None
    key_required: bool = True
    headers: dict[str, str] = field(default_factory=dict)
    favorites: tuple[str, ...] = ()
    timeout: float = DEFAULT_TIMEOUT
    preset: str | None = None
    api_version: str | None = None
    configured: bool = True
    """False when the provider comes from a preset with no config entry."""
    local: bool = False
    key_check_path: str | None = None
    start_hint: str | None = None

    def key_source_text(self) -> str:
        """The ``key_source`` value as written in config.toml."""
        if self.key_source == "env":
            return f"env:{self.key_env[0]}" if self.key_env else "env"
        if self.key_source == "command":
            return f"command:{self.key_command}"
        return self.key_source


@dataclass(frozen=True)
class Config:
    """The parsed providers file."""

    path: Path
    exists: bool
    providers: dict[str, ProviderConfig]
    probe_timeout: float = DEFAULT_TIMEOUT
    recent_limit: int = 20
    warnings: tuple[Problem, ...] = ()

    def provider(self, provider_id: str) -> ProviderConfig:
        """A configured provider, else one implied by a preset; raises UnknownProvider."""
        if provider_id in self.providers:
            return self.providers[provider_id]
        from . import catalog

        found = catalog.preset(provider_id)
        if found is not None:
            if found.id in self.providers:
                return self.providers[found.id]
            return provider_from_preset(found)
        raise UnknownProvider(unknown_provider_message(provider_id, self))

    def known_ids(self) -> list[str]:
        from . import catalog

        return sorted(set(self.providers) | set(catalog.preset_ids()))


def unknown_provider_message(provider_id: str, config: Config) -> str:
    from . import catalog

    candidates = sorted(set(config.providers) | set(catalog.preset_ids()))
    close = difflib.get_close_matches(provider_id, candidates, n=3, cutoff=0.6)
    hint = f"did you mean {', '.join(close)}? " if close else ""
    return (f"unknown provider {shown(provider_id)} — {hint}run `llmswitch list --presets` to see presets, "
            f"or add it: llmswitch providers add {provider_id} --base-url URL")


def provider_from_preset(preset, overrides: dict[str, Any] | None = None) -> ProviderConfig:
    """The provider a preset implies, before any config.toml settings."""
    return ProviderConfig(
        id=preset.id,
        name=preset.name,
        base_url=preset.resolved_base_url(),
        kind=preset.kind,
        key_env=preset.key_env,
        key_required=preset.key_required,
        preset=preset.id,
        configured=False,
        local=preset.local,
        key_check_path=preset.key_check_path,
        start_hint=preset.start_hint,
        **(overrides or {}),
    )


# --- value checks shared by config, selection and the CLI -----------------------------------

def check_model_id(model: str) -> str | None:
    """Why ``model`` cannot be sent to an API, or None when it can."""
    if not isinstance(model, str):
        return "a model id must be a string"
    stripped = model.strip()
    if stripped != model or any(ch.isspace() for ch in model):
        return f"model id {model!r} contains whitespace"
    if not stripped:
        return "the model id is empty — name a model after the slash (llmswitch list PROVIDER shows them)"
    if stripped.lower() in PLACEHOLDER_MODELS or re.fullmatch(r"[<{\[].*[>}\]]", stripped):
        return f"{stripped!r} is a placeholder, not a model id — name a real model (llmswitch list shows them)"
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in model):
        return "model id contains control characters"
    return None


def normalize_base_url(url: str) -> str:
    """Strip trailing slashes; refuse what must never be used (see :func:`llmswitch.urls.problem`). Raises ValueError."""
    return urls.normalize(url)


is_loopback = urls.is_loopback



def plain_http_warning(provider: ProviderConfig) -> str | None:
    """A warning when a key would cross the network unencrypted."""
    if not provider.base_url or not provider.base_url.startswith("http://") or is_loopback(provider.base_url):
        return None
    if provider.key_source == "none":
        return None
    host = urls.host_of(provider.base_url)
    return (f"{provider.id}: a key would be sent over plain http to {host} — use https, "
            f"or set key_source = \"none\" if that server needs no key")


# --- loading ---------------------------------------------------------------------------------

def load(path: Path | None = None) -> Config:
    """Read and validate the providers file; a missing file is an empty config.

    Raises ConfigError when the file has errors (warnings ride along on the
    returned Config).
    """
    path = path or paths.config_file()
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return Config(path=path, exists=False, providers={})
    except IsADirectoryError:
        raise ConfigError([Problem("is a directory, not a file", "move it away", file=str(path))]) from None
    except PermissionError:
        raise ConfigError([Problem("cannot be read (permission denied)", f"run: chmod 600 {path}", file=str(path))]) from None
    _refuse_if_others_can_write(path)
    return parse(raw, path)


def _refuse_if_others_can_write(path: Path) -> None:
    """Whoever can edit config.toml can send your key elsewhere: such a file is not used."""
    import stat
    import sys

    if sys.platform == "win32":
        return
    st = path.stat()
    if st.st_mode & 0o022:
        raise ConfigError([Problem(f"is writable by other users (mode {stat.S_IMODE(st.st_mode):o}), so anyone could "
                                   f"point a base_url elsewhere and receive your keys; llmswitch will not use it",
                                   f"run: chmod 600 {path}", file=str(path))])


def parse(raw: bytes, path: Path) -> Config:
    """Validate ``raw`` as the providers file found at ``path``."""
    import tomllib

    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError([Problem(f"is not UTF-8 text (byte {exc.start})", "save it as UTF-8", file=str(path))]) from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        line = _toml_error_line(str(exc))
        raise ConfigError([Problem(f"invalid TOML: {exc}", "fix the syntax there; the file was not changed",
                                   file=str(path), line=line)]) from None
    validator = _Validator(path, key_lines(text))
    config = validator.config(data)
    validator.problems.sort(key=lambda p: (p.line or 0))
    errors = [p for p in validator.problems if p.severity == "error"]
    if errors:
        raise ConfigError(validator.problems)
    return config


def _toml_error_line(message: str) -> int | None:
    match = re.search(r"line (\d+)", message)
    return int(match.group(1)) if match else None


class _Validator:
    def __init__(self, path: Path, lines: dict[tuple[str, ...], int]):
        self.path = path
        self.lines = lines
        self.problems: list[Problem] = []

    def add(self, key: tuple[str, ...], message: str, fix: str | None = None, severity: str = "error") -> None:
        line = None
        for n in range(len(key), 0, -1):
            line = self.lines.get(key[:n])
            if line:
                break
        dotted = ".".join("(key-shaped name)" if looks_like_secret(part) else part for part in key)
        self.problems.append(Problem(message, fix, file=str(self.path), line=line,
                                     key=dotted or None, severity=severity))

    def config(self, data: dict[str, Any]) -> Config:
        for name, value in data.items():
            if name not in TOP_LEVEL:
                self.top_level_stray(name, value)
        version = data.get("version", 1)
        if version != 1:
            self.add(("version",), f"unsupported version {shown(version)}", "set version = 1 (or remove the line)")
        prefs = data.get("preferences", {})
        probe_timeout, recent_limit = DEFAULT_TIMEOUT, 20
        if not isinstance(prefs, dict):
            self.add(("preferences",), "must be a table", "write it as [preferences]")
        else:
            for name in prefs:
                if name not in PREFERENCE_FIELDS:
                    self.unknown(("preferences", name), PREFERENCE_FIELDS)
            probe_timeout = self.timeout(("preferences", "probe_timeout"), prefs.get("probe_timeout", DEFAULT_TIMEOUT))
            recent = prefs.get("recent_limit", 20)
            if not isinstance(recent, int) or isinstance(recent, bool) or not 0 <= recent <= 1000:
                self.add(("preferences", "recent_limit"), f"must be a whole number from 0 to 1000 (got {shown(recent)})")
            else:
                recent_limit = recent
        providers: dict[str, ProviderConfig] = {}
        table = data.get("providers", {})
        if not isinstance(table, dict):
            self.add(("providers",), "must be a table of providers", "write each as [providers.ID]")
            table = {}
        for pid, body in table.items():
            made = self.provider(pid, body, probe_timeout)
            if made is not None:
                providers[pid] = made
        return Config(self.path, True, providers, probe_timeout, recent_limit,
                      tuple(p for p in self.problems if p.severity == "warning"))

    def top_level_stray(self, name: str, value: Any) -> None:
        lowered = name.lower()
        if lowered in ("provider", "model", "default_model", "active", "selected", "active_model", "llm"):
            self.add((name,), "the active model is not set in config.toml",
                     "remove this line and run: llmswitch use PROVIDER/MODEL")
        elif _secret_name(lowered):
            self.unknown((name,), {})
        elif lowered in PROVIDER_FIELDS or lowered == "api_base":
            self.add((name,), "provider setting at the top level",
                     "move it under a [providers.ID] table (e.g. [providers.openrouter])")
        elif isinstance(value, dict) and (self._looks_like_provider(name, value)):
            self.add((name,), f"[{name}] looks like a provider", f"rename the table to [providers.{name}]")
        else:
            self.unknown((name,), dict.fromkeys(TOP_LEVEL, ""))

    @staticmethod
    def _looks_like_provider(name: str, value: dict[str, Any]) -> bool:
        from . import catalog

        return catalog.preset(name) is not None or bool(set(value) & set(PROVIDER_FIELDS))

    def unknown(self, key: tuple[str, ...], allowed: dict[str, str]) -> None:
        name = key[-1]
        if _secret_name(name.lower()):
            pid = key[1] if len(key) > 2 and key[0] == "providers" else "PROVIDER"
            self.add(key, "keys never go in config.toml",
                     f"delete this line and run: llmswitch key set {pid} (or key_source = \"env:VAR\")")
            return
        close = difflib.get_close_matches(name, list(allowed), n=1, cutoff=0.6)
        fix = f"did you mean {close[0]!r}?" if close else f"known keys: {', '.join(sorted(allowed))}"
        self.add(key, f"unknown key {shown(name)}", fix)

    def timeout(self, key: tuple[str, ...], value: Any) -> float:
        if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value <= 600:
            self.add(key, f"must be a number of seconds between 0 and 600 (got {shown(value)})")
            return DEFAULT_TIMEOUT
        return float(value)

    def provider(self, pid: str, body: Any, default_timeout: float) -> ProviderConfig | None:
        from . import catalog

        key = ("providers", pid)
        if not isinstance(body, dict):
            if pid in PROVIDER_FIELDS or pid.lower() in SECRET_FIELD_NAMES:
                self.add(key, f"{shown(pid)} is a provider setting, not a provider",
                         f"put it under [providers.ID], e.g. [providers.openrouter] then {pid} = …")
            else:
                self.add(key, "must be a table", f"write it as [providers.{pid}]")
            return None
        if not _ID.match(pid):
            self.add(key, f"provider id {shown(pid)} must be lowercase letters, digits, '.', '_' or '-'",
                     "rename it to [providers.NAME] with NAME like my-server" if looks_like_secret(pid) else
                     f"rename it to [providers.{re.sub(r'[^a-z0-9._-]', '-', pid.lower()).strip('-') or 'custom'}]")
            return None
        for name in body:
            if name not in PROVIDER_FIELDS:
                if name in ("providers",) or catalog.preset(name) is not None and isinstance(body[name], dict):
                    self.add((*key, name), "provider nested inside another provider",
                             f"move it to its own [providers.{name}] table")
                else:
                    self.unknown((*key, name), PROVIDER_FIELDS)
        preset_name = body.get("preset", pid if catalog.preset(pid) else None)
        preset = None
        if preset_name is not None:
            if not isinstance(preset_name, str) or catalog.preset(preset_name) is None:
                close = difflib.get_close_matches(str(preset_name), catalog.preset_ids(), n=1, cutoff=0.6)
                self.add((*key, "preset"), f"unknown preset {shown(preset_name)}",
                         f"did you mean {close[0]!r}?" if close else "run: llmswitch list --presets")
            else:
                preset = catalog.preset(preset_name)
        base = provider_from_preset(preset) if preset else ProviderConfig(id=pid, name=pid, base_url=None)
        values: dict[str, Any] = {"id": pid, "configured": True, "timeout": default_timeout}

        name = body.get("name", base.name if preset else pid)
        if not isinstance(name, str) or not name.strip():
            self.add((*key, "name"), "must be a non-empty string")
        else:
            values["name"] = name

        kind = body.get("kind", base.kind)
        if kind not in catalog.API_KINDS:
            close = difflib.get_close_matches(str(kind), catalog.API_KINDS, n=1, cutoff=0.5)
            self.add((*key, "kind"), f"unknown API kind {shown(kind)}",
                     f"did you mean {close[0]!r}?" if close else f"use one of: {', '.join(catalog.API_KINDS)}")
        else:
            values["kind"] = kind

        base_url = body.get("base_url", base.base_url)
        if base_url is None:
            hint = f" or set {preset.url_env}" if preset and preset.url_env else ""
            self.add((*key, "base_url"), "no base_url", f"add base_url = \"https://…/v1\"{hint}")
        elif not isinstance(base_url, str):
            self.add((*key, "base_url"), f"must be a string (got {type(base_url).__name__})")
        else:
            try:
                values["base_url"] = normalize_base_url(base_url)
            except ValueError as exc:
                message, _, fix = str(exc).partition(" — ")
                self.add((*key, "base_url"), message, fix or None)

        self.key_source(key, body, base, values)
        required = body.get("key_required", None)
        if required is not None and not isinstance(required, bool):
            self.add((*key, "key_required"), f"must be true or false (got {shown(required)})")
        elif required is not None:
            values["key_required"] = required
        elif "base_url" in values and not preset and is_loopback(values["base_url"]):
            values["key_required"] = False
        if values.get("key_source", base.key_source) == "none":
            values["key_required"] = False

        headers = body.get("headers", {})
        if not isinstance(headers, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in headers.items()):
            self.add((*key, "headers"), "must be a table of string values", 'e.g. headers = { "X-Title" = "my app" }')
        else:
            clean = {}
            for hname, hvalue in headers.items():
                if hname.lower() in SECRET_HEADERS:
                    self.add((*key, "headers", hname), "a credential header does not belong in config.toml",
                             f"remove it and run: llmswitch key set {pid}")
                elif not re.fullmatch(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+", hname) or any(c in hvalue for c in "\r\n\0"):
                    self.add((*key, "headers", hname), "is not a valid HTTP header name/value")
                else:
                    clean[hname] = hvalue
            values["headers"] = clean

        favorites = body.get("favorites", [])
        if not isinstance(favorites, list) or not all(isinstance(m, str) for m in favorites):
            self.add((*key, "favorites"), "must be a list of model ids", 'e.g. favorites = ["gpt-4o-mini"]')
        else:
            for model in favorites:
                why = check_model_id(model)
                if why:
                    self.add((*key, "favorites"), why)
            values["favorites"] = tuple(favorites)

        if "timeout" in body:
            values["timeout"] = self.timeout((*key, "timeout"), body["timeout"])
        api_version = body.get("api_version")
        if api_version is not None:
            if not isinstance(api_version, str):
                self.add((*key, "api_version"), "must be a string like \"2024-10-21\"")
            else:
                values["api_version"] = api_version
        if values.get("kind") == "azure" and not values.get("api_version"):
            self.add((*key, "api_version"), "Azure needs an api_version", 'add api_version = "2024-10-21"')
        if preset:
            values.update(preset=preset.id, local=preset.local, key_check_path=preset.key_check_path,
                          start_hint=preset.start_hint)
        merged = {**base.__dict__, **values}
        made = ProviderConfig(**merged)
        warning = plain_http_warning(made)
        if warning and made.key_required:
            self.add((*key, "base_url"), warning.split(": ", 1)[1].split(" — ")[0],
                     warning.split(" — ", 1)[1], severity="warning")
        return made

    def key_source(self, key: tuple[str, ...], body: dict[str, Any], base: ProviderConfig, values: dict[str, Any]) -> None:
        if "key_source" not in body:
            return
        raw = body["key_source"]
        where = (*key, "key_source")
        if not isinstance(raw, str):
            self.add(where, 'must be a string: "keyring", "env:VAR", "command:CMD" or "none"')
            return
        source, _, arg = raw.partition(":")
        if source == "keyring" and not arg:
            values["key_source"] = "keyring"
        elif source == "none" and not arg:
            values["key_source"] = "none"
        elif source == "env" and looks_like_secret(arg):
            self.add(where, "names a key, not an environment variable; keys never go in config.toml",
                     f"use the variable's name, e.g. key_source = \"env:{key[1].upper().replace('-', '_')}_API_KEY\"")
        elif source == "env" and _ENV_NAME.match(arg):
            values.update(key_source="env", key_env=(arg,))
        elif source == "command" and arg.strip():
            values.update(key_source="command", key_command=arg.strip())
        elif looks_like_secret(raw):
            self.add(where, "looks like a key itself; keys never go in config.toml",
                     f"run: llmswitch key set {key[1]} and set key_source = \"keyring\"")
        else:
            self.add(where, f"not a key source: {shown(raw, 40)}",
                     'use "keyring", "env:VAR_NAME", "command:pass show NAME" or "none"')


def _secret_name(lowered: str) -> bool:
    """``api_key``, ``OPENAI_API_KEY``, ``token``…: a key that would hold a secret."""
    return lowered in SECRET_FIELD_NAMES or lowered.endswith(("_api_key", "_apikey", "_token", "_secret", "password"))


def check_env_name(name: str) -> str | None:
    """Why ``name`` cannot be the env var that holds a key (None when it can)."""
    if looks_like_secret(name):
        return "that is a key, not the name of an environment variable — type a name like GROQ_API_KEY"
    if not _ENV_NAME.match(name):
        return "not an environment variable name (letters, digits and _ only, e.g. GROQ_API_KEY)"
    return None


# --- editing ---------------------------------------------------------------------------------

def render_provider(provider_id: str, settings: dict[str, Any]) -> str:
    """The TOML text of one ``[providers.ID]`` table."""
    import tomli_w

    return tomli_w.dumps({"providers": {provider_id: settings}})


def add_provider(provider_id: str, settings: dict[str, Any], *, replace: bool = False, path: Path | None = None) -> Config:
    """Add (or with ``replace`` overwrite) one provider, keeping the rest of the file as it is.

    The new text is validated before it is written; on any problem the file is
    left untouched and ConfigError is raised.
    """
    from .files import atomic_write, locked

    path = path or paths.config_file()
    if not _ID.match(provider_id):
        raise ConfigError([Problem(f"provider id {shown(provider_id)} must be lowercase letters, digits, '.', '_' or '-'",
                                   "choose another id")])
    with locked(path):
        current = load(path)  # refuses to edit a file that already has errors
        text = path.read_text(encoding="utf-8") if current.exists else HEADER
        if provider_id in current.providers:
            if not replace:
                raise ConfigError([Problem(f"provider {provider_id!r} is already configured",
                                           f"use --replace, or remove it first: llmswitch providers rm {provider_id}",
                                           file=str(path), line=key_lines(text).get(("providers", provider_id)))])
            text = _cut_table(text, provider_id, path)
        block = render_provider(provider_id, settings)
        new_text = text.rstrip("\n") + "\n\n" + block if text.strip() else block
        config = parse(new_text.encode(), path)
        atomic_write(path, new_text.encode("utf-8"))
        return config


def remove_provider(provider_id: str, path: Path | None = None) -> Config:
    """Remove one provider's tables from the file, keeping everything else."""
    from .files import atomic_write, locked

    path = path or paths.config_file()
    with locked(path):
        current = load(path)
        if provider_id not in current.providers:
            raise UnknownProvider(f"provider {provider_id!r} is not in {path} — nothing to remove "
                                  f"(configured: {', '.join(sorted(current.providers)) or 'none'})")
        text = _cut_table(path.read_text(encoding="utf-8"), provider_id, path)
        config = parse(text.encode(), path)
        atomic_write(path, text.encode("utf-8"))
        return config


def _cut_table(text: str, provider_id: str, path: Path) -> str:
    span = table_span(text, ("providers", provider_id))
    if span is None:
        raise ConfigError([Problem(f"provider {provider_id!r} is not written as a [providers.{provider_id}] table",
                                   "edit the file by hand", file=str(path))])
    lines = text.splitlines(keepends=True)
    start, end = span
    kept = lines[:start] + lines[end:]
    return re.sub(r"\n{3,}", "\n\n", "".join(kept))


HEADER = """\
# llmswitch providers — see `llmswitch config check` and the README.
# Keys are never stored here: `llmswitch key set PROVIDER` puts them in the OS keyring.
"""
