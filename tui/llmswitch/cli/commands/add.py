"""``add URL``: probe a server, name it from the software that answered, add it; a key only if it wants one."""

from __future__ import annotations

import os
import sys

from ...base.errors import Exit, LlmswitchError
from ..common import load_config
from ..output import emit_json, out, warn

TYPE_CHECKING = False
if TYPE_CHECKING:
    from argparse import ArgumentParser, Namespace
    from pathlib import Path

    from ...base.outcome import ProbeResult
    from ...services.addurl import Examined
    from ...store.config import ProviderConfig


def configure(name: str, parser: ArgumentParser) -> None:
    parser.add_argument("url", metavar="URL", help="the server: a base URL, host:port, or a port on this machine")
    parser.add_argument("--id", dest="pid", help="provider id (default: the software's preset id, or from the host)")
    parser.add_argument("--name", help="display name (default: the software that answered)")
    parser.add_argument("--key-env", dest="key_env", metavar="VAR",
                        help="if the server wants a key, read it from this environment variable (not the keyring)")
    parser.add_argument("--timeout", type=float, default=5.0, help="seconds the probe may take (default 5)")
    parser.add_argument("--json", action="store_true", help="machine-readable output")
    parser.set_defaults(func=cmd_add)


def _refuse_unusable(found: Examined) -> None:
    from ...base.outcome import FOUND

    result = found.result
    if not found.answered:
        raise LlmswitchError(f"nothing answers at {found.given} ({result.summary})",
                             result.fix or "start the server, or check the URL and port", exit_code=Exit.CHECK)
    if result.outcome not in FOUND:
        raise LlmswitchError(f"{found.given} does not answer like an OpenAI-compatible API ({result.summary})",
                             result.fix or "check the URL (it usually ends in /v1)", exit_code=Exit.CHECK)


def cmd_add(args: Namespace) -> int:
    import asyncio
    from dataclasses import replace

    from ...services import addurl
    from ...store import keys, state
    from ...store.config import ConfigError, add_provider, check_env_name, load
    from ...store.keydecision import decide_for, keyring_works

    if args.key_env and (problem := check_env_name(args.key_env)):
        raise LlmswitchError(f"--key-env: {problem}", "name the variable that holds the key, e.g. MY_SERVER_API_KEY",
                             exit_code=Exit.USAGE)
    config = load_config()
    found = asyncio.run(addurl.examine(args.url, taken=config.providers, timeout=args.timeout))
    _refuse_unusable(found)
    same = next((p.id for p in config.providers.values() if p.base_url == found.base_url), None)
    if same is not None:
        raise LlmswitchError(f"{found.base_url} is already configured as {same}",
                             f"see it: llmswitch providers show {same}", exit_code=Exit.USAGE)
    if args.pid or args.name:
        found = replace(found, pid=args.pid or found.pid, name=args.name or found.name)
    settings = addurl.settings_for(found)
    secret = None
    keyring_ok = keyring_works()
    chosen = f"env:{args.key_env}" if found.wants_key and args.key_env else None
    if found.wants_key and not chosen and keyring_ok and sys.stdin.isatty() and not args.json:
        import getpass

        secret = getpass.getpass(f"{found.name} wants an API key for {found.pid} (input hidden; Enter skips): ").strip()
    if found.wants_key:  # before anything is written: a URL that answers only "not found" once the key is sent
        found = _check_with_key(found, secret or (os.environ.get(args.key_env) if args.key_env else None), args.timeout)
        if (same := next((p.id for p in config.providers.values() if p.base_url == found.base_url), None)):
            raise LlmswitchError(f"{found.base_url} is already configured as {same}",
                                 f"see it: llmswitch providers show {same}", exit_code=Exit.USAGE)
        settings["base_url"] = found.base_url
    if secret:
        keys.store(found.pid, secret)  # first: a keyring that fails leaves nothing written
        secret = None
    decision = decide_for(found.pid, base_url=found.base_url, preset=found.preset, chosen=chosen,
                          result=found.result, keyring_ok=keyring_ok)
    settings.update(decision.settings())  # the one decision: keyring, env:VAR where none works, or none
    try:
        config = add_provider(found.pid, settings)
    except ConfigError as exc:
        raise LlmswitchError("nothing was written", "choose another id with --id ID" if found.pid in config.providers
                             else None, subject=f"add {found.pid}", exit_code=Exit.USAGE,
                             problems=list(exc.problems)) from None
    result = replace(found.result, provider=found.pid)
    state.remember(result, found.base_url)  # what it said about keys is learned (llmswitch.store.state.needs_key)
    provider = load().provider(found.pid)  # with what the probe taught (key_required)
    if found.wants_key:  # the fix printed is the one for the key source written (keyfix), followed in one step
        result = _probe_with_key(provider)
    return _report(found, provider, result, config.path, as_json=args.json)


def _check_with_key(found: Examined, key: str | None, timeout: float) -> Examined:
    """Ask once with the key a server wants: where the answer is ``not_found`` (a proxy that checks keys before
    routes, at ``…/api/v1``), take the base URL that answered instead, else refuse — nothing is written."""
    import asyncio
    from dataclasses import replace

    from ...base.outcome import Outcome, ProbeTarget
    from ...net.probe.run import probe

    if not key:
        return found
    target = ProbeTarget(provider=found.pid, base_url=found.base_url, key=key, key_required=True,
                         timeout=timeout, preset=found.preset)
    result = asyncio.run(probe(target))
    if result.outcome is not Outcome.NOT_FOUND:
        return found
    if result.suggested_base_url:
        return replace(found, base_url=result.suggested_base_url)
    raise LlmswitchError(f"{found.base_url} answers \"not found\" once the key is sent ({result.summary}), "
                         f"so nothing was added", result.fix, exit_code=Exit.CHECK)


def _probe_with_key(provider: ProviderConfig) -> ProbeResult:
    import asyncio

    from ...net.probe.run import probe
    from ...net.probe.targets import for_provider
    from ...store import state

    target, _ = for_provider(provider)
    result = asyncio.run(probe(target))
    state.remember(result, target.base_url)
    return result


def _report(found: Examined, provider: ProviderConfig, result: ProbeResult, path: Path, *, as_json: bool) -> int:
    key_missing = provider.key_required and not result.usable and found.wants_key
    if as_json:
        emit_json({"provider": provider.id, "name": provider.name, "base_url": provider.base_url,
                   "given": found.given, "preset": found.preset, "server": found.result.server,
                   "outcome": result.outcome.value, "usable": result.usable, "wants_key": found.wants_key,
                   "key_required": provider.key_required, "models": list(result.models)})
        return Exit.OK
    named = f" ({provider.name})" if provider.name != provider.id else ""
    out(f"added {provider.id}{named} → {provider.base_url}  [{path}]")
    if found.fixed:
        out(f"  {found.given} is not the API root; {found.base_url} answered, so that is the base URL")
    out(f"  probe: {result.verdict} {result.summary}")
    if key_missing and result.fix:
        out(f"  the server wants a key — {result.fix}")
    elif not result.usable and result.fix:
        warn(f"{provider.id}: {result.fix}")
    if result.models:
        out(f"use it: llmswitch use {provider.id}/{result.models[0]}")
    return Exit.OK
