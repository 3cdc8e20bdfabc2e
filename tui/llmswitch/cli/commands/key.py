"""``key set|get|rm|where``: a provider's key in the keyring, and where it is looked up."""

from __future__ import annotations

import os
import sys

from ...base.errors import Exit, LlmswitchError
from ..common import load_config
from ..output import emit_json, out, warn

TYPE_CHECKING = False
if TYPE_CHECKING:
    from argparse import ArgumentParser, Namespace

    from ...store.config import ProviderConfig
    from ...store.keys import Resolution

ACTIONS = (("set", "store a key in the keyring (read from a hidden prompt or stdin)"),
           ("get", "print the key (for credential helpers)"),
           ("rm", "delete the key from the keyring"),
           ("where", "show where the key is looked up and which source wins"))


def configure(name: str, parser: ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="key_command", metavar="ACTION", required=True)
    funcs = {"set": cmd_key_set, "get": cmd_key_get, "rm": cmd_key_rm, "where": cmd_key_where}
    for action, help in ACTIONS:
        p = sub.add_parser(action, help=help, description=help)
        p.set_defaults(func=funcs[action])
        p.add_argument("provider", nargs="?")
        p.add_argument("--role", help="the provider of this role's selection")
        if action == "where":
            p.add_argument("--json", action="store_true")


def key_provider(args: Namespace) -> ProviderConfig:
    """The provider named on the command line, or the one of ``--role``'s selection (per config.toml)."""
    if getattr(args, "role", None) and not args.provider:
        from ... import api

        return api.provider_for(api.active(args.role), load_config())  # the role here (shell/project scopes too)
    if not args.provider:
        raise LlmswitchError("name the provider", "e.g. llmswitch key set openrouter", exit_code=Exit.USAGE)
    from ...base.redact import looks_like_secret

    if looks_like_secret(args.provider):
        raise LlmswitchError("that looks like a key itself, and keys are never taken from the command line (it would "
                             "stay in your shell history)",
                             "run: llmswitch key set PROVIDER and paste the key at the prompt", exit_code=Exit.USAGE)
    return load_config().provider(args.provider)


def cmd_key_set(args: Namespace) -> int:
    from ...store import keys

    provider = key_provider(args)
    if sys.stdin.isatty():
        import getpass

        secret = getpass.getpass(f"API key for {provider.name} ({provider.id}), input hidden: ")
    else:
        secret = sys.stdin.read()
    try:
        where = keys.store(provider.id, secret)
    except keys.KeyringUnavailable as exc:  # the way out that works now, as every other surface says it
        from ...base.keyfix import unusable_keyring_fix

        origin = keys.resolve_for(provider).origin
        if origin.keyring_problem is None:
            raise
        raise keys.KeyringUnavailable(exc.cause, unusable_keyring_fix(origin, provider.id),
                                      subject=provider.id) from None
    out(f"stored the {provider.id} key in the keyring ({where.removeprefix('keyring.backends.')})")
    override = keys.override_var(provider.id)
    if os.environ.get(override):
        warn(f"{override} is set in this shell and wins over the keyring — unset it to use the stored key")
    if provider.key_source != "keyring":
        warn(f"{provider.id} has key_source = {provider.key_source_text()!r}, so the keyring is not consulted — "
             f"set key_source = \"keyring\" in config.toml to use the stored key")
    out(f"check it: llmswitch probe {provider.id}")
    return Exit.OK


def cmd_key_get(args: Namespace) -> int:
    from ...store import keyget, keys

    taken = keyget.stamp()  # before config.toml is read: an edit in between leaves no stale reference
    provider = key_provider(args)
    if args.provider:
        keyget.remember_reference(provider, taken)  # the next `key get` finds the key without config.toml
    key = keys.resolve_for(provider).require() or keys.KEYLESS_PLACEHOLDER  # keyless: the documented placeholder
    sys.stdout.write(key + "\n")
    return Exit.OK


def cmd_key_rm(args: Namespace) -> int:
    from ...base.errors import UnknownProvider
    from ...store import keys

    try:
        provider = key_provider(args)
    except UnknownProvider as unknown:
        return _rm_removed(args.provider, unknown)
    if not keys.delete(provider.id):
        raise LlmswitchError(f"no key stored for {provider.id} in the keyring", "nothing was removed",
                             exit_code=Exit.NOT_FOUND)
    out(f"removed the {provider.id} key from the keyring")
    left = keys.resolve_for(provider)
    if left.key is not None:
        warn(f"{provider.id} still gets a key from {left.source} — unset it there too if you meant to remove it")
    return Exit.OK


def _rm_removed(provider_id: str, unknown: Exception) -> int:
    """``key rm`` for an id that is no provider any more (``providers rm`` says to run it): its keyring entry.

    Nothing stored under that id: the unknown-provider error (with its did-you-mean) stands.
    """
    from ...store import keys
    from ...store.config import PROVIDER_ID

    if PROVIDER_ID.match(provider_id) and keys.delete(provider_id):
        out(f"removed the {provider_id} key from the keyring ({provider_id} is no longer a provider)")
        return Exit.OK
    raise unknown


def cmd_key_where(args: Namespace) -> int:
    from ...base.redact import redact_key
    from ...store import keys

    provider = key_provider(args)
    resolution = keys.resolve_for(provider)
    origin = resolution.origin
    if args.json:
        emit_json({
            "provider": provider.id, "source": resolution.source, "found": resolution.key is not None,
            "redacted": redact_key(resolution.key) if resolution.key else None, "required": resolution.required,
            "steps": [{"source": s.source, "found": s.found, "note": s.note} for s in resolution.steps],
            "problems": list(resolution.problems),
            "origin": {"kind": origin.kind, "name": origin.name, "configured": origin.configured,
                       "keyring_problem": origin.keyring_problem},
            "fix": _missing(resolution),
        })
        return Exit.OK
    out(f"{provider.id}: key looked up in this order (first found wins)")
    used_seen = False
    for number, step in enumerate(resolution.steps, start=1):
        mark = "found" if step.found else "not set" if step.source.startswith("env") else "not found"
        if step.note:
            mark = step.note
        used = "  ← used" if step.source == resolution.source and not used_seen else ""
        used_seen = used_seen or bool(used)
        out(f"  {number}. {step.source:<40} {mark}{used}")
    missing = _missing(resolution)
    if resolution.key:
        out(f"key in use: {redact_key(resolution.key)} from {resolution.source}")
    elif missing is not None:
        out(f"no key — {missing}")
    else:  # what the probe does too: it sends no key; tools started by llmswitch get the placeholder
        out(f"no key (optional for {provider.id}): probe sends none; env, exec and client() pass the placeholder "
            f"{keys.KEYLESS_PLACEHOLDER} to tools that insist on one")
    for problem in resolution.problems:
        warn(problem)
    return Exit.OK


def _missing(resolution: Resolution) -> str | None:
    """The fix ``require()`` would raise (None when a key was found or none is needed)."""
    from ...store.keys import KeyProblem

    try:
        resolution.require()
    except KeyProblem as exc:
        return exc.fix
    return None
