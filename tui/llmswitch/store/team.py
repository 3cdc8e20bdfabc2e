"""A shared providers file: one list of providers for a team, below each user's own ``config.toml``.

The file is in ``config.toml``'s own format and goes through the same validation
(:func:`llmswitch.store.config.parse`), plus the rules a file written by somebody else needs
(:func:`check`): it can never carry secrets, run anything or redirect your own keys —

* a key, a ``command:`` key source, a credential-like header or a header read from your
  environment or keyring is refused, with the line;
* an id that is a preset or one of your providers is refused (a team ``openai`` pointing
  elsewhere would receive your ``OPENAI_API_KEY``), and so is every id that would read a key
  set up for something else (:func:`claimed`): ``LLMSWITCH_KEY_<ID>`` flattens ``-``, ``.`` and
  ``_``, so a team ``my_gw`` would read the variable of your ``my-gw``; a keyring entry is
  compared without case (some keyrings ignore it), so a team ``corp-token`` cannot read the
  entry your header ``{ keyring = "Corp-Token" }`` uses. Two team ids sharing a name are refused too;
* the env vars a provider would read a key from (``env:VAR``, those its preset implies, and its
  own ``LLMSWITCH_KEY_<ID>``) and a plain ``http://`` base URL to another host are *pending*:
  used only once you accept them, by name.

:func:`fetch` reads it from https (verified; ``SSL_CERT_FILE`` is honoured) or a local path,
with ``If-None-Match``/``If-Modified-Since`` on update. :func:`record` keeps the copy and what
was accepted in the state dir (``team/``, with its sha256); :func:`layer` lays the copy under
the user's providers on every load, after checking the hash: a copy changed behind
``team update``'s back is not used, and the config says so.
"""

from __future__ import annotations

import json
import os
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..base import bounded, paths, urls
from ..base.errors import LlmswitchError, Problem
from ..base.redact import is_secret_header, terminal_safe
from . import catalog, overlay
from .selection import override_var

if TYPE_CHECKING:
    from .config import Config, ProviderConfig

__all__ = ["MAX_BYTES", "Fetched", "Record", "TeamCheck", "TeamRefused", "check", "claimed", "forget",
           "layer", "findings", "key_names", "load_record", "record", "usable"]

MAX_BYTES = bounded.TEAM_FILE.cap
"""A providers file is a few kilobytes; more than 1 MiB is refused unread."""


class TeamRefused(LlmswitchError):
    """The team file cannot be used; ``problems`` say why, each with its line."""

    def __init__(self, problems: Sequence[Problem], where: str) -> None:
        super().__init__(f"the team file {where} is refused", "ask whoever maintains it to fix these lines",
                         problems=tuple(problems))

    def sentence(self, *, with_fix: bool = True) -> str:
        return self.cause + ":" + "".join(f"\n  {p}" for p in self.problems)


@dataclass(frozen=True)
class TeamCheck:
    """A team file that passed: its providers, and what each needs accepted before it is used."""

    providers: dict[str, ProviderConfig]
    env: dict[str, tuple[str, ...]] = field(default_factory=dict)
    """Env var → the team providers that would read a key from it."""
    plain_http: dict[str, str] = field(default_factory=dict)
    """Provider id → its ``http://`` base URL to a host other than this machine."""
    overrides: dict[str, str] = field(default_factory=dict)
    """``LLMSWITCH_KEY_<ID>`` → the team provider that would read it (not read until you accept it)."""


@dataclass(frozen=True)
class Record:
    """What ``team add`` kept: where from, the copy's hash, when, and what you accepted."""

    source: str
    sha256: str
    fetched: str
    etag: str | None = None
    last_modified: str | None = None
    accepted_env: tuple[str, ...] = ()
    accepted_http: tuple[str, ...] = ()

    def age(self) -> float:
        return max(0.0, (datetime.now(UTC) - datetime.fromisoformat(self.fetched)).total_seconds())


@dataclass(frozen=True)
class Fetched:
    """A fetch's answer: the bytes (None when the server said 304 Not Modified) and its validators."""

    data: bytes | None
    etag: str | None = None
    last_modified: str | None = None


# --- where the copy lives ---------------------------------------------------------------------------

def _dir() -> Path:
    return paths.state_dir() / "team"


def _record_path() -> Path:
    return _dir() / "record.json"


def copy_path() -> Path:
    """The kept copy of the team file (exactly the bytes whose sha256 the record holds)."""
    return _dir() / "providers.toml"


def digest(data: bytes) -> str:
    return overlay.digest(data)  # sha256 without hashlib, which loads OpenSSL's (~0.5 MB for every picker)


def load_record() -> Record | None:
    """The record ``team add`` wrote, or None (no team file)."""
    try:
        document = json.loads(_record_path().read_text(encoding="utf-8"))
        return Record(str(document["source"]), str(document["sha256"]), str(document["fetched"]),
                      document.get("etag"), document.get("last_modified"),
                      tuple(str(v) for v in document.get("accepted_env", ())),
                      tuple(str(v) for v in document.get("accepted_http", ())))
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError, TypeError):
        return Record("(unreadable record)", "", datetime.now(UTC).isoformat())


def record(data: bytes, source: str, fetched: Fetched, accepted_env: tuple[str, ...],
           accepted_http: tuple[str, ...]) -> Record:
    """Keep ``data`` as the team copy, with its hash and what was accepted."""
    from ..base.files import atomic_write

    made = Record(source, digest(data), datetime.now(UTC).replace(microsecond=0).isoformat(), fetched.etag,
                  fetched.last_modified, tuple(sorted(accepted_env)), tuple(sorted(accepted_http)))
    atomic_write(copy_path(), data)
    document = {**made.__dict__, "accepted_env": list(made.accepted_env), "accepted_http": list(made.accepted_http)}
    atomic_write(_record_path(), json.dumps(document, indent=1).encode())
    return made


def forget() -> bool:
    """Remove the record and the copy; False when there was none."""
    found = False
    for path in (_record_path(), copy_path()):
        try:
            path.unlink()
            found = True
        except FileNotFoundError:
            pass
    return found


# --- refusals (the fetch itself is llmswitch.net.teamfetch: the wire is a floor above the store) -----

def _refused(cause: str, fix: str) -> LlmswitchError:
    return LlmswitchError(cause, fix, subject="team")


# --- the rules --------------------------------------------------------------------------------------

def key_names(provider_id: str) -> tuple[str, str]:
    """The two names a provider's key is read under that an id alone decides: ``env LLMSWITCH_KEY_<ID>`` and
    ``keyring llmswitch/<id>`` (the keyring entry folded to lower case: some keyrings ignore case)."""
    return f"env {override_var(provider_id)}", f"keyring llmswitch/{provider_id.casefold()}"


def claimed(mine: Config | None, *, presets: bool = True) -> dict[str, str]:
    """Every key name set up for something else → what it belongs to.

    The names of every preset (its ``LLMSWITCH_KEY_<ID>``, its keyring entry) and of each of your own
    providers (those two, its env vars, and the env var or keyring entry of each secret header).
    A team provider whose :func:`key_names` are among them would read that key; it is refused.
    """
    made: dict[str, str] = {}
    for pid in catalog.preset_ids() if presets else ():
        for name in key_names(pid):
            made.setdefault(name, f"the preset {pid}")
    for pid, provider in (mine.providers.items() if mine is not None else ()):
        if provider.origin is not None:
            continue
        owner = f"your provider {pid}"
        for name in (*key_names(pid), *(f"env {var}" for var in provider.key_env)):
            made.setdefault(name, owner)
        for header in provider.header_sources:
            name = f"env {header.env}" if header.env else f"keyring llmswitch/{(header.keyring or '').casefold()}"
            made.setdefault(name, f"header {header.name} of your provider {pid}")
    return made


def collision(provider_id: str, taken: dict[str, str]) -> tuple[str, str] | None:
    """(the name, whose it is) when ``provider_id`` would read a key under a name in ``taken``, else None."""
    for name in key_names(provider_id):
        if name in taken:
            return name, taken[name]
    return None


def check(data: bytes, where: str, mine: Config | None = None) -> TeamCheck:
    """Validate a team file as ``config.toml`` is validated, then by the team rules. Raises on any refusal.

    ``mine`` is the user's own config: its ids, and every name its keys are read under, may not appear
    in the team file. Raises :class:`llmswitch.base.errors.ConfigError` (the shared rules) or :class:`TeamRefused`.
    """
    from ..base.tomlpos import key_lines
    from .config import parse
    from .config.fields import Report

    parsed = parse(data, Path(where))  # the same rules, with the team file's name and lines
    text = data.decode("utf-8")
    raw = tomllib.loads(text)
    report = Report(Path(where), key_lines(text))
    for name in raw:
        if name not in ("version", "providers"):
            report.add((name,), f"a team file may set only providers, not [{terminal_safe(name, 40)}]",
                       "remove it from the team file (preferences are each user's own)")
    taken = claimed(mine)
    for pid, body in (raw.get("providers") or {}).items():
        _provider_rules(report, pid, body if isinstance(body, dict) else {}, mine, taken)
    if report.problems:
        raise TeamRefused(report.problems, where)
    env: dict[str, tuple[str, ...]] = {}
    plain: dict[str, str] = {}
    overrides: dict[str, str] = {}
    for pid, provider in parsed.providers.items():
        for var in provider.key_env:
            env[var] = (*env.get(var, ()), pid)
        if provider.key_source != "none":  # resolution stops at "none": its override is never read
            overrides[override_var(pid)] = pid
        if provider.base_url and provider.base_url.startswith("http://") and not urls.is_loopback(provider.base_url):
            plain[pid] = provider.base_url
    return TeamCheck(parsed.providers, env, plain, overrides)


def _provider_rules(report: Any, pid: str, body: dict[str, Any], mine: Config | None, taken: dict[str, str]) -> None:
    key = ("providers", pid)
    rename = f"rename it in the team file to an id whose key variable and keyring entry are its own, e.g. " \
             f"[providers.team-{pid}]"
    same = collision(pid, taken)
    if catalog.preset(pid) is not None:
        report.add(key, f"{pid} is a preset id: a team entry with it would receive your own {pid} key",
                   f"rename it in the team file, e.g. [providers.team-{pid}]")
    elif mine is not None and pid in mine.providers:
        report.add(key, f"{pid} is one of your own providers (config.toml)",
                   "rename it in the team file, or remove yours first: llmswitch providers rm " + pid)
    elif same is not None:
        report.add(key, f"{pid} would read the key set up for {same[1]} ({same[0]}: ids that differ only in -, . "
                        f"or _ or in case share it)", rename)
    if same is None:  # a later id of this file with the same names would read this one's key
        for name in key_names(pid):
            taken[name] = f"the team's own {pid}"
    source = body.get("key_source")
    if isinstance(source, str) and source.startswith("command:"):
        report.add((*key, "key_source"), "a team file may not run commands (command: key source)",
                   f'use key_source = "keyring" (each user runs: llmswitch key set {pid})')
    headers = body.get("headers")
    for name, value in (headers.items() if isinstance(headers, dict) else ()):
        if is_secret_header(name):
            report.add((*key, "headers", name), f"credential-like header {terminal_safe(name, 40)} in a team file",
                       "remove it: credentials stay with each user (keyring or env var)")
        elif isinstance(value, dict):
            report.add((*key, "headers", name), "a team file may not read header values from your environment "
                       "or keyring", "remove it, or each user adds that header in their own config.toml")


# --- the layer under config.toml --------------------------------------------------------------------

def usable(found: TeamCheck, rec: Record, mine: Config) -> dict[str, ProviderConfig]:
    """The team providers as used: yours win, unaccepted env vars are not read (an ``env:VAR`` source whose
    variable you declined reads your keyring entry instead), ``LLMSWITCH_KEY_<ID>`` is read only once accepted,
    unaccepted plain http is left out, and so is one that would read a key of yours (:func:`left_out`)."""
    made: dict[str, ProviderConfig] = {}
    skipped = left_out(found, mine)
    for pid, provider in found.providers.items():
        if pid in mine.providers or pid in skipped or pid in found.plain_http and pid not in rec.accepted_http:
            continue
        key_env = tuple(v for v in provider.key_env if v in rec.accepted_env)
        # env:VAR declined: the key is yours to give, in your keyring (llmswitch key set ID says so)
        source = "keyring" if provider.key_source == "env" and not key_env else provider.key_source
        made[pid] = replace(provider, key_env=key_env, key_source=source, origin=rec.source,
                            reads_override=override_var(pid) in rec.accepted_env)
    return made


def left_out(found: TeamCheck, mine: Config) -> dict[str, tuple[str, str]]:
    """Team providers that would read a key of one of your providers added since (id → (name, whose))."""
    taken = claimed(mine, presets=False)  # a preset's names are refused by check itself
    made: dict[str, tuple[str, str]] = {}
    for pid in found.providers:
        same = collision(pid, taken) if pid not in mine.providers else None
        if same is not None:
            made[pid] = same
    return made


def layer(mine: Config) -> Config:
    """``mine`` with the team's providers below it; a missing, tampered or refused copy adds a warning instead."""
    rec = load_record()
    if rec is None:
        return mine
    try:
        data = copy_path().read_bytes()
    except OSError as exc:
        return _warned(mine, f"the team copy cannot be read ({exc.strerror})", "run: llmswitch team update")
    if digest(data) != rec.sha256:
        return _warned(mine, f"the team copy {copy_path()} changed since it was fetched (sha256 differs); "
                             "it is not used", "run: llmswitch team update (it shows what changed)")
    try:
        found = check(data, _where(rec))
    except LlmswitchError as exc:
        return _warned(mine, f"the team file is no longer valid ({exc.problems[0] if exc.problems else exc.cause})",
                       "run: llmswitch team update")
    return replace(mine, providers={**mine.providers, **usable(found, rec, mine)})


def findings(mine: Config) -> list[tuple[bool, str, str | None]]:
    """(trouble?, cause, fix) for ``doctor``: where the team file comes from, how old, what it adds or is kept from."""
    from .state import fmt_age

    rec = load_record()
    if rec is None:
        return []
    try:
        data = copy_path().read_bytes()
    except OSError:
        data = b""
    if digest(data) != rec.sha256:
        return [(True, f"team file {rec.source}: the kept copy changed since it was fetched; its providers are not "
                       "used", "run: llmswitch team update")]
    try:
        found = check(data, _where(rec))
    except LlmswitchError as exc:
        return [(True, f"team file {rec.source}: {exc.cause}", "run: llmswitch team update")]
    used = [pid for pid, p in mine.providers.items() if p.origin == rec.source]
    made: list[tuple[bool, str, str | None]] = [(False, f"team file {rec.source} (fetched {fmt_age(rec.age())}): "
                    f"{', '.join(used) or 'no providers'}", None)]
    made += [(True, f"your own {pid} in config.toml hides the team's {pid}", None)
             for pid in found.providers if pid in mine.providers and mine.providers[pid].origin is None]
    made += [(True, f"team providers {', '.join(pids)} do not read ${var} (not accepted)",
              f"llmswitch team update --accept-env {var}") for var, pids in found.env.items()
             if var not in rec.accepted_env]
    made += [(True, f"team provider {pid} is left out: plain http to {urls.host_of(url)}",
              f"llmswitch team update --accept-http {pid}") for pid, url in found.plain_http.items()
             if pid not in rec.accepted_http]
    made += [(True, f"team provider {pid} is left out: it would read the key set up for {whose} ({name})",
              f"rename your provider, or ask the team to rename {pid}")
             for pid, (name, whose) in left_out(found, mine).items()]
    made += [(True, f"${var} is set, but team provider {pid} does not read it (not accepted)",
              f"llmswitch team update --accept-env {var}") for var, pid in found.overrides.items()
             if os.environ.get(var) and var not in rec.accepted_env]
    return made


def _where(rec: Record) -> str:
    return f"team:{terminal_safe(rec.source, 200)}"


def _warned(mine: Config, cause: str, fix: str) -> Config:
    return replace(mine, warnings=(*mine.warnings, Problem(cause, fix, severity="warning")))
