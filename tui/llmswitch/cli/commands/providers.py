"""``providers add|rm|show``: edit and show config.toml's providers."""

from __future__ import annotations

from ...base.errors import Exit, LlmswitchError
from ..common import load_config
from ..output import as_problem, emit_json, out, warn

TYPE_CHECKING = False
if TYPE_CHECKING:
    from argparse import ArgumentParser, Namespace
    from typing import Any

    from ...base.errors import Problem
    from ...store.catalog import Preset
    from ...store.config import ProviderConfig
    from ...store.keydecision import KeyDecision

_FLAGS = {"base_url": "--base-url", "kind": "--kind", "key_source": "--key-source", "headers": "--header",
          "favorites": "--favorite", "timeout": "--timeout", "api_version": "--api-version", "name": "--name",
          "preset": "--preset"}


def configure(name: str, parser: ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="providers_command", metavar="ACTION", required=True)
    p = sub.add_parser("add", help="add a provider from a preset, or a custom one with --base-url")
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
    p = sub.add_parser("rm", help="remove a provider from config.toml")
    p.set_defaults(func=cmd_providers_rm)
    p.add_argument("id")
    p.add_argument("--delete-key", action="store_true", help="also delete its key from the keyring")
    p = sub.add_parser("show", help="show a provider's settings and where its key comes from")
    p.set_defaults(func=cmd_providers_show)
    p.add_argument("id")
    p.add_argument("--json", action="store_true")


def cmd_providers_add(args: Namespace) -> int:
    from ...store import catalog
    from ...store.config import ConfigError, add_provider

    preset = catalog.preset(args.preset or args.id)
    if args.preset and preset is None:
        raise LlmswitchError(f"unknown preset {args.preset!r}", "run: llmswitch list --presets",
                             exit_code=Exit.NOT_FOUND)
    if preset is None and not args.base_url:
        import difflib

        close = difflib.get_close_matches(args.id, catalog.preset_ids(), n=2, cutoff=0.6)
        hint = f"did you mean {' or '.join(close)}? Otherwise " if close else ""
        raise LlmswitchError(f"{args.id!r} is not a preset", f"{hint}give its URL: llmswitch providers add {args.id} "
                             f"--base-url URL (or --preset ID)", exit_code=Exit.USAGE)
    settings: dict[str, Any] = {}
    if preset is not None and preset.id != args.id:
        settings["preset"] = preset.id
    if args.base_url is not None:
        from ...base import urls

        found = urls.problem(args.base_url, args.id)
        if found is not None:
            raise LlmswitchError(found[0], found[1], subject="--base-url", exit_code=Exit.USAGE)
        args.base_url = urls.normalize(args.base_url, args.id)
    for name in ("name", "kind", "base_url", "key_source", "timeout", "api_version"):
        value = getattr(args, name)
        if value is not None:
            settings[name] = value
    if args.header:
        headers = {}
        for item in args.header:
            name, sep, value = item.partition(":") if ":" in item else item.partition("=")
            if not sep or not name.strip():
                raise LlmswitchError(f"--header {item!r} is not a header", "write it as 'Name: value'",
                                     exit_code=Exit.USAGE)
            headers[name.strip()] = value.strip()
        settings["headers"] = headers
    if args.favorite:
        settings["favorites"] = args.favorite
    decision, result = _key_decision(args, preset, settings)
    settings.update(decision.settings())  # the one decision (llmswitch.store.keydecision), written where it is read
    try:
        config = add_provider(args.id, settings, replace=args.replace)
    except ConfigError as exc:
        raise LlmswitchError("nothing was written", None, subject=f"providers add {args.id}", exit_code=Exit.USAGE,
                             problems=[as_flag_problem(p, args.id) for p in exc.problems]) from None
    provider = config.providers[args.id]
    if result is not None and provider.base_url:
        from ...store import state

        state.remember(result, provider.base_url)
    named = f" ({provider.name})" if provider.name != provider.id else ""
    out(f"added {provider.id}{named} → {provider.base_url}  [{config.path}]")
    if args.key_source and decision.source != args.key_source:
        out(f"key: {decision.why}, so it is read from ${decision.variable} (key_source = \"{decision.source}\")")
    elif result is not None:
        out(f"key: {decision.why}" + ("" if decision.source == "none" else f' (key_source = "{decision.source}")'))
    for problem in config.warnings:
        if problem.key and problem.key.startswith(f"providers.{args.id}."):
            found = as_problem(problem)
            warn(f"{args.id}: {found.cause}" + (f" — {found.fix}" if found.fix else ""))
    if provider.key_source == "keyring" and provider.key_required:
        out(f"store its key: llmswitch key set {provider.id}")
    elif provider.key_source == "env" and provider.key_required and provider.key_env:
        out(f"put its key in ${provider.key_env[0]}: export {provider.key_env[0]}=<the key>")
    out(f"check it:      llmswitch probe {provider.id}")
    return Exit.OK


def _key_decision(args: Namespace, preset: Preset | None, settings: dict[str, Any]) -> tuple[KeyDecision, Any]:
    """The key lines to write, and the keyless look at a server on this machine whose need is not known yet.

    A server here that nobody has asked is asked once, briefly, without a key (and with a wrong one when its
    answer does not say): a LiteLLM proxy with a master key is recorded as wanting one, llama.cpp as not.
    """
    import asyncio

    from ...base import urls
    from ...store import state
    from ...store.keydecision import decide_for, keyring_works

    base_url = settings.get("base_url") or (preset.resolved_base_url() if preset else None)
    result = None
    hosted = preset is not None and preset.key_required
    if (not args.key_source and base_url and not hosted and urls.is_local(base_url)
            and settings.get("kind", preset.kind if preset else "openai") == "openai"
            and state.learned_key(args.id, base_url) is None):
        result = asyncio.run(_keyless_look(args.id, base_url))
    decision = decide_for(args.id, base_url=base_url, preset=preset.id if preset else None, chosen=args.key_source,
                          result=result, keyring_ok=keyring_works())
    return decision, result


async def _keyless_look(provider_id: str, base_url: str) -> Any:
    from ...base.outcome import NOT_THERE, ProbeTarget
    from ...net.probe import probe
    from ...services.addurl import asked_with_a_key

    target = ProbeTarget(provider=provider_id, base_url=base_url, key=None, key_required=False, timeout=3.0)
    result = await probe(target)
    return None if result.outcome in NOT_THERE else await asked_with_a_key(target, result)


def as_flag_problem(problem: Any, provider_id: str) -> Problem:
    """A problem with the entry being added, phrased for the command line (the file was not written)."""
    converted: Problem = as_problem(problem)
    prefix = f"providers.{provider_id}."
    if not converted.key or not converted.key.startswith(prefix):
        return converted
    from ...base.errors import Problem

    field = converted.key.removeprefix(prefix).split(".", 1)[0]
    fix = "add --api-version 2024-10-21" if field == "api_version" else converted.fix
    return Problem(converted.cause, fix, key=_FLAGS.get(field, field), severity=converted.severity)


def cmd_providers_rm(args: Namespace) -> int:
    from ...store import keys
    from ...store.config import remove_provider

    remove_provider(args.id)
    out(f"removed {args.id} from config.toml")
    if args.delete_key:
        removed = keys.delete(args.id)
        out("removed its key from the keyring" if removed else "no key was stored for it")
    else:
        out(f"its key (if any) stays in the keyring — remove it with: llmswitch key rm {args.id}")
    from ...base.errors import SelectionError
    from ...store.selection import read_all

    try:
        for sel in read_all().values():
            if sel.provider == args.id:
                warn(f"role {sel.role} still uses {sel.ref} — pick another: llmswitch use --role {sel.role} PROVIDER/MODEL")
    except SelectionError:
        pass
    return Exit.OK


def provider_dict(provider: ProviderConfig) -> dict[str, Any]:
    """A provider's settings as data; ``local`` is true for a local preset or any server on this machine."""
    from ...base.urls import is_loopback

    return {
        "id": provider.id, "name": provider.name, "kind": provider.kind, "base_url": provider.base_url,
        "preset": provider.preset, "configured": provider.configured, "key_source": provider.key_source_text(),
        "key_env": list(provider.key_env), "key_required": provider.key_required, "headers": provider.headers,
        "favorites": list(provider.favorites), "timeout": provider.timeout,
        "local": provider.local or bool(provider.base_url and is_loopback(provider.base_url)),
    }


def cmd_providers_show(args: Namespace) -> int:
    from ...store import keys

    provider = load_config().provider(args.id)
    resolution = keys.resolve_for(provider)
    data = provider_dict(provider)
    data["key_found_in"] = resolution.source
    if args.json:
        emit_json(data)
        return Exit.OK
    for name, value in data.items():
        if isinstance(value, (list, tuple)):
            value = ", ".join(value) or "-"
        elif isinstance(value, dict):
            value = ", ".join(f"{k}: {v}" for k, v in value.items()) or "-"
        elif isinstance(value, bool):
            value = "yes" if value else "no"
        out(f"{name:<13} {value if value is not None else '-'}")
    return Exit.OK
