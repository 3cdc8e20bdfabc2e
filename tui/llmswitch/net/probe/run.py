"""Running probes: one target (``probe``), many at once (``probe_all``, ``probe_sync``), and the result.

``probe`` asks ``GET {base_url}/models``, diagnoses the answer, looks for the fix
(:mod:`.fixes`), optionally runs the chat check (:mod:`.deep`), and returns a
:class:`ProbeResult` whose every string is terminal-safe and free of the key.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterable, Mapping
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from llmswitch.base import urls
from llmswitch.base.keyfix import missing_fix, no_key_phrase
from llmswitch.base.redact import redact_header, scrub, terminal_safe

from ...base.outcome import LISTED, NOT_THERE, USABLE, Diagnosis, Outcome, ProbeResult, ProbeTarget, ServedContext
from .classifier import MAX_BODY, MESSAGE_LIMIT, ambiguous_fix, json_value, refused_url, scrub_own
from .endpoints import models_url
from .fingerprints import PUBLIC_MODELS_KEY_CHECK, note_impostor
from .fixes import check_key, follow_redirect_once, try_other_base_urls
from .served import from_listing, with_served
from .transport import Exchange, ProbeClient, diagnose, new_client, request_headers, request_retrying
from .verify import ask_keyless, earlier_refusal, recalled, verify_listing

if TYPE_CHECKING:
    from llmswitch.store.state import ModelsGuarded

__all__ = ["cancelled_result", "probe", "probe_all", "probe_sync"]

DEEP_CHECKED = frozenset({Outcome.OK, Outcome.KEYLESS, Outcome.ANY_KEY, Outcome.KEY_UNVERIFIED})
"""Outcomes after which ``deep=True`` sends the chat check (KEY_UNVERIFIED: to settle the key)."""


async def probe(target: ProbeTarget, client: ProbeClient | Any = None, *, deep: bool = False,
                protocols: bool = False) -> ProbeResult:
    """Probe one target. Never raises, except ``asyncio.CancelledError``.

    A server that listed models is also asked what it serves (:func:`.served.with_served`): the context
    windows, and the protocol fingerprint when ``protocols`` or ``deep`` asks for it or none is kept fresh.
    A plain probe takes what an earlier one settled at this URL (:func:`.verify.earlier_refusal`,
    :func:`.verify.recalled`); ``deep`` asks everything again.
    """
    if client is None:
        async with new_client() as own:
            return await probe(target, own, deep=deep, protocols=protocols)
    client = ProbeClient.of(client)  # an httpx.AsyncClient given by a caller is used as it is
    try:
        result = await _probe(target, client, recall=not deep)
        if result.outcome in LISTED and result.models:  # a server that listed models: what does it serve?
            result = await with_served(result, target, client, fingerprint=protocols or deep)
        if deep and result.outcome in DEEP_CHECKED:
            from .deep import with_deep_check  # the chat check: only when asked for

            result = await with_deep_check(result, target, client)
        elif not deep:
            result = recalled(result, target)  # what an earlier probe --deep settled (llmswitch.store.state)
    except asyncio.CancelledError:
        raise
    except Exception as exc:  # last resort: a result, not a traceback
        result = _result(target, Diagnosis(Outcome.AMBIGUOUS, f"probe failed unexpectedly ({type(exc).__name__})",
                                           ambiguous_fix(target)), url=urls.safe(target.base_url))
    return _sanitise(result, target.key)


async def _probe(target: ProbeTarget, client: ProbeClient, *, recall: bool) -> ProbeResult:
    refused = refused_url(target)
    if refused is not None:
        return _result(target, refused, url=urls.safe(target.base_url))

    deadline = asyncio.get_running_loop().time() + max(target.timeout, 0.0)
    # the keyless request that may verify the key starts alongside the keyed one (verify.ask_keyless),
    # unless an earlier probe of this URL saw it refused, recently (verify.earlier_refusal)
    earlier = earlier_refusal(target) if recall else None
    alongside = ask_keyless(client, deadline, target) if (
        target.key is not None and not target.key_check_path and earlier is None) else None
    try:
        return await _probe_models(target, client, deadline, alongside, earlier)
    finally:
        if alongside is not None and not alongside.done():  # not needed: stopped, and nothing is left running
            alongside.cancel()
            await asyncio.wait([alongside])


async def _probe_models(target: ProbeTarget, client: ProbeClient, deadline: float,
                       alongside: asyncio.Task[Exchange] | None, earlier: ModelsGuarded | None) -> ProbeResult:
    headers = request_headers(target)
    url = models_url(target)
    exchange = await request_retrying(client, "GET", url, headers, deadline, target)
    diagnosis = diagnose(exchange, target)
    suggested: str | None = None
    status = exchange.status  # of the answer that decided; the key check's when it decided
    verified: bool | None = None if target.key is None else False
    how: str | None = None
    guarded: bool | None = False if target.key is None and diagnosis.models else None  # listed without a key

    if diagnosis.outcome is Outcome.REDIRECTED and exchange.status is not None:
        diagnosis, suggested = await follow_redirect_once(client, exchange, headers, deadline, target, diagnosis)
    elif target.api_kind != "azure" and (diagnosis.outcome is Outcome.NOT_FOUND or (
            diagnosis.outcome is Outcome.NOT_OPENAI and exchange.error is None and len(exchange.body) <= MAX_BODY)):
        diagnosis, suggested = await try_other_base_urls(client, headers, deadline, target, diagnosis)
    elif diagnosis.outcome in (Outcome.OK, Outcome.MODEL_MISSING) and target.key is not None:
        path = target.key_check_path or PUBLIC_MODELS_KEY_CHECK.get(diagnosis.server or "")
        if path:  # a known key-check endpoint answers for the key
            diagnosis, checked_status = await check_key(client, headers, deadline,
                                                        replace(target, key_check_path=path), diagnosis)
            status = checked_status if checked_status is not None else status
            if diagnosis.outcome in (Outcome.OK, Outcome.MODEL_MISSING):
                verified, how = True, f"key check {path if path.startswith('/') else '/' + path}"
        else:  # the same request without the key tells whether the list proves anything
            verdict = await verify_listing(client, deadline, target, diagnosis, alongside, earlier)
            diagnosis, verified, how, guarded = verdict.diagnosis, verdict.verified, verdict.how, verdict.guarded

    if target.key is None and diagnosis.outcome in (Outcome.SERVER_ERROR, Outcome.AMBIGUOUS):
        diagnosis = _no_key_sent(diagnosis, target)  # the server's trouble first, the missing key beside it
    elif target.key is None and target.key_required and diagnosis.outcome in NOT_THERE:
        # storing a key cannot help while nothing answers: say what is wrong first, the key second
        diagnosis = replace(diagnosis, summary=f"{diagnosis.summary} (and {no_key_phrase(target.key_origin)})")
    elif target.key is None and target.key_required and diagnosis.outcome is not Outcome.AUTH_MISSING:
        diagnosis = replace(diagnosis, outcome=Outcome.AUTH_MISSING,
                            summary=f"{no_key_phrase(target.key_origin)} ({diagnosis.summary})",
                            fix=missing_fix(target.key_origin, target.provider))
    if diagnosis.outcome in (Outcome.OK, Outcome.KEYLESS, Outcome.ANY_KEY) and exchange.latency_ms is not None:
        diagnosis = replace(diagnosis, summary=f"{diagnosis.summary} · {exchange.latency_ms:.0f} ms")
    diagnosis = note_impostor(diagnosis, target)
    served: tuple[ServedContext, ...] = ()
    if diagnosis.outcome in LISTED and suggested is None and exchange.error is None:
        served = from_listing(json_value(exchange.json()), diagnosis.server)
    result = _result(target, diagnosis, url=url, headers=headers, status=status,
                     latency=exchange.latency_ms, suggested=suggested, verified=verified, how=how)
    return replace(result, served=served, models_guarded=guarded)


def add_key_fix(target: ProbeTarget) -> str:
    """How to give this provider a key (the one place the probe's "add a key" words are made)."""
    return missing_fix(target.key_origin, target.provider)


def _no_key_sent(diagnosis: Diagnosis, target: ProbeTarget) -> Diagnosis:
    """A 5xx or an ambiguous answer to a request that carried no key: say both, act on both."""
    stored = f" ({no_key_phrase(target.key_origin)})" if target.key_required else ""
    fix = diagnosis.fix or "read the server's message"
    return replace(diagnosis, summary=f"{diagnosis.summary}; no key was sent{stored}",
                   fix=f"{fix}; if the server wants a key, add one: {add_key_fix(target)}")


async def probe_all(targets: Iterable[ProbeTarget], *, deep: bool = False, concurrency: int = 32,
                    client: ProbeClient | Any = None, protocols: bool = False) -> AsyncIterator[ProbeResult]:
    """Probe all targets concurrently over one client; yield each result as it finishes.

    Leaving the loop early cancels the probes still running (close the
    generator, e.g. with ``contextlib.aclosing``, to make that immediate).
    """
    targets = list(targets)
    own = client is None
    http = new_client(concurrency) if client is None else ProbeClient.of(client)
    gate = asyncio.Semaphore(max(concurrency, 1))

    async def one(target: ProbeTarget) -> ProbeResult:
        async with gate:
            return await probe(target, http, deep=deep, protocols=protocols)

    tasks = [asyncio.ensure_future(one(t)) for t in targets]
    try:
        for finished in asyncio.as_completed(tasks):
            yield await finished
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        if own:
            await http.aclose()


def probe_sync(targets: Iterable[ProbeTarget], *, deep: bool = False) -> list[ProbeResult]:
    """Probe all targets and return the results in the order of ``targets`` (for the CLI).

    Runs its own event loop, so it cannot be called from inside one.
    """
    targets = list(targets)

    async def collect() -> list[ProbeResult]:
        gate = asyncio.Semaphore(32)
        async with new_client() as client:
            async def one(target: ProbeTarget) -> ProbeResult:
                async with gate:
                    return await probe(target, client, deep=deep)
            return list(await asyncio.gather(*(one(t) for t in targets)))

    return asyncio.run(collect())


def cancelled_result(target: ProbeTarget) -> ProbeResult:
    """A CANCELLED result for a target whose probe was abandoned (e.g. superseded in the app)."""
    return _sanitise(_result(target, Diagnosis(Outcome.CANCELLED, "probe cancelled", None),
                             url=urls.safe(models_url(target))), target.key)


def _result(target: ProbeTarget, diagnosis: Diagnosis, *, url: str, headers: Mapping[str, str] | None = None,
            status: int | None = None, latency: float | None = None, suggested: str | None = None,
            verified: bool | None = None, how: str | None = None) -> ProbeResult:
    shown = {k: redact_header(k, v) for k, v in (headers or {}).items() if k.lower() != "user-agent"}
    sent = target.key is not None
    origin = target.key_origin.label() if sent and target.key_origin is not None else None
    return ProbeResult(
        provider=terminal_safe(target.provider), outcome=diagnosis.outcome,
        usable=diagnosis.outcome in USABLE, summary=diagnosis.summary, fix=diagnosis.fix, url=urls.safe(url),
        request_headers=shown, status_code=status, latency_ms=latency, models=diagnosis.models,
        server_message=diagnosis.server_message, server=diagnosis.server, suggested_base_url=suggested,
        key_source=origin, key_verified=(bool(verified) if sent else None), verified_by=how if sent else None)


def _sanitise(result: ProbeResult, key: str | None) -> ProbeResult:
    """Last line of defence: no field of a result may contain the key or control characters.

    Server text (message, model ids, the reported model) loses the key whatever its length;
    our own sentences lose keys that cannot be a word of ours (``classifier.scrub_own``).
    """

    def own(value: str | None, limit: int | None = None) -> str | None:
        return None if value is None else terminal_safe(scrub_own(value, key), limit)

    def theirs(value: str | None, limit: int | None = None) -> str | None:
        return None if value is None else terminal_safe(scrub(value, key), limit)

    deep = result.deep
    if deep is not None:
        deep = replace(deep, reported_model=theirs(deep.reported_model), message=theirs(deep.message))
    return replace(
        result, provider=own(result.provider) or "", summary=own(result.summary) or "", fix=own(result.fix),
        url=own(result.url) or "", server_message=theirs(result.server_message, MESSAGE_LIMIT),
        key_source=own(result.key_source), verified_by=own(result.verified_by),
        server=own(result.server), suggested_base_url=own(result.suggested_base_url),
        request_headers={own(k) or "": own(v) or "" for k, v in result.request_headers.items()},
        models=tuple(theirs(m) or "" for m in result.models), deep=deep,
        served=tuple(replace(c, model=theirs(c.model) or "") for c in result.served))
