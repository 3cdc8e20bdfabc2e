"""``probe`` (each provider's /models and key, concurrently) and ``doctor`` (files, keyring, environment, probes)."""

from __future__ import annotations

import sys

from ...base.errors import Exit, LlmswitchError
from ..common import load_config
from ..output import emit_json, out, warn

TYPE_CHECKING = False
if TYPE_CHECKING:
    from argparse import ArgumentParser, Namespace
    from typing import Any

    from ...base.outcome import ProbeResult, ProbeTarget
    from ...store.config import Config, ProviderConfig


def configure(name: str, parser: ArgumentParser) -> None:
    if name == "probe":
        parser.add_argument("providers", nargs="*", metavar="PROVIDER",
                            help="default: every configured and active provider")
        parser.add_argument("--json", action="store_true")
        parser.add_argument("--deep", action="store_true",
                            help="also send a 1-token chat (may cost money) to the provider's selected model, else "
                                 "to the first model it lists; the verdict is remembered by later probes")
        parser.add_argument("--protocols", action="store_true",
                            help="check again which protocols the server serves (chat, responses, messages, "
                                 "count_tokens, embeddings, gemini) with requests that cannot cost money; the "
                                 "first probe of a base URL does it anyway, and the answer is kept a day")
        parser.add_argument("--model", metavar="MODEL", help="the model to check (and to chat with under --deep)")
        parser.add_argument("--timeout", type=float, help="seconds per provider (default: its configured timeout)")
        parser.add_argument("-v", "--verbose", action="store_true", help="show each request sent (redacted)")
        parser.set_defaults(func=cmd_probe)
    else:
        parser.add_argument("--json", action="store_true")
        parser.add_argument("--timeout", type=float)
        parser.add_argument("--no-probe", action="store_true", help="skip contacting the providers")
        parser.set_defaults(func=cmd_doctor)


Made = tuple["ProviderConfig", "ProbeTarget", "str | None"]


def probe_targets(config: Config, provider_ids: list[str], timeout: float | None,
                  model: str | None = None) -> list[Made]:
    """ProbeTargets for the named providers (default: configured + active ones), with key problems.

    Each is asked about ``model`` when given, else its selected model (any role), else none (``--deep``
    then chats with the first model the server lists)."""
    from ...base.errors import SelectionError
    from ...net.probe.targets import for_provider
    from ...store.selection import read_all

    try:
        roles = read_all()
    except SelectionError:
        roles = {}
    selected = {sel.provider: sel.model for sel in reversed(list(roles.values()))}
    ids = provider_ids or list(dict.fromkeys([*config.providers, *selected]))
    if not ids:
        raise LlmswitchError("no providers configured",
                             "add one: llmswitch providers add openrouter (or run: llmswitch setup)",
                             exit_code=Exit.NOT_FOUND)
    made: list[Made] = []
    for pid in ids:
        provider = config.provider(pid)
        if not provider.base_url:
            raise LlmswitchError(f"{pid} has no base_url", f"run: llmswitch providers add {pid} --base-url URL",
                                 exit_code=Exit.USAGE)
        target, problem = for_provider(provider, model or selected.get(provider.id), timeout or None)
        made.append((provider, target, problem))
    return made


def run_probes(targets: list[ProbeTarget], deep: bool, progress: bool, protocols: bool = False) -> list[ProbeResult]:
    """Probe concurrently; on a terminal, print each result to stderr as it arrives."""
    import asyncio

    from ...net.probe import probe_all

    async def collect() -> list[ProbeResult]:
        results: dict[str, ProbeResult] = {}
        async for result in probe_all(targets, deep=deep, protocols=protocols):
            results[result.provider] = result
            if progress:
                mark = result.verdict
                sys.stderr.write(f"  [{len(results)}/{len(targets)}] {mark} {result.provider}: {result.summary}\n")
                sys.stderr.flush()
        return [results[t.provider] for t in targets]

    if progress:
        sys.stderr.write(f"probing {len(targets)} provider{'s' if len(targets) != 1 else ''}…\n")
    return asyncio.run(collect())


def remember(results: list[ProbeResult], providers: list[ProviderConfig]) -> None:
    """Keep what the probes listed (the one rule is :func:`llmswitch.store.state.remember`)."""
    from ...store import state

    for result, provider in zip(results, providers, strict=True):
        try:
            state.remember(result, provider.base_url)
        except OSError:
            pass  # the cache is a convenience


def with_known_servers(results: list[ProbeResult], providers: list[ProviderConfig]) -> list[ProbeResult]:
    """The SERVER column: when this answer did not say which software answered, what an earlier probe of the
    same URL recognised, marked ``(earlier)`` (``--json`` keeps ``server`` to what this probe saw)."""
    from dataclasses import replace

    from ...store import state

    shown = []
    for result, provider in zip(results, providers, strict=True):
        known = state.known_server(provider.id, provider.base_url) if result.server is None else None
        shown.append(replace(result, server=f"{known} (earlier)") if known else result)
    return shown


def cmd_probe(args: Namespace) -> int:
    from ...base.outcome import AUTH
    from ...net.probe import render_json, render_table

    config = load_config()
    made = probe_targets(config, args.providers, args.timeout, args.model)
    results = run_probes([t for _, t, _ in made], args.deep, progress=sys.stderr.isatty() and not args.json,
                         protocols=args.protocols)
    remember(results, [p for p, _, _ in made])
    views = [served_view(provider, target, result) for (provider, target, _), result in zip(made, results, strict=True)]
    if args.json:
        emit_json([{**row, "model": view.model if view else None, **(view.as_dict() if view else EMPTY_CONTEXT)}
                   for row, view in zip(render_json(results), views, strict=True)])
    else:
        notes = {result.provider: context_notes(view) for result, view in zip(results, views, strict=True) if view}
        out(render_table(with_known_servers(results, [p for p, _, _ in made]), verbose=args.verbose, notes=notes))
        for result, (_, _, problem) in zip(results, made, strict=True):
            if problem and (result.outcome in AUTH or result.fix and "key set" in result.fix):
                warn(f"{result.provider}: {problem}")  # `key set` alone cannot help while this is so
    return Exit.OK if all(r.usable for r in results) else Exit.CHECK


EMPTY_CONTEXT = {"context_served": None, "context_catalog": None, "context_served_source": None,
                 "context_catalog_source": None, "context_served_age": None}
"""The context fields of a result that names no model."""


def served_view(provider: ProviderConfig, target: ProbeTarget, result: ProbeResult) -> Any:
    """The context view (:func:`llmswitch.services.served.context_view`) of the probe's model: the one asked
    about, else the one model the server listed; None when there is none."""
    from ...services.served import context_view

    model = target.model or (result.models[0] if len(result.models) == 1 else None)
    return context_view(provider, model) if model else None


def context_notes(view: Any) -> list[str]:
    """``context: served 512 of 4k (server: llama.cpp /props n_ctx)`` and its warning, for the table."""
    line = view.line()
    if not line:
        return []
    notes = [f"context: {view.model} {line}" + (f" ({view.served_source})" if view.served_source else "")]
    warning = view.warning()
    return notes + ([f"warning: {warning}"] if warning else [])


def cmd_doctor(args: Namespace) -> int:
    from ...services import doctor

    findings = doctor.file_findings()
    config_findings: Any = doctor.config_findings  # untyped in doctor.py: (findings, Config | None, roles)
    config_found, config, roles = config_findings()
    findings += config_found + doctor.keyring_findings() + doctor.environment_findings(roles)
    findings += doctor.connection_findings(config, check=not args.no_probe)  # connected tools' drift (connect)
    if config is not None and (config.providers or roles) and not args.no_probe:
        made = probe_targets(config, [], args.timeout)
        results = run_probes([t for _, t, _ in made], False, progress=False)
        remember(results, [p for p, _, _ in made])
        for result in results:  # a key nobody could verify is a warning: probe --deep settles it
            level = doctor.OK if result.usable else doctor.WARN if result.outcome == "key_unverified" else doctor.ERROR
            findings.append(doctor.Finding(level, "probe", result.sentence(with_fix=False), result.fix))
        findings += doctor.gateway_findings(config)
    failed = any(f.level == doctor.ERROR for f in findings)
    if args.json:
        emit_json({"ok": not failed, "findings": [f.as_dict() for f in findings]})
    else:
        marks = {doctor.OK: "ok  ", doctor.WARN: "warn", doctor.ERROR: "FAIL"}
        for finding in findings:
            out(f"{marks[finding.level]}  {finding.area:<11} {finding}")
    return Exit.CHECK if failed else Exit.OK
