"""Reading ``config.toml``: parse it, then run the checkers of :mod:`.fields` over it.

Validation never goes silent: every unknown, misplaced or mistyped key becomes a
:class:`~llmswitch.base.errors.Problem` with file, line, key, cause and fix (a did-you-mean where
one fits). A config that has errors is not used, nor one that others could have changed
(:mod:`llmswitch.base.trust`); the file is never rewritten behind the user's back.
"""

from __future__ import annotations

import difflib
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ...base import errors, paths, trust, urls
from ...base.errors import ConfigError
from ...base.redact import looks_like_secret, shown, terminal_safe
from ...base.tomlpos import key_lines
from . import model
from .fields import FIELD_CHECKS, RULES, Entry, Report, model_id_problem, seconds, secret_name
from .model import PROVIDER_FIELDS, Config, Problem, ProviderConfig, plain_http

if TYPE_CHECKING:
    from ..catalog import Preset

__all__ = ["is_loopback", "load", "normalize_base_url", "parse"]

ACTIVE_MODEL_NAMES = ("provider", "model", "default_model", "active", "selected", "active_model", "llm")
"""Keys people write to pick the active model, which lives in active.toml, not here."""
_BOM = "\ufeff"


def normalize_base_url(url: str) -> str:
    """Strip trailing slashes; refuse what must never be used (see :func:`llmswitch.base.urls.problem`). Raises ValueError."""
    return urls.normalize(url)


is_loopback = urls.is_loopback


# --- loading -----------------------------------------------------------------------------------

def load(path: Path | None = None) -> Config:
    """Read and validate the providers file; a missing file is an empty config.

    Raises ConfigError when the file has errors or others could have changed it
    (warnings ride along on the returned Config).
    """
    path = path or paths.config_file()
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return Config(path=path, exists=False, providers={})
    except IsADirectoryError:
        raise ConfigError([Problem("is a directory, not a file", "move it away", file=str(path))]) from None
    except PermissionError:
        raise ConfigError([Problem("cannot be read (permission denied)", f"run: chmod 600 {path}",
                                   file=str(path))]) from None
    refused = trust.check(path, kind="file") or trust.check(path.parent, kind="dir")
    if refused is not None:
        raise ConfigError([Problem(*refused)])
    return parse(raw, path)


def parse(raw: bytes, path: Path) -> Config:
    """Validate ``raw`` as the providers file found at ``path``."""
    import tomllib

    where = str(path)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError([Problem(f"is not UTF-8 text (byte {exc.start})", "save it as UTF-8", file=where)]) from None
    if text.startswith(_BOM):
        raise ConfigError([Problem("the file starts with a byte-order mark (U+FEFF)", "save it as UTF-8 without BOM",
                                   file=where, line=1)])
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        match = re.search(r"line (\d+)", str(exc))
        raise ConfigError([Problem(f"invalid TOML: {terminal_safe(str(exc), 200)}",
                                   "fix the syntax there; the file was not changed",
                                   file=where, line=int(match.group(1)) if match else None)]) from None
    except RecursionError:
        raise ConfigError([Problem("tables or arrays are nested too deeply to read",
                                   "flatten them: a providers file needs at most [providers.ID.headers]",
                                   file=where)]) from None
    report = Report(path, key_lines(text))
    config = _config(report, data)
    problems: list[errors.Problem] = sorted(report.problems, key=lambda p: p.line or 0)
    if any(p.severity == "error" for p in problems):
        raise ConfigError(problems)
    return config


# --- the file's top level --------------------------------------------------------------------------

def _config(report: Report, data: dict[str, Any]) -> Config:
    for name, value in data.items():
        if name not in model.TOP_LEVEL:
            _top_level_stray(report, name, value)
    version = data.get("version", 1)
    if version != 1 or isinstance(version, bool):
        report.add(("version",), f"unsupported version {shown(version)}", "set version = 1 (or remove the line)")
    probe_timeout, recent_limit = _preferences(report, data.get("preferences", {}))
    providers: dict[str, ProviderConfig] = {}
    table = data.get("providers", {})
    if not isinstance(table, dict):
        report.add(("providers",), "must be a table of providers", "write each as [providers.ID]")
        table = {}
    for pid, body in table.items():
        made = _provider(report, pid, body, probe_timeout)
        if made is not None:
            providers[pid] = made
    confirm, share = _switch_preferences(report, data.get("preferences", {}))
    failover = _failover(report, data.get("failover", {}), providers)
    return Config(report.path, True, providers, probe_timeout, recent_limit,
                  tuple(p for p in report.problems if p.severity == "warning"), confirm, share, failover)


def _failover(report: Report, table: Any, providers: dict[str, ProviderConfig]) -> dict[str, tuple[str, ...]]:
    """``[failover]``: one ordered list of ``PROVIDER/MODEL`` per role (the relay's chains)."""
    from .. import catalog
    from ..selection import check_role

    if not isinstance(table, dict):
        report.add(("failover",), "must be a table of roles", 'write it as [failover] with default = ["PROVIDER/MODEL", …]')
        return {}
    chains: dict[str, tuple[str, ...]] = {}
    for role, refs in table.items():
        try:
            check_role(role)
        except errors.LlmswitchError as exc:
            report.add(("failover", role), exc.cause, exc.fix)
            continue
        if not isinstance(refs, list) or not all(isinstance(ref, str) for ref in refs):
            report.add(("failover", role), f"must be a list of \"PROVIDER/MODEL\" strings (got {shown(refs)})",
                       f'e.g. {role} = ["groq/llama-3.3-70b-versatile"]')
            continue
        for ref in refs:
            pid, sep, model_id = ref.partition("/")
            if not sep or not pid:
                report.add(("failover", role), f"{shown(ref)} names no provider", "write each entry as PROVIDER/MODEL")
            elif pid not in providers and catalog.preset(pid) is None:
                close = model.did_you_mean(pid, sorted(set(providers) | set(catalog.preset_ids())))
                report.add(("failover", role), f"{shown(ref)}: no provider {shown(pid)} is configured or preset",
                           f"did you mean {' or '.join(close)}?" if close else "add it: llmswitch providers add ID --base-url URL")
            elif (why := model_id_problem(model_id)) is not None:
                report.add(("failover", role), f"{shown(ref)}: {why[0]}", why[1])
        chains[role] = tuple(refs)
    return chains


def _switch_preferences(report: Report, prefs: Any) -> tuple[bool, float]:
    """``confirm_costly`` and ``budget_warn_share`` (see :mod:`llmswitch.services.budget`)."""
    prefs = prefs if isinstance(prefs, dict) else {}
    confirm, share = prefs.get("confirm_costly", True), prefs.get("budget_warn_share", 0.1)
    if not isinstance(confirm, bool):
        report.add(("preferences", "confirm_costly"), f"must be true or false (got {shown(confirm)})")
        confirm = True
    if isinstance(share, bool) or not isinstance(share, int | float) or not 0 <= share <= 1:
        report.add(("preferences", "budget_warn_share"), f"must be a number from 0 to 1 (got {shown(share)})")
        share = 0.1
    return confirm, float(share)


def _preferences(report: Report, prefs: Any) -> tuple[float, int]:
    if not isinstance(prefs, dict):
        report.add(("preferences",), "must be a table", "write it as [preferences]")
        return model.DEFAULT_TIMEOUT, 20
    for name in prefs:
        if name not in model.PREFERENCE_FIELDS:
            report.unknown(("preferences", name), model.PREFERENCE_FIELDS)
    timeout = seconds(report, ("preferences", "probe_timeout"), prefs.get("probe_timeout", model.DEFAULT_TIMEOUT))
    recent = prefs.get("recent_limit", 20)
    if not isinstance(recent, int) or isinstance(recent, bool) or not 0 <= recent <= 1000:
        report.add(("preferences", "recent_limit"), f"must be a whole number from 0 to 1000 (got {shown(recent)})")
        recent = 20
    return timeout, recent


def _top_level_stray(report: Report, name: str, value: Any) -> None:
    lowered = name.lower()
    if lowered in ACTIVE_MODEL_NAMES:
        report.add((name,), "the active model is not set in config.toml",
                   "remove this line and run: llmswitch use PROVIDER/MODEL")
    elif secret_name(lowered):
        report.unknown((name,), {})
    elif lowered in PROVIDER_FIELDS or lowered == "api_base":
        report.add((name,), "provider setting at the top level",
                   "move it under a [providers.ID] table (e.g. [providers.openrouter])")
    elif isinstance(value, dict) and _looks_like_provider(name, value):
        report.add((name,), f"[{terminal_safe(name, 60)}] looks like a provider",
                   f"rename the table to [providers.{terminal_safe(name, 60)}]")
    else:
        report.unknown((name,), model.TOP_LEVEL)


def _looks_like_provider(name: str, value: dict[str, Any]) -> bool:
    from .. import catalog

    return catalog.preset(name) is not None or bool(set(value) & set(PROVIDER_FIELDS))


# --- one provider ---------------------------------------------------------------------------------

def _provider(report: Report, pid: str, body: Any, default_timeout: float) -> ProviderConfig | None:
    key = ("providers", pid)
    if not isinstance(body, dict):
        if pid in PROVIDER_FIELDS or pid.lower() in model.SECRET_FIELD_NAMES:
            report.add(key, f"{shown(pid)} is a provider setting, not a provider",
                       f"put it under [providers.ID], e.g. [providers.openrouter] then {pid} = …")
        else:
            report.add(key, "must be a table", f"write it as [providers.{_suggested_id(pid)}]")
        return None
    if not model.PROVIDER_ID.match(pid):
        report.add(key, f"provider id {shown(pid)} must be lowercase letters, digits, '.', '_' or '-'",
                   "rename it to [providers.NAME] with NAME like my-server" if looks_like_secret(pid) else
                   f"rename it to [providers.{_suggested_id(pid)}]")
        return None
    entry = Entry(report, pid, body, default_timeout)
    _stray_fields(entry)
    entry.preset = _preset(entry, body.get("preset", pid))
    for name, check in FIELD_CHECKS.items():
        if name in body:
            check(entry, body[name])
    for rule in RULES:
        rule(entry)
    made = ProviderConfig(**{**entry.base.__dict__, **entry.values})
    http = plain_http(made)
    if http and made.key_required:
        entry.problem(("base_url",), *http, severity="warning")
    return made


def _suggested_id(pid: str) -> str:
    return re.sub(r"[^a-z0-9._-]", "-", pid.lower()).strip("-")[:64] or "custom"


def _stray_fields(entry: Entry) -> None:
    from .. import catalog

    for name, value in entry.body.items():
        if name in PROVIDER_FIELDS:
            continue
        if name.lower() in ACTIVE_MODEL_NAMES[1:]:
            _active_model_in_provider(entry, name, value)
        elif name == "providers" or catalog.preset(name) is not None and isinstance(value, dict):
            entry.problem((name,), "provider nested inside another provider",
                          f"move it to its own [providers.{terminal_safe(name, 60)}] table")
        else:
            entry.report.unknown(("providers", entry.pid, name), PROVIDER_FIELDS)


def _active_model_in_provider(entry: Entry, name: str, value: Any) -> None:
    """``model = "default"`` under a provider: the active model lives in active.toml."""
    cause = "the active model is not set in config.toml"
    why = model_id_problem(value)
    if why is not None and isinstance(value, str):
        cause += f", and {why[0]}"
    chosen = value if why is None and isinstance(value, str) else "MODEL"
    entry.problem((name,), cause, f"remove this line and run: llmswitch use {entry.pid}/{chosen}"
                  + ("" if why is None else f" (llmswitch list {entry.pid} shows the models)"))


def _preset(entry: Entry, name: Any) -> Preset | None:
    from .. import catalog

    if "preset" not in entry.body:  # a provider named like a preset starts from it
        return catalog.preset(name) if isinstance(name, str) else None
    found = catalog.preset(name) if isinstance(name, str) else None
    if found is None:
        close = difflib.get_close_matches(str(name), catalog.preset_ids(), n=1, cutoff=0.6)
        entry.problem(("preset",), f"unknown preset {shown(name)}",
                      f"did you mean {close[0]!r}?" if close else "run: llmswitch list --presets")
    return found
