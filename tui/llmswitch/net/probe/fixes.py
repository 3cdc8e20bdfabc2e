"""After the first answer: look for the fix the person needs.

* a miss (404, HTML, not JSON) → try the usual slips of base URL and say which one answers;
* a redirect → look at a same-origin destination once; never request another origin;
* ``/models`` public (OpenRouter) → verify the key at ``key_check_path`` so a bad key never looks fine.

Each takes the target's deadline; none raises.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from urllib.parse import unquote, urljoin, urlsplit

from llmswitch.base import urls
from llmswitch.base.redact import redact_secrets, terminal_safe

from ...base.outcome import AUTH, FOUND, Diagnosis, Outcome, ProbeTarget
from .classifier import ambiguous_fix, classify, cross_origin_redirect
from .transport import (
    Exchange,
    ProbeClient,
    diagnose,
    diagnose_error,
    is_timeout,
    request,
    request_headers,
    request_retrying,
)

__all__ = ["check_key", "follow_redirect_once", "try_other_base_urls"]


async def follow_redirect_once(client: ProbeClient, exchange: Exchange, headers: Mapping[str, str],
                               deadline: float, target: ProbeTarget,
                               diagnosis: Diagnosis) -> tuple[Diagnosis, str | None]:
    """Diagnose a redirect: look at a same-origin target once; never request another origin."""
    status = exchange.status
    location = exchange.headers.get("location")
    if not location:
        return replace(diagnosis, summary=f"redirected (HTTP {status}) without a Location"), None
    try:
        destination = urljoin(exchange.url, location.strip())
        parts = urlsplit(destination)
        parts.port  # noqa: B018 - a malformed port raises here
    except ValueError:
        return replace(diagnosis, summary=f"redirected (HTTP {status}) to an invalid address"), None
    if parts.username is not None or parts.password is not None or (
            urls.origin(destination) != urls.origin(target.base_url)):
        summary, fix, elsewhere = cross_origin_redirect(status, destination)
        return replace(diagnosis, summary=summary, fix=fix), elsewhere
    follow = await request(client, "GET", destination, headers, deadline, target)
    there = diagnose(follow, target)
    path_from, path_to = unquote(urlsplit(exchange.url).path), redact_secrets(unquote(parts.path))
    summary = f"redirected (HTTP {status}) from {path_from} to {path_to}"
    if there.outcome is Outcome.REDIRECTED:
        summary += ", which redirects again"
    elif there.outcome in FOUND:
        summary += f", which answers: {there.summary}"
    else:
        summary += f", which fails: {there.summary}"
    dest_base = urls.base_for(redact_secrets(urls.safe(destination)))
    if dest_base and dest_base != target.base_url:
        fix = f"change base_url to {dest_base} in config.toml"
        suggested: str | None = dest_base
    else:
        fix = ("the server redirects to a trailing-slash path, which clients may not follow (a POST can turn into a "
               "GET); point base_url at an address that answers directly, or fix the redirect in the server/proxy")
        suggested = None
    return replace(diagnosis, summary=terminal_safe(summary, 300), fix=fix, models=there.models,
                   server=diagnosis.server or there.server), suggested


async def try_other_base_urls(client: ProbeClient, headers: Mapping[str, str], deadline: float,
                              target: ProbeTarget, diagnosis: Diagnosis) -> tuple[Diagnosis, str | None]:
    """After a miss, try the usual slips (``/v1`` missing or doubled, trailing slash, the origin's ``/v1`` for
    ``…/api/v1``) and say which works; when none does, say where nothing answered."""
    tried: list[str] = []
    for base in urls.alternative_bases(target.base_url):
        alt_target = replace(target, base_url=base)
        exchange = await request(client, "GET", urls.join(base, "/models"), headers, deadline, target)
        if exchange.error is not None:
            if is_timeout(exchange.error):
                break
            continue
        there = classify(exchange.status, exchange.headers, exchange.body, target=alt_target)
        if there.outcome in (Outcome.SERVER_ERROR, Outcome.AMBIGUOUS) and target.key is None:
            there = await _wants_a_key(client, deadline, alt_target, there, exchange.status)
        if there.outcome not in FOUND:
            if there.outcome in (Outcome.NOT_FOUND, Outcome.NOT_OPENAI):  # a miss, not a server in trouble
                tried.append(urlsplit(base).path or "/")
            continue
        if there.outcome in AUTH and there.outcome is not Outcome.AUTH_MISSING or (
                there.outcome is Outcome.AUTH_MISSING and target.key is not None):
            extra, fix = f"{base} answers, but: {there.summary}", (
                f"change base_url to {base} in config.toml, then {there.fix}")
        else:
            extra, fix = f"{base} answers: {there.summary}", f"change base_url to {base} in config.toml"
        summary = f"{diagnosis.summary}; {extra}"
        return replace(diagnosis, summary=summary, fix=fix, models=there.models,
                       server=diagnosis.server or there.server), base
    if diagnosis.outcome is Outcome.NOT_FOUND and tried and urls.ends_in_v1(target.base_url):
        asked = " or ".join(f"{path.rstrip('/')}/models" for path in tried)
        diagnosis = replace(diagnosis, summary=terminal_safe(f"{diagnosis.summary}, nor at {asked}", 300))
    return diagnosis, None


async def _wants_a_key(client: ProbeClient, deadline: float, target: ProbeTarget, keyless: Diagnosis,
                       status: int | None) -> Diagnosis:
    """A keyless request failed there (the LiteLLM proxy answers one with a 500): ask once with a deliberately
    wrong key. Refused → a server that wants a key answers at this base URL; else the keyless answer stands."""
    from .verify import WRONG_KEY

    asked = replace(target, key=WRONG_KEY)
    exchange = await request(client, "GET", urls.join(target.base_url, "/models"), request_headers(asked), deadline,
                             asked)
    if exchange.error is not None:
        return keyless
    refused = classify(exchange.status, exchange.headers, exchange.body, target=asked)
    if exchange.status not in (401, 403) and refused.outcome not in AUTH:
        return keyless
    return replace(refused, outcome=Outcome.AUTH_MISSING, fix=keyless.fix,
                   summary=f"wants a key (without one it answers HTTP {status})")


async def check_key(client: ProbeClient, headers: Mapping[str, str], deadline: float,
                    target: ProbeTarget, diagnosis: Diagnosis) -> tuple[Diagnosis, int | None]:
    """``/models`` is public here: ask ``key_check_path`` so a bad key never looks fine.

    Returns the diagnosis and, when the key check decided it, that answer's status.
    """
    path = target.key_check_path or ""
    path = path if path.startswith("/") else "/" + path
    url = urls.join(target.base_url, path)
    exchange = await request_retrying(client, "GET", url, headers, deadline, target)
    if exchange.error is not None:
        failed = diagnose_error(exchange.error, target, url)
        return replace(failed, summary=f"key check at {path} failed: {failed.summary}", models=diagnosis.models,
                       server=diagnosis.server), None
    status = exchange.status or 0
    if 200 <= status < 300:
        return replace(diagnosis, summary=f"{diagnosis.summary} · key verified"), None
    there = classify(exchange.status, exchange.headers, exchange.body, target=replace(target, model=None))
    if there.outcome in AUTH or there.outcome is Outcome.RATE_LIMITED:
        return replace(there, summary=f"{there.summary} (checked at {path})", models=diagnosis.models,
                       server=diagnosis.server or there.server), status
    return replace(there, outcome=Outcome.AMBIGUOUS, models=diagnosis.models, server=diagnosis.server,
                   summary=f"models listed, but the key check at {path} answered HTTP {status}: {there.summary}",
                   fix=ambiguous_fix(target)), status
