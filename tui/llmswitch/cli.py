"""``llmswitch`` command line.

Every command is a small function; heavy imports happen inside the command
that needs them so ``llmswitch current`` stays as cheap as reading a file.

Exit codes (documented in README):
  0 ok · 1 a check failed (probe, doctor, config check) · 2 usage error or an
  invalid config/state file · 3 unknown provider, no selection, nothing stored ·
  4 key problem (missing key, keyring unavailable) · 127 exec: command not found ·
  otherwise ``exec`` returns the command's own exit code.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Any

from .errors import UnsafeFileError

EXIT_OK, EXIT_CHECK, EXIT_USAGE, EXIT_NOT_FOUND, EXIT_KEY, EXIT_NO_COMMAND = 0, 1, 2, 3, 4, 127
SHELLS = ("bash", "zsh", "fish", "powershell", "dotenv")


class Fail(Exception):
    """A user-facing failure: one sentence (cause — fix) and an exit code."""

    def __init__(self, message: str, code: int = EXIT_CHECK):
        super().__init__(message)
        self.code = code


def out(text: str = "") -> None:
    sys.stdout.write(text + "\n")


def warn(text: str) -> None:
    sys.stderr.write(f"warning: {text}\n")


def emit_json(data: Any) -> None:
    out(json.dumps(data, indent=2, default=str))


# --- shared helpers ---------------------------------------------------------------------------

def load_config():
    from .config import ConfigError, load

    try:
        config = load()
    except ConfigError as exc:
        raise Fail("the providers file has problems:\n  " + "\n  ".join(str(p) for p in exc.problems), EXIT_USAGE) from None
    for problem in config.warnings:
        warn(str(problem))
    return config


def provider_of(config, provider_id: str):
    from .config import UnknownProvider

    try:
        return config.provider(provider_id)
    except UnknownProvider as exc:
        raise Fail(str(exc), EXIT_NOT_FOUND) from None


def read_selection(role: str):
    from .selection import NoSelection, SelectionError, read

    try:
        return read(role)
    except NoSelection as exc:
        raise Fail(str(exc), EXIT_NOT_FOUND) from None
    except SelectionError as exc:
        raise Fail(str(exc), EXIT_USAGE) from None


def key_failure(exc: Exception) -> Fail:
    return Fail(str(exc), EXIT_KEY)


def executable() -> list[str]:
    """How to call this llmswitch again from a shell snippet."""
    argv0 = sys.argv[0] if sys.argv else ""
    if os.path.basename(argv0) in ("llmswitch", "llmswitch.exe") and os.path.isabs(argv0):
        return [argv0]
    return [sys.executable, "-m", "llmswitch"]


# --- current ----------------------------------------------------------------------------------

def cmd_current(args) -> int:
    from .selection import SelectionError, read_all

    if args.all:
        try:
            roles = read_all()
        except SelectionError as exc:
            raise Fail(str(exc), EXIT_USAGE) from None
        if not roles:
            raise Fail("no model selected yet — run: llmswitch use PROVIDER/MODEL", EXIT_NOT_FOUND)
        selections = list(roles.values())
    else:
        selections = [read_selection(args.role)]
    if args.json:
        data = [s.as_dict() for s in selections]
        emit_json(data if args.all else data[0])
        return EXIT_OK
    if args.field:
        fields = selections[0].as_dict()
        if args.field not in fields:
            raise Fail(f"no field {args.field!r} — fields: {', '.join(fields)}", EXIT_USAGE)
        for sel in selections:
            value = sel.as_dict().get(args.field)
            out(" ".join(value) if isinstance(value, list) else str(value if value is not None else ""))
        return EXIT_OK
    for sel in selections:
        out(sel.ref)
        out(f"  role      {sel.role}")
        out(f"  base_url  {sel.base_url}")
        out(f"  api_kind  {sel.api_kind}")
        out(f"  key       {describe_key_source(sel)}")
        if sel.headers:
            out(f"  headers   {', '.join(sel.headers)}")
        if sel.updated:
            out(f"  updated   {sel.updated:%Y-%m-%d %H:%M} UTC")
    return EXIT_OK


def describe_key_source(sel) -> str:
    from .keys import override_var

    parts = [f"env {override_var(sel.provider)}"]
    if sel.key_source == "none":
        return "none (keyless server)"
    if sel.key_source == "keyring":
        parts.append(f"keyring {sel.keyring_service}/{sel.keyring_username}")
    elif sel.key_source == "command":
        parts.append(f"command {sel.key_command}")
    parts += [f"env {name}" for name in sel.key_env]
    text = ", then ".join(parts)
    return text if sel.key_required else text + " (optional)"


# --- use --------------------------------------------------------------------------------------

def cmd_use(args) -> int:
    from . import selection
    from .switch import SwitchError, switch

    if args.unset:
        if args.ref:
            raise Fail("--unset takes no PROVIDER/MODEL — run: llmswitch use --role ROLE --unset", EXIT_USAGE)
        try:
            removed = selection.clear(args.role)
        except selection.SelectionError as exc:
            raise Fail(str(exc), EXIT_USAGE) from None
        out(f"{args.role}: cleared" if removed else f"{args.role}: was not set")
        return EXIT_OK
    if not args.ref:
        raise Fail("name the model — run: llmswitch use PROVIDER/MODEL", EXIT_USAGE)
    config = load_config()
    try:
        result = switch(args.ref, args.role, config)
    except SwitchError as exc:
        raise Fail(str(exc), exc.code) from None
    out(f"{args.role} → {result.selection.ref}  ({result.selection.base_url})")
    for note in result.warnings:
        warn(note)
    return EXIT_OK


# --- env / exec -------------------------------------------------------------------------------

def _quote(shell: str, value: str) -> str:
    if shell == "powershell":
        return "'" + value.replace("'", "''") + "'"
    if shell == "dotenv":
        return value if value and all(c.isalnum() or c in "-_./:@+," for c in value) else json.dumps(value)
    import shlex

    return shlex.quote(value)


def _assign(shell: str, name: str, value: str, raw: bool = False) -> str:
    quoted = value if raw else _quote(shell, value)
    if shell == "fish":
        return f"set -gx {name} {quoted}"
    if shell == "powershell":
        return f"$env:{name} = {quoted}"
    if shell == "dotenv":
        return f"{name}={quoted}"
    return f"export {name}={quoted}"


def cmd_env(args) -> int:
    import shlex

    from .api import environment, resolve_key
    from .keys import KEYLESS_PLACEHOLDER, KeyProblem

    sel = read_selection(args.role)
    shell = args.shell or (os.path.basename(os.environ.get("SHELL", "")) if os.path.basename(
        os.environ.get("SHELL", "")) in ("bash", "zsh", "fish") else "bash")
    try:
        resolution = resolve_key(sel)
        key = resolution.require()
    except KeyProblem as exc:
        raise key_failure(exc) from None
    lines = [_assign(shell, name, value) for name, value in environment(sel, None).items()]
    if key is None:
        lines.append(_assign(shell, "OPENAI_API_KEY", KEYLESS_PLACEHOLDER))
    elif shell == "dotenv":
        if args.include_key:
            lines.append(_assign(shell, "OPENAI_API_KEY", key))
        else:
            lines.append("# OPENAI_API_KEY left out: add --include-key to write it (the output then holds the key)")
    else:
        getter = " ".join(shlex.quote(part) for part in [*executable(), "key", "get", sel.provider])
        substitution = {"fish": f"({getter})", "powershell": f"({getter})"}.get(shell, f'"$({getter})"')
        lines.append(_assign(shell, "OPENAI_API_KEY", substitution, raw=True))
    out("\n".join(lines))
    return EXIT_OK


def cmd_exec(args) -> int:
    from .api import api_key, environment
    from .keys import KeyProblem

    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        raise Fail("nothing to run — usage: llmswitch exec -- COMMAND [ARGS…]", EXIT_USAGE)
    sel = read_selection(args.role)
    try:
        key = api_key(sel)
    except KeyProblem as exc:
        raise key_failure(exc) from None
    env = {**os.environ, **environment(sel, key)}
    sys.stdout.flush()
    if sys.platform == "win32":  # pragma: no cover
        import subprocess

        try:
            return subprocess.run(command, env=env).returncode
        except FileNotFoundError:
            raise Fail(f"command not found: {command[0]}", EXIT_NO_COMMAND) from None
    try:
        os.execvpe(command[0], command, env)
    except FileNotFoundError:
        raise Fail(f"command not found: {command[0]} — check the name or your PATH", EXIT_NO_COMMAND) from None
    except PermissionError:
        raise Fail(f"cannot run {command[0]} (permission denied) — is it executable?", 126) from None
    return EXIT_OK  # pragma: no cover - execvpe does not return


# --- key --------------------------------------------------------------------------------------

def key_provider(args):
    if getattr(args, "role", None) and not args.provider:
        sel = read_selection(args.role)
        config = load_config()
        return provider_of(config, sel.provider)
    if not args.provider:
        raise Fail("name the provider — e.g. llmswitch key set openrouter", EXIT_USAGE)
    from .redact import looks_like_secret

    if looks_like_secret(args.provider):
        raise Fail("that looks like a key itself — keys are never taken from the command line (it would stay in "
                   "your shell history); run: llmswitch key set PROVIDER and paste the key at the prompt", EXIT_USAGE)
    return provider_of(load_config(), args.provider)


def cmd_key_set(args) -> int:
    from . import keys

    provider = key_provider(args)
    if sys.stdin.isatty():
        import getpass

        secret = getpass.getpass(f"API key for {provider.name} ({provider.id}), input hidden: ")
    else:
        secret = sys.stdin.read()
    try:
        where = keys.store(provider.id, secret)
    except keys.KeyProblem as exc:
        raise key_failure(exc) from None
    out(f"stored the {provider.id} key in the keyring ({where.removeprefix('keyring.backends.')})")
    override = keys.override_var(provider.id)
    if os.environ.get(override):
        warn(f"{override} is set in this shell and wins over the keyring — unset it to use the stored key")
    if provider.key_source != "keyring":
        warn(f"{provider.id} has key_source = {provider.key_source_text()!r}, so the keyring is not consulted — "
             f"set key_source = \"keyring\" in config.toml to use the stored key")
    out(f"check it: llmswitch probe {provider.id}")
    return EXIT_OK


def cmd_key_get(args) -> int:
    from . import keys

    provider = key_provider(args)
    try:
        resolution = keys.resolve_for(provider)
    except keys.KeyProblem as exc:
        raise key_failure(exc) from None
    try:
        key = resolution.require() or keys.KEYLESS_PLACEHOLDER  # keyless: the documented placeholder
    except keys.KeyProblem as exc:
        raise key_failure(exc) from None
    sys.stdout.write(key + "\n")
    return EXIT_OK


def cmd_key_rm(args) -> int:
    from . import keys

    provider = key_provider(args)
    try:
        removed = keys.delete(provider.id)
    except keys.KeyProblem as exc:
        raise key_failure(exc) from None
    if not removed:
        raise Fail(f"no key stored for {provider.id} in the keyring — nothing removed", EXIT_NOT_FOUND)
    out(f"removed the {provider.id} key from the keyring")
    left = keys.resolve_for(provider)
    if left.key is not None:
        warn(f"{provider.id} still gets a key from {left.source} — unset it there too if you meant to remove it")
    return EXIT_OK


def cmd_key_where(args) -> int:
    from . import keys
    from .redact import redact_key

    provider = key_provider(args)
    resolution = keys.resolve_for(provider)
    if args.json:
        emit_json({
            "provider": provider.id, "source": resolution.source, "found": resolution.key is not None,
            "redacted": redact_key(resolution.key) if resolution.key else None, "required": resolution.required,
            "steps": [{"source": s.source, "found": s.found, "note": s.note} for s in resolution.steps],
            "problems": list(resolution.problems),
        })
        return EXIT_OK
    out(f"{provider.id}: key looked up in this order (first found wins)")
    used_seen = False
    for number, step in enumerate(resolution.steps, start=1):
        mark = "found" if step.found else "not set" if step.source.startswith("env") else "not found"
        if step.note:
            mark = step.note
        used = "  ← used" if step.source == resolution.source and not used_seen else ""
        used_seen = used_seen or bool(used)
        out(f"  {number}. {step.source:<40} {mark}{used}")
    if resolution.key:
        out(f"key in use: {redact_key(resolution.key)} from {resolution.source}")
    elif resolution.required:
        out(f"no key — run: llmswitch key set {provider.id}")
    else:
        out(f"no key (optional for {provider.id}: a placeholder is sent)")
    for problem in resolution.problems:
        warn(problem)
    return EXIT_OK


# --- providers --------------------------------------------------------------------------------

def cmd_providers_add(args) -> int:
    from . import catalog
    from .config import ConfigError

    preset = catalog.preset(args.preset or args.id)
    if args.preset and preset is None:
        raise Fail(f"unknown preset {args.preset!r} — run: llmswitch list --presets", EXIT_NOT_FOUND)
    if preset is None and not args.base_url:
        import difflib

        close = difflib.get_close_matches(args.id, catalog.preset_ids(), n=2, cutoff=0.6)
        hint = f"did you mean {' or '.join(close)}? Otherwise " if close else ""
        raise Fail(f"{args.id!r} is not a preset — {hint}give its URL: llmswitch providers add {args.id} "
                   f"--base-url URL (or --preset ID)", EXIT_USAGE)
    settings: dict[str, Any] = {}
    if preset is not None and preset.id != args.id:
        settings["preset"] = preset.id
    if args.base_url is not None:
        from .config import normalize_base_url

        try:
            args.base_url = normalize_base_url(args.base_url)
        except ValueError as exc:
            raise Fail(str(exc), EXIT_USAGE) from None
    for name in ("name", "kind", "base_url", "key_source", "timeout", "api_version"):
        value = getattr(args, name)
        if value is not None:
            settings[name] = value
    if args.header:
        headers = {}
        for item in args.header:
            name, sep, value = item.partition(":") if ":" in item else item.partition("=")
            if not sep or not name.strip():
                raise Fail(f"--header {item!r} must look like 'Name: value'", EXIT_USAGE)
            headers[name.strip()] = value.strip()
        settings["headers"] = headers
    if args.favorite:
        settings["favorites"] = args.favorite
    try:
        from .config import add_provider

        config = add_provider(args.id, settings, replace=args.replace)
    except ConfigError as exc:
        raise Fail("\n  ".join(_as_flag_problem(p, args.id) for p in exc.problems), EXIT_USAGE) from None
    provider = config.providers[args.id]
    out(f"added {provider.id} ({provider.name}) → {provider.base_url}  [{config.path}]")
    for problem in config.warnings:
        if problem.key and problem.key.startswith(f"providers.{args.id}."):
            warn(f"{args.id}: {problem.message} — {problem.fix}")
    if provider.key_source == "keyring" and provider.key_required:
        out(f"store its key: llmswitch key set {provider.id}")
    out(f"check it:      llmswitch probe {provider.id}")
    return EXIT_OK


_FLAGS = {"base_url": "--base-url", "kind": "--kind", "key_source": "--key-source", "headers": "--header",
          "favorites": "--favorite", "timeout": "--timeout", "api_version": "--api-version", "name": "--name",
          "preset": "--preset"}


def _as_flag_problem(problem, provider_id: str) -> str:
    """A problem with the entry being added, phrased for the command line (the file was not written)."""
    prefix = f"providers.{provider_id}."
    if not problem.key or not problem.key.startswith(prefix):
        return str(problem)
    field = problem.key.removeprefix(prefix).split(".", 1)[0]
    flag = _FLAGS.get(field, field)
    fix = problem.fix or ""
    if field == "api_version":
        fix = "add --api-version 2024-10-21"
    return f"{flag}: {problem.message}" + (f" — {fix}" if fix else "") + " (nothing was written)"


def cmd_providers_rm(args) -> int:
    from . import keys
    from .config import ConfigError, UnknownProvider, remove_provider

    try:
        remove_provider(args.id)
    except UnknownProvider as exc:
        raise Fail(str(exc), EXIT_NOT_FOUND) from None
    except ConfigError as exc:
        raise Fail("\n  ".join(str(p) for p in exc.problems), EXIT_USAGE) from None
    out(f"removed {args.id} from config.toml")
    if args.delete_key:
        try:
            removed = keys.delete(args.id)
        except keys.KeyProblem as exc:
            raise key_failure(exc) from None
        out("removed its key from the keyring" if removed else "no key was stored for it")
    else:
        out(f"its key (if any) stays in the keyring — remove it with: llmswitch key rm {args.id}")
    from .selection import SelectionError, read_all

    try:
        for sel in read_all().values():
            if sel.provider == args.id:
                warn(f"role {sel.role} still uses {sel.ref} — pick another: llmswitch use --role {sel.role} PROVIDER/MODEL")
    except SelectionError:
        pass
    return EXIT_OK


def provider_dict(provider) -> dict[str, Any]:
    return {
        "id": provider.id, "name": provider.name, "kind": provider.kind, "base_url": provider.base_url,
        "preset": provider.preset, "configured": provider.configured, "key_source": provider.key_source_text(),
        "key_env": list(provider.key_env), "key_required": provider.key_required, "headers": provider.headers,
        "favorites": list(provider.favorites), "timeout": provider.timeout, "local": provider.local,
    }


def cmd_providers_show(args) -> int:
    from . import keys

    provider = provider_of(load_config(), args.id)
    resolution = keys.resolve_for(provider)
    data = provider_dict(provider)
    data["key_found_in"] = resolution.source
    if args.json:
        emit_json(data)
        return EXIT_OK
    for name, value in data.items():
        if isinstance(value, (list, tuple)):
            value = ", ".join(value) or "-"
        elif isinstance(value, dict):
            value = ", ".join(f"{k}: {v}" for k, v in value.items()) or "-"
        out(f"{name:<13} {value if value is not None else '-'}")
    return EXIT_OK


# --- list -------------------------------------------------------------------------------------

def _fmt_int(value: int | None) -> str:
    if not value:
        return "-"
    return f"{value // 1000}k" if value >= 1000 else str(value)


def _fmt_price(value: float | None) -> str:
    return "-" if value is None else f"${value:g}"


def cmd_list(args) -> int:
    from . import catalog, state

    if args.presets:
        rows = [{"id": p.id, "name": p.name, "base_url": p.resolved_base_url(), "kind": p.kind, "local": p.local,
                 "key_env": list(p.key_env), "models": len(p.models)} for p in catalog.presets().values()]
        if args.json:
            emit_json(rows)
            return EXIT_OK
        for row in rows:
            where = "local " if row["local"] else "hosted"
            out(f"{row['id']:<28} {where} {row['models']:>4} models  {row['base_url'] or '(needs --base-url)'}")
        return EXIT_OK
    config = load_config()
    if args.provider:
        provider = provider_of(config, args.provider)
        live = state.known_models(provider.id, provider.base_url) or []
        infos = {m.id: m for m in catalog.catalog_models(provider.preset or provider.id)}
        ids = list(dict.fromkeys([*provider.favorites, *live, *infos]))
        rows = []
        for model_id in ids:
            info = infos.get(model_id) or catalog.model_info(provider.preset or provider.id, model_id)
            rows.append({"id": model_id, "live": model_id in live, "favorite": model_id in provider.favorites,
                         "context": info.context if info else None, "max_output": info.max_output if info else None,
                         "input_price": info.input_price if info else None,
                         "output_price": info.output_price if info else None})
        if args.json:
            emit_json({"provider": provider.id, "probed": bool(live), "models": rows})
            return EXIT_OK
        if not rows:
            out(f"{provider.id}: no models known yet — run: llmswitch probe {provider.id}")
        for row in rows:
            mark = "*" if row["favorite"] else " "
            out(f"{mark} {provider.id}/{row['id']:<50} ctx {_fmt_int(row['context']):>6}  "
                f"in {_fmt_price(row['input_price']):>7}  out {_fmt_price(row['output_price']):>7}")
        if not live and rows:
            out(f"(catalog only — run `llmswitch probe {provider.id}` to see what the server offers)")
        return EXIT_OK
    from .selection import SelectionError, read_all

    try:
        active = {sel.provider: sel for sel in read_all().values()}
    except SelectionError:
        active = {}
    rows = []
    for provider in config.providers.values():
        live = state.known_models(provider.id, provider.base_url)
        rows.append({**provider_dict(provider), "probed_models": live,
                     "catalog_models": len(catalog.catalog_models(provider.preset or provider.id)),
                     "active": provider.id in active})
    for pid in active:
        if pid not in config.providers:
            provider = provider_of(config, pid)
            rows.append({**provider_dict(provider), "probed_models": state.known_models(pid, provider.base_url),
                         "catalog_models": len(catalog.catalog_models(pid)), "active": True})
    if args.json:
        emit_json(rows)
        return EXIT_OK
    if not rows:
        out("no providers configured — add one: llmswitch providers add openrouter  (presets: llmswitch list --presets)")
        return EXIT_OK
    for row in rows:
        live = row["probed_models"]
        models = f"{len(live)} live" if live is not None else "not probed"
        mark = "●" if row["active"] else " "
        out(f"{mark} {row['id']:<20} {row['base_url'] or '-':<45} {models:<11} {row['catalog_models']:>4} in catalog")
    return EXIT_OK


# --- config -----------------------------------------------------------------------------------

def cmd_config_check(args) -> int:
    from . import paths
    from .config import ConfigError, load
    from .selection import SelectionError, read_all

    problems: list[dict[str, Any]] = []
    path = paths.config_file()
    try:
        config = load(path)
        problems += [p.as_dict() for p in config.warnings]
        exists = config.exists
    except ConfigError as exc:
        problems += [p.as_dict() for p in exc.problems]
        exists = True
    try:
        read_all()
    except SelectionError as exc:
        problems.append({"severity": "error", "file": str(paths.active_file()), "line": None, "key": None,
                         "message": str(exc), "fix": None})
    errors = [p for p in problems if p["severity"] == "error"]
    if args.json:
        emit_json({"config": str(path), "exists": exists, "ok": not errors, "problems": problems})
    elif not exists:
        out(f"no providers file at {path} — nothing to check (`llmswitch providers add ID` creates it)")
    elif not problems:
        out(f"{path}: ok")
    else:
        from .config import Problem

        for p in problems:
            out(f"{p['severity']}: {Problem(**{k: p[k] for k in ('message', 'fix', 'file', 'line', 'key')})}")
    return EXIT_CHECK if errors else EXIT_OK


def cmd_config_path(args) -> int:
    from . import paths

    data = {"config_dir": str(paths.config_dir()), "config": str(paths.config_file()),
            "active": str(paths.active_file()), "cache_dir": str(paths.cache_dir()), "state_dir": str(paths.state_dir())}
    if args.json:
        emit_json(data)
    else:
        for name, value in data.items():
            out(f"{name:<11} {value}")
    return EXIT_OK


# --- probe / doctor ---------------------------------------------------------------------------

def probe_targets(config, provider_ids: list[str], timeout: float | None):
    """ProbeTargets for the named providers (default: configured + active ones), with key problems."""
    from .probe.targets import for_provider as probe_target
    from .selection import SelectionError, read_all

    try:
        roles = read_all()
    except SelectionError:
        roles = {}
    selected = {sel.provider: sel.model for sel in reversed(list(roles.values()))}
    ids = provider_ids or list(dict.fromkeys([*config.providers, *selected]))
    if not ids:
        raise Fail("no providers configured — add one: llmswitch providers add openrouter (or run: llmswitch setup)",
                   EXIT_NOT_FOUND)
    made = []
    for pid in ids:
        provider = provider_of(config, pid)
        if not provider.base_url:
            raise Fail(f"{pid} has no base_url — run: llmswitch providers add {pid} --base-url URL", EXIT_USAGE)
        made.append((provider, *probe_target(provider, selected.get(provider.id), timeout or None)))
    return made


def run_probes(targets, deep: bool, progress: bool):
    """Probe concurrently; on a terminal, print each result to stderr as it arrives."""
    import asyncio

    from .probe import probe_all

    async def collect():
        results = {}
        async for result in probe_all(targets, deep=deep):
            results[result.provider] = result
            if progress:
                mark = "✓" if result.usable else "✗"
                sys.stderr.write(f"  [{len(results)}/{len(targets)}] {mark} {result.provider}: {result.summary}\n")
                sys.stderr.flush()
        return [results[t.provider] for t in targets]

    if progress:
        sys.stderr.write(f"probing {len(targets)} provider{'s' if len(targets) != 1 else ''}…\n")
    return asyncio.run(collect())


def remember(results, providers) -> None:
    from . import state

    for result, provider in zip(results, providers, strict=True):
        if result.models and result.outcome in ("ok", "keyless", "model_missing"):
            try:
                state.remember_models(provider.id, provider.base_url, list(result.models))
            except OSError:
                pass  # the cache is a convenience


AUTH_OUTCOMES = ("auth_missing", "auth_rejected", "forbidden")


def cmd_probe(args) -> int:
    from .probe import render_json, render_table

    config = load_config()
    made = probe_targets(config, args.providers, args.timeout)
    providers = [p for p, _, _ in made]
    targets = [t for _, t, _ in made]
    results = run_probes(targets, args.deep, progress=sys.stderr.isatty() and not args.json)
    remember(results, providers)
    if args.json:
        emit_json(render_json(results))
    else:
        out(render_table(results, verbose=args.verbose))
        for result, (_, _, problem) in zip(results, made, strict=True):
            if problem and (result.outcome in AUTH_OUTCOMES or result.fix and "key set" in result.fix):
                warn(f"{result.provider}: {problem}")  # `key set` alone cannot help while this is so
    return EXIT_OK if all(r.usable for r in results) else EXIT_CHECK


def cmd_doctor(args) -> int:
    from . import doctor

    findings = doctor.file_findings()
    config_found, config, roles = doctor.config_findings()
    findings += config_found + doctor.keyring_findings() + doctor.environment_findings(roles)
    results = []
    if config is not None and (config.providers or roles) and not args.no_probe:
        made = probe_targets(config, [], args.timeout)
        results = run_probes([t for _, t, _ in made], False, progress=False)
        remember(results, [p for p, _, _ in made])
        for result in results:
            level = doctor.OK if result.usable else doctor.ERROR
            message, _, fix = result.sentence().partition(" — ")
            findings.append(doctor.Finding(level, "probe", message, fix or None))
    if args.json:
        emit_json({"ok": not any(f.level == doctor.ERROR for f in findings),
                   "findings": [f.as_dict() for f in findings]})
    else:
        marks = {doctor.OK: "ok  ", doctor.WARN: "warn", doctor.ERROR: "FAIL"}
        for finding in findings:
            out(f"{marks[finding.level]}  {finding.area:<11} {finding}")
    return EXIT_CHECK if any(f.level == doctor.ERROR for f in findings) else EXIT_OK


# --- parser -----------------------------------------------------------------------------------

class _Version(argparse.Action):
    """``--version``: reads the installed metadata only when asked (importlib.metadata is not free)."""

    def __call__(self, parser, namespace, values, option_string=None):
        from . import __version__

        out(f"llmswitch {__version__}")
        parser.exit()


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="llmswitch",
        description="One place to configure LLM providers; every other tool reads the choice. "
                    "Run without arguments to open the picker.",
        epilog="exit codes: 0 ok, 1 a check failed, 2 usage/invalid file, 3 not found, 4 key problem",
    )
    parser.add_argument("--version", action=_Version, nargs=0, help="show the version and exit")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    def command(name: str, func, help: str, **kw) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help, description=help, **kw)
        p.set_defaults(func=func)
        return p

    p = command("current", cmd_current, "show the active model")
    p.add_argument("--role", default="default", help="role to show (default: default)")
    p.add_argument("--all", action="store_true", help="show every role")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.add_argument("--field", help="print one field (model, provider, base_url, …)")

    p = command("use", cmd_use, "make PROVIDER/MODEL active")
    p.add_argument("ref", nargs="?", metavar="PROVIDER/MODEL")
    p.add_argument("--role", default="default", help="role to set: default, small, embedding, …")
    p.add_argument("--unset", action="store_true", help="clear the role instead")

    p = command("list", cmd_list, "list configured providers, a provider's models, or all presets")
    p.add_argument("provider", nargs="?", help="list this provider's models")
    p.add_argument("--presets", action="store_true", help="list every preset (catalog + local servers)")
    p.add_argument("--json", action="store_true")

    p = command("env", cmd_env, "print shell exports for the active model (eval \"$(llmswitch env)\")")
    p.add_argument("--role", default="default")
    p.add_argument("--shell", choices=SHELLS, help="output syntax (default: from $SHELL)")
    p.add_argument("--include-key", action="store_true", help="dotenv only: write the key itself")

    p = command("exec", cmd_exec, "run a command with the active model's environment",
                usage="llmswitch exec [--role ROLE] -- COMMAND [ARGS…]")
    p.add_argument("--role", default="default")
    p.add_argument("command", nargs=argparse.REMAINDER)

    key = command("key", None, "store, print, remove or locate a provider's API key")
    key_sub = key.add_subparsers(dest="key_command", metavar="ACTION", required=True)
    for name, func, help in (("set", cmd_key_set, "store a key in the keyring (read from a hidden prompt or stdin)"),
                             ("get", cmd_key_get, "print the key (for credential helpers)"),
                             ("rm", cmd_key_rm, "delete the key from the keyring"),
                             ("where", cmd_key_where, "show where the key is looked up and which source wins")):
        p = key_sub.add_parser(name, help=help, description=help)
        p.set_defaults(func=func)
        p.add_argument("provider", nargs="?")
        p.add_argument("--role", help="the provider of this role's selection")
        if name == "where":
            p.add_argument("--json", action="store_true")

    prov = command("providers", None, "add, remove or show configured providers")
    prov_sub = prov.add_subparsers(dest="providers_command", metavar="ACTION", required=True)
    p = prov_sub.add_parser("add", help="add a provider from a preset, or a custom one with --base-url")
    p.set_defaults(func=cmd_providers_add)
    p.add_argument("id", help="provider id (a preset id such as openrouter, or your own)")
    p.add_argument("--preset", help="start from this preset")
    p.add_argument("--base-url", dest="base_url")
    p.add_argument("--name")
    p.add_argument("--kind", choices=("openai", "azure", "anthropic"))
    p.add_argument("--key-source", dest="key_source", help='keyring (default), env:VAR, "command:CMD" or none')
    p.add_argument("--header", action="append", help="extra non-secret header 'Name: value' (repeatable)")
    p.add_argument("--favorite", action="append", help="pin a model id (repeatable)")
    p.add_argument("--timeout", type=float)
    p.add_argument("--api-version", dest="api_version", help="Azure api-version")
    p.add_argument("--replace", action="store_true", help="overwrite an existing entry")
    p = prov_sub.add_parser("rm", help="remove a provider from config.toml")
    p.set_defaults(func=cmd_providers_rm)
    p.add_argument("id")
    p.add_argument("--delete-key", action="store_true", help="also delete its key from the keyring")
    p = prov_sub.add_parser("show", help="show a provider's settings and where its key comes from")
    p.set_defaults(func=cmd_providers_show)
    p.add_argument("id")
    p.add_argument("--json", action="store_true")

    cfg = command("config", None, "check the providers file, or show where files live")
    cfg_sub = cfg.add_subparsers(dest="config_command", metavar="ACTION", required=True)
    p = cfg_sub.add_parser("check", help="validate config.toml and active.toml")
    p.set_defaults(func=cmd_config_check)
    p.add_argument("--json", action="store_true")
    p = cfg_sub.add_parser("path", help="print where llmswitch keeps its files")
    p.set_defaults(func=cmd_config_path)
    p.add_argument("--json", action="store_true")

    p = command("probe", cmd_probe, "check each provider's /models and key, concurrently")
    p.add_argument("providers", nargs="*", metavar="PROVIDER", help="default: every configured and active provider")
    p.add_argument("--json", action="store_true")
    p.add_argument("--deep", action="store_true", help="also send a 1-token chat to the selected model (may cost money)")
    p.add_argument("--timeout", type=float, help="seconds per provider (default: its configured timeout)")
    p.add_argument("-v", "--verbose", action="store_true", help="show each request sent (redacted)")

    p = command("doctor", cmd_doctor, "check files, keyring, environment and every provider; say how to fix each problem")
    p.add_argument("--json", action="store_true")
    p.add_argument("--timeout", type=float)
    p.add_argument("--no-probe", action="store_true", help="skip contacting the providers")

    p = command("chat", cmd_chat, "chat with the active model in a line REPL (/model switches)")
    p.add_argument("--role", default="default")

    command("setup", cmd_setup, "open the first-run setup wizard")
    return parser


def cmd_chat(args) -> int:
    from .chat import run_chat

    return run_chat(args)


def cmd_setup(args) -> int:
    from .app import run

    return run(setup=True)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if not argv:
        return open_app()
    parser = build_parser()
    args = parser.parse_args(argv)
    if getattr(args, "func", None) is None:
        parser.print_help()
        return EXIT_OK
    try:
        return args.func(args)
    except Fail as exc:
        sys.stderr.write(f"llmswitch: {exc}\n")
        return exc.code
    except BrokenPipeError:
        return EXIT_OK
    except UnsafeFileError as exc:
        sys.stderr.write(f"llmswitch: {exc}\n")
        return EXIT_USAGE
    except KeyboardInterrupt:
        sys.stderr.write("llmswitch: interrupted\n")
        return 130
    except OSError as exc:
        where = f" {exc.filename}" if exc.filename else ""
        sys.stderr.write(f"llmswitch: could not access{where} ({exc.strerror or exc}) — check permissions and free space\n")
        return EXIT_USAGE


def open_app() -> int:
    """No arguments: the picker in a terminal; help when there is no terminal to draw on."""
    if not (sys.stdin.isatty() and sys.stdout.isatty()):
        build_parser().print_help()
        sys.stderr.write("llmswitch: the picker needs a terminal — run a command above, e.g. llmswitch current\n")
        return EXIT_USAGE
    from .app import run

    return run()


if __name__ == "__main__":
    sys.exit(main())
