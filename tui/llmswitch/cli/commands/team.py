"""``team add URL|PATH``, ``team update``, ``team rm``, ``team show``: the shared providers file.

What the file may hold and how it sits below ``config.toml`` is :mod:`llmswitch.store.team`; this
module shows what a file adds (and its sha256), asks about each env var and plain-http URL
(``--accept-env VAR`` / ``--accept-http ID`` answer without a terminal; a provider's own
``LLMSWITCH_KEY_<ID>`` is asked about only while it is set in this shell, else listed as not
read), then says where each provider's key will actually be looked up; shows an update's diff
and applies it only when accepted (``--yes``, or "y" at the prompt).
"""

from __future__ import annotations

import os
import sys
from dataclasses import fields
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ...base.errors import Exit, LlmswitchError
from ..output import emit_json, out, warn

if TYPE_CHECKING:
    from argparse import ArgumentParser, Namespace

    from ...store.config import ProviderConfig
    from ...store.team import Fetched, Record, TeamCheck


def configure(name: str, parser: ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="team_command", metavar="ACTION", required=True)
    add = sub.add_parser("add", help="fetch a shared providers file (https URL or local path) and use it")
    add.add_argument("source", metavar="URL|PATH")
    update = sub.add_parser("update", help="fetch the team file again, show what changed, apply it if accepted")
    for p in (add, update):
        p.add_argument("--accept-env", action="append", default=[], metavar="VAR",
                       help="let team providers read a key from this env var (repeatable)")
        p.add_argument("--accept-http", action="append", default=[], metavar="ID",
                       help="use this team provider although its base_url is plain http (repeatable)")
    update.add_argument("--yes", "-y", action="store_true", help="apply the changes without asking")
    sub.add_parser("rm", help="forget the team file (its providers are no longer offered)")
    show = sub.add_parser("show", help="where the team file comes from, how old the copy is, what it adds")
    show.add_argument("--json", action="store_true")
    parser.set_defaults(func=cmd_team)


def cmd_team(args: Namespace) -> int:
    return {"add": _add, "update": _update, "rm": _rm, "show": _show}[args.team_command](args)


def _ask(question: str) -> bool:
    """Yes only from a person at a terminal (never by default)."""
    if not sys.stdin.isatty():
        return False
    try:
        return input(f"{question} [y/N] ").strip().lower() in ("y", "yes")
    except EOFError:
        return False


def _mine() -> Any:
    from ...store.config import load_file

    return load_file()


def _key_lookup(provider: ProviderConfig) -> str:
    """Where ``provider``'s key will be looked up, in order, as :func:`llmswitch.store.keys.resolve_for` does it."""
    from ...base import urls
    from ...store import keys

    if provider.key_source == "none":
        return "no key (key_source = \"none\")"
    resolution = keys.resolve_for(provider)
    parts = []
    for step in resolution.steps:
        if step.note.startswith("not read"):
            continue
        state = step.note or ("holds a key" if step.found else "empty" if step.source.startswith("keyring")
                              else "not set")
        parts.append(f"{step.source} ({state})")
    text = ", then ".join(parts) or "nowhere"
    if resolution.key is not None:
        host = urls.host_of(provider.base_url or "") or "its URL"
        text += (f" — that key will be sent to {host}; if it was meant for something else: "
                 + (f"llmswitch key rm {provider.id}" if resolution.source and resolution.source.startswith("keyring")
                    else f"unset {resolution.source.removeprefix('env ') if resolution.source else 'it'}"))
    elif provider.key_source == "keyring":
        text += f" — store {'it' if provider.key_required else 'one, if it wants one'}: llmswitch key set {provider.id}"
    return text


def _accept(found: TeamCheck, args: Namespace, before: Record | None) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Which env vars and plain-http providers the user accepts, one question each (flags answer ahead).

    A provider's own ``LLMSWITCH_KEY_<ID>`` is asked about only while it is set here (else one line says
    it is not read, and how to accept it).
    """
    env = _choose({var: f"{', '.join(pids)} would read a key from ${var} in your environment"
                   for var, pids in found.env.items()}, args.accept_env, before.accepted_env if before else (),
                  "let the team's providers read ${}?", "${} is not read", "--accept-env")
    pending = before.accepted_env if before else ()
    set_here = {var: f"{pid} would read a key from ${var}, which is set in this shell"
                for var, pid in found.overrides.items() if os.environ.get(var)}
    env += _choose(set_here, args.accept_env, pending, "let it read ${}?", "${} is not read", "--accept-env")
    quiet = sorted(var for var in found.overrides if var not in set_here)
    env += tuple(var for var in quiet if var in args.accept_env or var in pending)
    unread = [var for var in quiet if var not in env]
    if unread:
        out(f"  not read: {', '.join('$' + v for v in unread)} (each team provider's own override; accept one: "
            f"llmswitch team update --accept-env VAR)")
    http = _choose({pid: f"{pid} uses plain http to another machine ({url}): a key would travel unencrypted"
                    for pid, url in found.plain_http.items()}, args.accept_http,
                   before.accepted_http if before else (), "use {} anyway?", "{} is left out", "--accept-http")
    return env, http


def _choose(items: dict[str, str], flagged: list[str], accepted: tuple[str, ...], question: str, refused: str,
            flag: str) -> tuple[str, ...]:
    chosen: list[str] = []
    for name, said in sorted(items.items()):
        if name in flagged or name in accepted:
            chosen.append(name)
            continue
        out(f"  ! {said}")
        if _ask("    " + question.format(name)):
            chosen.append(name)
        else:
            out(f"    not accepted: {refused.format(name)} (accept later: llmswitch team update {flag} {name})")
    return tuple(chosen)


def _source(text: str) -> str:
    return text if "://" in text else str(Path(text).expanduser().resolve())


def _add(args: Namespace) -> int:
    from ...net import teamfetch
    from ...store import team

    existing = team.load_record()
    if existing is not None:
        raise LlmswitchError(f"a team file is already in use ({existing.source})",
                             "run: llmswitch team update (or llmswitch team rm, then add the new one)",
                             subject="team")
    source = _source(args.source)
    fetched = teamfetch.fetch(source)
    assert fetched.data is not None
    found = team.check(fetched.data, source, _mine())
    out(f"team file {source}")
    out(f"  sha256 {team.digest(fetched.data)}")
    out(f"  adds {len(found.providers)} provider{'s' if len(found.providers) != 1 else ''} "
        "(below your config.toml: your entries win):")
    for provider in found.providers.values():
        out(f"  + {provider.id:<20} {provider.base_url or '-'}")
    env, http = _accept(found, args, None)
    made = team.record(fetched.data, source, fetched, env, http)
    _describe_keys(found, made)
    out("recorded — llmswitch list shows the team's providers; llmswitch team update fetches it again")
    return Exit.OK


def _describe_keys(found: TeamCheck, rec: Record) -> None:
    """Each team provider's key source as it will actually be used (after what was accepted)."""
    from ...store import team

    used = team.usable(found, rec, _mine())
    out("  keys, where each is looked up (first found wins):")
    for pid in found.providers:
        out(f"    {pid:<20} " + (_key_lookup(used[pid]) if pid in used else "left out (not used)"))


def _diff(old: TeamCheck | None, new: TeamCheck) -> list[str]:
    before = old.providers if old is not None else {}
    lines = [f"  + {pid:<20} {p.base_url or '-'}" for pid, p in new.providers.items()
             if pid not in before]
    lines += [f"  - {pid}" for pid in before if pid not in new.providers]
    for pid, provider in new.providers.items():
        was = before.get(pid)
        if was is None:
            continue
        for f in fields(provider):
            a, b = getattr(was, f.name), getattr(provider, f.name)
            if a != b:
                lines.append(f"  ~ {pid}: {f.name} {a!r} → {b!r}")
    return lines


def _intact(rec: Record) -> bytes | None:
    from ...store import team

    try:
        data = team.copy_path().read_bytes()
    except OSError:
        return None
    return data if team.digest(data) == rec.sha256 else None


def _update(args: Namespace) -> int:
    from ...net import teamfetch
    from ...store import team

    rec = team.load_record()
    if rec is None:
        raise LlmswitchError("no team file is in use", "run: llmswitch team add URL|PATH", subject="team")
    kept = _intact(rec)
    if kept is None:
        warn("the kept copy was changed or is missing (its sha256 differs from the record); fetching it afresh")
    fetched: Fetched = teamfetch.fetch(rec.source, rec if kept is not None else None)
    mine = _mine()
    old = team.check(kept, rec.source) if kept is not None else None
    if fetched.data is None or fetched.data == kept:
        assert kept is not None and old is not None
        out(f"team file {rec.source}: unchanged" + (" (304 Not Modified)" if fetched.data is None else ""))
        env, http = _accept(old, args, rec)
        team.record(kept, rec.source, fetched, env, http)  # the copy is current as of now
        return Exit.OK
    new = team.check(fetched.data, rec.source, mine)
    out(f"team file {rec.source}")
    out(f"  sha256 {rec.sha256 or '?'} → {team.digest(fetched.data)}")
    for line in _diff(old, new) or ["  (no change to any provider)"]:
        out(line)
    if not (args.yes or _ask("apply these changes?")):
        out("not applied — the copy in use is unchanged (llmswitch team update --yes applies it)")
        return Exit.CHECK
    env, http = _accept(new, args, rec)
    _describe_keys(new, team.record(fetched.data, rec.source, fetched, env, http))
    out("applied")
    return Exit.OK


def _rm(args: Namespace) -> int:
    from ...store import team

    rec = team.load_record()
    if not team.forget() or rec is None:
        out("no team file was in use")
        return Exit.OK
    out(f"forgotten: {rec.source} (its providers are no longer offered; your keys were not touched)")
    return Exit.OK


def _show(args: Namespace) -> int:
    from ...net import gateway
    from ...store import team

    rec = team.load_record()
    if rec is None:
        if args.json:
            emit_json(None)
        else:
            out("no team file — add one: llmswitch team add URL|PATH")
        return Exit.OK
    kept = _intact(rec)
    found = team.check(kept, rec.source) if kept is not None else None
    data: dict[str, Any] = {"source": rec.source, "sha256": rec.sha256, "fetched": rec.fetched,
            "age_seconds": round(rec.age()),
            "intact": kept is not None, "providers": sorted(found.providers) if found else [],
            "accepted_env": list(rec.accepted_env), "accepted_http": list(rec.accepted_http),
            "pending_env": sorted(set(found.env) - set(rec.accepted_env)) if found else [],
            "pending_http": sorted(set(found.plain_http) - set(rec.accepted_http)) if found else []}
    if args.json:
        emit_json(data)
        return Exit.OK
    out(f"team file {rec.source}  (fetched {gateway.fmt_age(rec.age())}, sha256 {rec.sha256[:16]}…)")
    if kept is None:
        warn("the kept copy changed since it was fetched: it is not used — run: llmswitch team update")
        return Exit.CHECK
    out(f"  providers: {', '.join(data['providers']) or '(none)'}")
    for var in data["pending_env"]:
        out(f"  not read: ${var} (llmswitch team update --accept-env {var})")
    for pid in data["pending_http"]:
        out(f"  left out: {pid}, plain http (llmswitch team update --accept-http {pid})")
    return Exit.OK
